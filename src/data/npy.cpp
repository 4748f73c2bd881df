// data/npy.cpp — NumPy .npy files and directories of them.
//
// Format (numpy's NEP 1, "A simple file format for NumPy arrays"): the 6 bytes "\x93NUMPY", a
// major and a minor version byte, the header length (uint16 little-endian in version 1.0, uint32
// in 2.0 and 3.0), then that many bytes of header: a Python dict literal with the keys 'descr'
// (the dtype, e.g. '<f8'), 'fortran_order' (a bool) and 'shape' (a tuple of ints), padded with
// spaces and ended by '\n' (latin-1 in 1.0/2.0, UTF-8 in 3.0). The raw array data follows.
#include "parafit/npy.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "data/column_memory.h"
#include "data/csv_text.h"
#include "data/mapped_file.h"
#include "io/atomic_file.h"
#include "data/shard_range.h"
#include "parafit/error.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;
using detail::CsvText;

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
constexpr std::size_t kAlign = 64;          // numpy pads the header to a multiple of this
constexpr std::size_t kGrowthDigits = 21;   // numpy leaves room for a length of this many digits
constexpr int kMaxNesting = 16;             // deeper literals are not a numpy header

[[noreturn]] void fail(const std::string& path, std::string_view message) {
  throw Error(fmt::format("{}: {}", path, message));
}

std::string shown(std::string_view text) {
  return CsvText::excerpt(text.data(), text.data() + text.size());
}

// --- The header dict ----------------------------------------------------------------------------

// A value of the small part of Python's literal syntax that numpy headers use.
struct PyValue {
  enum class Kind { kString, kInt, kBool, kNone, kTuple, kList, kDict };
  Kind kind = Kind::kNone;
  std::string_view source;          // the literal as written, for messages
  std::string text;                 // kString: the contents
  std::uint64_t number = 0;         // kInt: the magnitude
  bool negative = false;            // kInt
  bool too_large = false;           // kInt: beyond 2^64 - 1
  bool truth = false;               // kBool
  std::vector<PyValue> items;       // kTuple, kList; kDict: key, value, key, value, ...
};

class LiteralParser {
 public:
  LiteralParser(const std::string& path, std::string_view text) : path_(path), text_(text) {}

  // The dict and then nothing but blanks.
  PyValue parse_header() {
    PyValue dict = value(0);
    if (dict.kind != PyValue::Kind::kDict) bad("the header is not a dict", 0);
    skip_blanks();
    if (pos_ != text_.size()) bad("unexpected text after the header dict", pos_);
    return dict;
  }

 private:
  [[noreturn]] void bad(std::string_view what, std::size_t at) const {
    fail(path_, fmt::format("malformed .npy header: {} (at byte {} of the dict): '{}'", what, at,
                            shown(text_)));
  }

  void skip_blanks() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool take(char c) {
    skip_blanks();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool take_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    const std::size_t after = pos_ + word.size();
    if (after < text_.size() &&
        (std::isalnum(static_cast<unsigned char>(text_[after])) != 0 || text_[after] == '_')) {
      return false;
    }
    pos_ = after;
    return true;
  }

  PyValue value(int depth) {
    if (depth > kMaxNesting) bad("nested too deeply", pos_);
    skip_blanks();
    if (pos_ == text_.size()) bad("unexpected end", pos_);
    const std::size_t start = pos_;
    PyValue v;
    const char c = text_[pos_];
    if (c == '\'' || c == '"') {
      v.kind = PyValue::Kind::kString;
      v.text = string_literal();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = PyValue::Kind::kInt;
      integer(v);
    } else if (c == '(' || c == '[') {
      v.kind = c == '(' ? PyValue::Kind::kTuple : PyValue::Kind::kList;
      ++pos_;
      sequence(c == '(' ? ')' : ']', depth, v.items, false);
    } else if (c == '{') {
      v.kind = PyValue::Kind::kDict;
      ++pos_;
      sequence('}', depth, v.items, true);
    } else if (take_word("True") || take_word("False")) {
      v.kind = PyValue::Kind::kBool;
      v.truth = text_[start] == 'T';
    } else if (take_word("None")) {
      v.kind = PyValue::Kind::kNone;
    } else {
      bad(fmt::format("unexpected '{}'", shown(text_.substr(pos_, 1))), pos_);
    }
    v.source = text_.substr(start, pos_ - start);
    return v;
  }

  // Items up to `close`, separated by commas, with an optional trailing comma; for a dict each
  // item is key ':' value.
  void sequence(char close, int depth, std::vector<PyValue>& items, bool dict) {
    for (;;) {
      if (take(close)) return;
      items.push_back(value(depth + 1));
      if (dict) {
        if (!take(':')) bad("expected ':' after a dict key", pos_);
        items.push_back(value(depth + 1));
      }
      if (take(close)) return;
      if (!take(',')) bad(fmt::format("expected ',' or '{}'", close), pos_);
    }
  }

  std::string string_literal() {
    const char quote = text_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) bad("unterminated string", pos_);
      const char c = text_[pos_++];
      if (c == quote) return out;
      if (c == '\\') {
        if (pos_ >= text_.size()) bad("unterminated string", pos_);
        out.push_back(text_[pos_++]);
      } else {
        out.push_back(c);
      }
    }
  }

  void integer(PyValue& v) {
    if (text_[pos_] == '-') {
      v.negative = true;
      ++pos_;
    }
    const std::size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto d = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (v.number > (std::numeric_limits<std::uint64_t>::max() - d) / 10) v.too_large = true;
      v.number = v.number * 10 + d;
      ++pos_;
    }
    if (pos_ == digits) bad("expected a digit", pos_);
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2
  }

  const std::string& path_;
  std::string_view text_;
  std::size_t pos_ = 0;
};

std::uint32_t little_endian(const unsigned char* p, std::size_t bytes) {
  std::uint32_t v = 0;
  for (std::size_t i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

NpyHeader parse_header(const std::string& path, const char* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  if (size < kMagicSize || std::memcmp(data, kMagic, kMagicSize) != 0) {
    fail(path, "not a .npy file (it does not start with the magic bytes \\x93NUMPY)");
  }
  if (size < kMagicSize + 2) fail(path, "truncated .npy file (it ends inside the header)");
  NpyHeader header;
  header.major = bytes[6];
  header.minor = bytes[7];
  if (header.major < 1 || header.major > 3 || header.minor != 0) {
    fail(path, fmt::format("unsupported .npy format version {}.{} (parafit reads 1.0, 2.0 and "
                           "3.0)",
                           header.major, header.minor));
  }
  const std::size_t length_bytes = header.major == 1 ? 2 : 4;
  const std::size_t prefix = kMagicSize + 2 + length_bytes;
  if (size < prefix) fail(path, "truncated .npy file (it ends inside the header)");
  const std::size_t length = little_endian(bytes + kMagicSize + 2, length_bytes);
  if (size - prefix < length) {
    fail(path, fmt::format("truncated .npy file: the header is {} bytes long but only {} follow",
                           length, size - prefix));
  }
  header.data_offset = prefix + length;

  const PyValue dict = LiteralParser(path, {data + prefix, length}).parse_header();
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (std::size_t i = 0; i < dict.items.size(); i += 2) {
    const PyValue& key = dict.items[i];
    const PyValue** slot = nullptr;
    if (key.kind == PyValue::Kind::kString && key.text == "descr") slot = &descr;
    if (key.kind == PyValue::Kind::kString && key.text == "fortran_order") slot = &fortran;
    if (key.kind == PyValue::Kind::kString && key.text == "shape") slot = &shape;
    if (slot == nullptr) {
      fail(path, fmt::format("malformed .npy header: unexpected key {} (the keys are 'descr', "
                             "'fortran_order' and 'shape')",
                             shown(key.source)));
    }
    if (*slot != nullptr) {
      fail(path, fmt::format("malformed .npy header: key {} appears twice", shown(key.source)));
    }
    *slot = &dict.items[i + 1];
  }
  for (const auto& [value, name] : {std::pair{descr, "descr"}, std::pair{fortran, "fortran_order"},
                                    std::pair{shape, "shape"}}) {
    if (value == nullptr) fail(path, fmt::format("malformed .npy header: no '{}' key", name));
  }

  if (descr->kind != PyValue::Kind::kString) {
    fail(path, fmt::format("unsupported dtype {} (a structured dtype; parafit reads float64 '<f8' "
                           "arrays, one column per file)",
                           shown(descr->source)));
  }
  header.descr = descr->text;
  if (fortran->kind != PyValue::Kind::kBool) {
    fail(path, fmt::format("malformed .npy header: 'fortran_order' is {}, not True or False",
                           shown(fortran->source)));
  }
  header.fortran_order = fortran->truth;
  if (shape->kind != PyValue::Kind::kTuple) {
    fail(path, fmt::format("malformed .npy header: 'shape' is {}, not a tuple",
                           shown(shape->source)));
  }
  for (const PyValue& dim : shape->items) {
    if (dim.kind != PyValue::Kind::kInt || dim.negative || dim.too_large) {
      fail(path, fmt::format("malformed .npy header: bad dimension {} in 'shape' {}",
                             shown(dim.source), shown(shape->source)));
    }
    header.shape.push_back(static_cast<std::size_t>(dim.number));
  }
  return header;
}

// --- The data -----------------------------------------------------------------------------------

// An element type that converts to double: kind 'f' (float), 'i' (signed), 'u' (unsigned) or 'b'
// (bool), its size in bytes, and whether its bytes are in the opposite order to this machine's.
struct Dtype {
  char kind = 'f';
  std::size_t size = 8;
  bool swap = false;
};

Dtype parse_dtype(const std::string& path, const std::string& descr) {
  const auto unsupported = [&]() {
    fail(path, fmt::format("unsupported dtype '{}' (parafit reads float64 '<f8'; float32, integer "
                           "and bool arrays are converted to float64)",
                           shown(descr)));
  };
  if (descr.size() < 3 || std::strchr("<>|=", descr[0]) == nullptr) unsupported();
  Dtype t;
  t.kind = descr[1];
  const std::string size = descr.substr(2);
  if (size == "1") t.size = 1;
  else if (size == "2") t.size = 2;
  else if (size == "4") t.size = 4;
  else if (size == "8") t.size = 8;
  else unsupported();
  const bool ok = (t.kind == 'f' && t.size >= 4) || t.kind == 'i' || t.kind == 'u' ||
                  (t.kind == 'b' && t.size == 1);
  if (!ok) unsupported();
  constexpr bool kLittle = std::endian::native == std::endian::little;
  t.swap = t.size > 1 && ((descr[0] == '<' && !kLittle) || (descr[0] == '>' && kLittle));
  if (descr[0] == '|' && t.size > 1) unsupported();
  return t;
}

template <typename T>
void convert(const char* src, std::size_t n, bool swap, double* out) {
  if (!swap) {
    for (std::size_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, src + i * sizeof(T), sizeof(T));
      out[i] = static_cast<double>(v);
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, src + i * sizeof(T), sizeof(T));
    std::reverse(b, b + sizeof(T));
    T v;
    std::memcpy(&v, b, sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

// Converts n elements of type `t` at `src` to doubles at `out`.
void convert_values(const Dtype& t, const char* src, std::size_t n, double* out) {
  switch (t.kind) {
    case 'f':
      if (t.size == 8 && !t.swap) {
        if (n > 0) std::memcpy(out, src, n * sizeof(double));
      } else if (t.size == 8) {
        convert<double>(src, n, true, out);
      } else {
        convert<float>(src, n, t.swap, out);
      }
      return;
    case 'b':
      for (std::size_t i = 0; i < n; ++i) out[i] = src[i] != 0 ? 1.0 : 0.0;
      return;
    case 'i':
      if (t.size == 1) convert<std::int8_t>(src, n, false, out);
      if (t.size == 2) convert<std::int16_t>(src, n, t.swap, out);
      if (t.size == 4) convert<std::int32_t>(src, n, t.swap, out);
      if (t.size == 8) convert<std::int64_t>(src, n, t.swap, out);
      return;
    default:
      if (t.size == 1) convert<std::uint8_t>(src, n, false, out);
      if (t.size == 2) convert<std::uint16_t>(src, n, t.swap, out);
      if (t.size == 4) convert<std::uint32_t>(src, n, t.swap, out);
      if (t.size == 8) convert<std::uint64_t>(src, n, t.swap, out);
      return;
  }
}

// Whether every value is finite: an integer OR over the exponent test, which vectorises.
bool all_finite(const double* v, std::size_t n) {
  constexpr std::uint64_t kExponent = 0x7ff0000000000000ULL;
  std::uint64_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits;
    std::memcpy(&bits, v + i, sizeof bits);
    bad |= static_cast<std::uint64_t>((bits & kExponent) == kExponent);
  }
  return bad == 0;
}

// One mapped column file with its checked header.
struct ColumnFile {
  std::string path;
  detail::MappedFile file;
  NpyHeader header;
  Dtype dtype;
  std::size_t length = 0;  // number of values

  // A matrix file (read_npy_matrix) may be 2-D; a column file holds one long dimension at most.
  explicit ColumnFile(std::string p, bool matrix = false)
      : path(std::move(p)), file(path), header(parse_header(path, file.data(), file.size())) {
    dtype = parse_dtype(path, header.descr);
    std::size_t values = 1;
    std::size_t long_dims = 0;
    for (const std::size_t d : header.shape) {
      if (d != 0 && values > std::numeric_limits<std::size_t>::max() / d) {
        fail(path, fmt::format("shape {} is too large", shape_text(header.shape)));
      }
      values *= d;
      long_dims += d > 1 ? 1 : 0;
    }
    if (matrix && header.shape.size() != 2) {
      fail(path, fmt::format("shape {} is not 2-D (a batch matrix is fits x points: one curve per row)",
                             shape_text(header.shape)));
    }
    if (!matrix && (header.shape.empty() || long_dims > 1)) {
      fail(path, fmt::format("shape {} is not 1-D (parafit reads one 1-D array per column: save "
                             "each column on its own, e.g. np.save('dir/name.npy', a[:, k]))",
                             shape_text(header.shape)));
    }
    length = values;
    const std::size_t available = file.size() - header.data_offset;
    if (values > available / dtype.size) {
      // The size in bytes may not fit in 64 bits (a shape of 2^61 float64s): say so, not a wrapped number.
      const bool fits = values <= std::numeric_limits<std::size_t>::max() / dtype.size;
      fail(path, fmt::format("truncated .npy file: the header says {} values of '{}' ({}) "
                             "but only {} bytes of data follow it",
                             values, shown(header.descr),
                             fits ? fmt::format("{} bytes", values * dtype.size)
                                  : fmt::format("more than {} bytes", std::numeric_limits<std::size_t>::max()),
                             available));
    }
    if (available != values * dtype.size) {
      fail(path, fmt::format("{} unexpected bytes after the {} values the header announces",
                             available - values * dtype.size, values));
    }
  }

  // Converts rows [first, first + count) into `out`; returns whether every value is finite. The
  // check runs block by block right behind the copy, while the block is still in cache.
  bool copy(std::size_t first, std::size_t count, double* out) const {
    constexpr std::size_t kBlock = 8192;
    const char* src = file.data() + header.data_offset + first * dtype.size;
    bool finite = true;
    const std::size_t offset = header.data_offset + first * dtype.size;
    constexpr std::size_t kDropEvery = 16;  // blocks: drop the source 1 MiB (float64) at a time
    std::size_t kept_from = 0;              // first row (relative) not yet dropped
    for (std::size_t done = 0, block = 0; done < count; done += kBlock, ++block) {
      const std::size_t n = std::min(kBlock, count - done);
      convert_values(dtype, src + done * dtype.size, n, out + done);
      if (dtype.kind == 'f') finite = all_finite(out + done, n) && finite;
      if (block % kDropEvery == kDropEvery - 1 || done + n == count) {
        file.drop(offset + kept_from * dtype.size, (done + n - kept_from) * dtype.size);
        kept_from = done + n;
      }
    }
    return finite;
  }
};

// The .npy file names in `dir` without their extension (unchecked), sorted.
std::vector<std::string> list_npy_stems(const std::string& dir) {
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (ec || !fs::exists(status)) {
    throw Error(fmt::format("cannot open directory '{}': {}", dir,
                            ec ? ec.message() : std::strerror(ENOENT)));
  }
  if (!fs::is_directory(status)) throw Error(fmt::format("'{}' is not a directory", dir));
  std::vector<std::string> stems;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec)) continue;
    stems.push_back(name.substr(0, name.size() - 4));
  }
  if (ec) throw Error(fmt::format("cannot read directory '{}': {}", dir, ec.message()));
  std::sort(stems.begin(), stems.end());
  return stems;
}

std::string column_path(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / (name + ".npy")).string();
}

std::string list_names(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  std::vector<std::string> escaped;
  for (const auto& n : names) escaped.push_back(shown(n));
  return fmt::format("{}", fmt::join(escaped, ", "));
}

[[noreturn]] void fail_non_finite(const ColumnFile& file, const std::string& name,
                                  std::size_t index, double value) {
  fail(file.path, fmt::format("{} value at index {} of column '{}'",
                              std::isnan(value) ? "NaN" : "infinite", index, name));
}

}  // namespace

NpyHeader read_npy_header(const std::string& path) {
  const detail::MappedFile file(path);
  return parse_header(path, file.data(), file.size());
}

std::vector<double> read_npy(const std::string& path) {
  const ColumnFile file(path);
  std::vector<double> values;
  detail::reserve_column(values, file.length);
  values.resize(file.length);
  file.copy(0, file.length, values.data());
  return values;
}

namespace {

// `shape` is numpy's tuple text: "(n,)" or "(r, c)"; numpy leaves room for the first axis
// (`growth`, its length) to grow.
void write_npy_shaped(const std::string& path, std::span<const double> values, const std::string& shape,
                      std::size_t growth) {
  // The dict exactly as numpy's np.save writes it for a float64 array, with its trailing blanks
  // that leave room for a longer shape, padded so the data starts at a multiple of 64.
  const std::string count = std::to_string(growth);
  std::string header = fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': {}, }}", shape);
  header.append(kGrowthDigits > count.size() ? kGrowthDigits - count.size() : 0, ' ');
  const std::size_t unpadded = kMagicSize + 2 + 2 + header.size() + 1;
  header.append(kAlign - unpadded % kAlign, ' ');
  header.push_back('\n');
  std::string prefix(kMagic, kMagicSize);
  prefix += '\x01';
  prefix += '\x00';
  prefix += static_cast<char>(header.size() & 0xff);
  prefix += static_cast<char>(header.size() >> 8);

  detail::AtomicFile out(path, ".npy file");
  out.write(prefix);
  out.write(header);
  if constexpr (std::endian::native == std::endian::little) {
    out.write(values.data(), values.size() * sizeof(double));
  } else {
    for (const double v : values) {
      unsigned char b[8];
      std::memcpy(b, &v, 8);
      std::reverse(b, b + 8);
      out.write(b, 8);
    }
  }
  out.commit();
}

}  // namespace

void write_npy(const std::string& path, std::span<const double> values) {
  write_npy_shaped(path, values, fmt::format("({},)", values.size()), values.size());
}

void write_npy_matrix(const std::string& path, std::span<const double> values, std::size_t rows, std::size_t cols) {
  if (values.size() != rows * cols) throw Error(fmt::format("cannot write '{}': {} values for {} x {}", path,
                                                            values.size(), rows, cols));
  write_npy_shaped(path, values, fmt::format("({}, {})", rows, cols), rows);
}

NpyMatrix read_npy_matrix(const std::string& path, std::size_t first_row, std::size_t max_rows) {
  const ColumnFile f(path, true);
  NpyMatrix m;
  m.total_rows = f.header.shape[0];
  m.cols = f.header.shape[1];
  m.first_row = std::min(first_row, m.total_rows);
  m.rows = std::min(max_rows, m.total_rows - m.first_row);
  if (!f.header.fortran_order || m.total_rows <= 1 || m.cols <= 1) {
    m.values.resize(m.rows * m.cols);  // only these rows' bytes are read
    f.copy(m.first_row * m.cols, m.rows * m.cols, m.values.data());
  } else {  // column by column on disk: transpose this part to row by row
    std::vector<double> v(f.length);
    f.copy(0, f.length, v.data());
    m.values.resize(m.rows * m.cols);
    for (std::size_t c = 0; c < m.cols; ++c)
      for (std::size_t r = 0; r < m.rows; ++r) m.values[r * m.cols + c] = v[c * m.total_rows + m.first_row + r];
  }
  return m;
}

std::string npy_column_name_problem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name == "." || name == "..") return fmt::format("'{}' is not a file name", name);
  for (const char c : name) {
    if (c == '/') return "it contains '/'";
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return fmt::format("it contains the control character '{}'", shown({&c, 1}));
    }
  }
  return "";
}

std::vector<std::string> npy_dir_columns(const std::string& dir) {
  std::vector<std::string> names = list_npy_stems(dir);
  for (const auto& name : names) {
    const std::string problem = npy_column_name_problem(name);
    if (!problem.empty()) {
      throw Error(fmt::format("{}: the file '{}.npy' does not name a column: {}",
                              dir, shown(name), problem));
    }
  }
  return names;
}

Dataset read_npy_dir(const std::string& dir, const NpyOptions& options, NpyReport* report) {
  detail::check_shard(dir, options.shard_index, options.shard_count);
  std::vector<std::string> names = options.columns;
  if (names.empty()) {
    names = npy_dir_columns(dir);
    if (names.empty()) {
      fail(dir, "no .npy files in the directory (expected one <column>.npy file per column)");
    }
  } else {
    list_npy_stems(dir);  // a missing directory is reported as such, not as a missing column
  }

  std::vector<ColumnFile> files;
  files.reserve(names.size());
  std::size_t bytes = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    const std::string problem = npy_column_name_problem(name);
    if (!problem.empty()) {
      fail(dir, fmt::format("column name '{}' cannot name a .npy file: {}", shown(name), problem));
    }
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(k), name) !=
        names.begin() + static_cast<std::ptrdiff_t>(k)) {
      fail(dir, fmt::format("column '{}' is requested twice", shown(name)));
    }
    const std::string path = column_path(dir, name);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      fail(dir, fmt::format("no column '{}' (no file '{}'); columns are: {}", shown(name), shown(path),
                            list_names(list_npy_stems(dir))));
    }
    files.emplace_back(path);
    bytes += files.back().file.size();
    if (files.back().length != files.front().length) {
      fail(dir, fmt::format("columns have different lengths: '{}' has {} values, '{}' has {}",
                            names.front(), files.front().length, name, files.back().length));
    }
  }

  const std::size_t total = files.front().length;
  const std::size_t align = std::max<std::size_t>(options.shard_align, 1);
  const auto boundary = [&](std::size_t r) {
    const std::size_t even = detail::shard_point(total, r, options.shard_count);
    return std::min(total, (even + align - 1) / align * align);
  };
  const std::size_t first = boundary(options.shard_index);
  const std::size_t last = boundary(options.shard_index + 1);
  const std::size_t count = last - first;

  std::vector<std::vector<double>> columns(files.size());
  bool finite = true;
  for (std::size_t k = 0; k < files.size(); ++k) {
    detail::reserve_column(columns[k], count);
    columns[k].resize(count);
    finite = files[k].copy(first, count, columns[k].data()) && finite;
  }

  std::size_t dropped = 0;
  if (!finite && !options.drop_missing && !options.keep_missing) {
    // Rare: name the first row (and in it the first column) holding a NaN or Inf.
    std::size_t bad_column = 0;
    std::size_t bad_row = count;
    for (std::size_t k = 0; k < files.size(); ++k) {
      for (std::size_t i = 0; i < bad_row; ++i) {
        if (!std::isfinite(columns[k][i])) {
          bad_column = k;
          bad_row = i;
          break;
        }
      }
    }
    fail_non_finite(files[bad_column], names[bad_column], first + bad_row,
                    columns[bad_column][bad_row]);
  }
  if (!finite && options.drop_missing) {
    std::vector<char> keep(count, 1);
    for (const auto& column : columns) {
      for (std::size_t i = 0; i < count; ++i) {
        if (!std::isfinite(column[i])) keep[i] = 0;
      }
    }
    for (auto& column : columns) {
      std::size_t out = 0;
      for (std::size_t i = 0; i < count; ++i) {
        if (keep[i] != 0) column[out++] = column[i];
      }
      column.resize(out);
    }
    dropped = count - columns.front().size();
  }
  const std::size_t rows = columns.front().size();
  if (rows == 0 && options.shard_count == 1) {
    fail(dir, dropped == 0 ? std::string("no data rows (the .npy files are empty)")
                           : fmt::format("no data rows (all {} rows were dropped for NaN or "
                                         "infinite values)",
                                         dropped));
  }

  Dataset data;
  data.set_source(dir);
  for (std::size_t k = 0; k < columns.size(); ++k) data.add_column(names[k], std::move(columns[k]));
  if (report != nullptr) {
    report->bytes = bytes;
    report->rows_total = total;
    report->first_row = first;
    report->rows_read = rows;
    report->rows_dropped = dropped;
  }
  return data;
}

}  // namespace parafit
