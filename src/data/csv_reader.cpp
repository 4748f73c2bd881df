// data/csv_reader.cpp — read_csv: header, column plan, then one pass over the data rows.
//
// The row loop is the hot path (hundreds of MB per second): it walks the mapped bytes once,
// parses loaded fields with fast_float straight from the mapping, steps over other fields
// without parsing them, and appends to column vectors reserved up front. Everything unusual
// (quotes, empty or non-finite values, errors) is handed to out-of-line cold functions.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include "data/column_memory.h"
#include "data/csv_columns.h"
#include "data/csv_fields.h"
#include "data/csv_header.h"
#include "data/csv_text.h"
#include "data/mapped_file.h"
#include "data/shard_range.h"
#include "parafit/csv.h"
#include "parafit/error.h"

namespace parafit {
namespace {

using detail::ColumnPlan;
using detail::CsvText;

// Upper bound on the number of rows in [p, end): the lines, counting a last unterminated one.
// Reserving this much lets every column be filled without reallocating, so peak memory is the
// data itself rather than up to twice that while a vector doubles.
std::size_t count_lines(const char* p, const char* end) {
  std::size_t lines = 0;
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (nl == nullptr) return lines + 1;
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  return lines;
}

// Whether from_chars read a number. Some fast_float versions report over- and underflow as
// result_out_of_range (still setting ±Inf or 0); overflow is caught by the finiteness check and
// underflow to zero is accepted, as strtod does.
bool parsed(std::errc ec) { return ec == std::errc() || ec == std::errc::result_out_of_range; }

class RowReader {
 public:
  RowReader(const CsvText& text, char delimiter, const ColumnPlan& plan, bool drop_missing,
            bool keep_missing = false)
      : text_(text),
        end_(text.end()),
        delimiter_(delimiter),
        plan_(plan),
        drop_missing_(drop_missing),
        keep_missing_(keep_missing),
        row_(plan.names.size()),
        // fast_float stops at the first byte that cannot continue a number, so it can be given
        // the rest of the file as its range, unless the delimiter itself could be read as part
        // of a number ("1e5", "nan(x)"); then each field's end is found first.
        bounded_(std::isalnum(static_cast<unsigned char>(delimiter)) != 0 ||
                 std::strchr(".+-()_", delimiter) != nullptr) {}

  // Parses every row from `p` on into `columns`; returns the number of rows dropped. With `found`,
  // stores nothing and stops at the kept row number `find` (0-based), setting *found to its start.
  std::size_t read(const char* p, std::vector<std::vector<double>>& columns, std::size_t find = 0,
                   const char** found = nullptr) {
    const std::size_t fields = plan_.slot_of_field.size();
    const std::size_t* slots = plan_.slot_of_field.data();
    std::size_t dropped = 0;
    while (p < end_) {
      if (const char* next = detail::skip_ignorable_line(p, end_)) {
        p = next;
        continue;
      }
      const char* row = p;
      bool missing = false;
      for (std::size_t f = 0; f < fields; ++f) {
        if (f > 0) {
          if (p == end_ || *p != delimiter_) fail_too_few(row, p, f);
          ++p;
        }
        const std::size_t slot = slots[f];
        p = slot == ColumnPlan::kSkip ? skip_field(p) : parse_number(p, slot, missing);
      }
      if (p < end_) {
        if (*p == '\n') {
          ++p;
        } else if (*p == delimiter_) {
          fail_too_many(row, p + 1);
        } else {
          p = detail::skip_line_end(text_, p);
        }
      }
      if (missing) {
        ++dropped;
        continue;
      }
      if (found != nullptr) {
        if (find-- == 0) {
          *found = row;
          return dropped;
        }
        continue;
      }
      for (std::size_t k = 0; k < row_.size(); ++k) columns[k].push_back(row_[k]);
    }
    return dropped;
  }

 private:
  bool blank(char c) const { return detail::is_blank(c, delimiter_); }
  bool field_end(char c) const { return detail::is_field_end(c, delimiter_); }

  const char* skip_field(const char* p) const {
    while (p < end_ && blank(*p)) ++p;
    if (p < end_ && *p == '"') return skip_quoted_field(p);
    while (p < end_ && !field_end(*p)) ++p;
    return p;
  }

  // Parses the field at `p` into row_[slot]; returns the field's end.
  const char* parse_number(const char* p, std::size_t slot, bool& missing) {
    while (p < end_ && blank(*p)) ++p;
    if (p < end_ && *p == '"') return parse_quoted_number(p, slot, missing);
    const char* limit = bounded_ ? unquoted_field_end(p) : end_;
    // from_chars follows std::from_chars and refuses a leading '+'; we accept it ("+3").
    const char* digits = p;
    if (limit - p >= 2 && *p == '+' && p[1] != '-' && p[1] != '+') ++digits;
    double& value = row_[slot];
    const auto result = fast_float::from_chars(digits, limit, value);
    const char* after = result.ptr;
    while (after < end_ && blank(*after)) ++after;
    if (!parsed(result.ec) || (after < end_ && !field_end(*after))) {
      return bad_field(p, slot, missing);
    }
    if (!std::isfinite(value)) non_finite(p, p, result.ptr, slot, missing);
    return after;
  }

  const char* unquoted_field_end(const char* p) const {
    while (p < end_ && !field_end(*p)) ++p;
    return p;
  }

  [[gnu::cold]] [[gnu::noinline]] const char* skip_quoted_field(const char* open) const {
    bool escaped = false;
    const char* close = detail::find_closing_quote(text_, open, escaped);
    return detail::end_of_quoted_field(text_, open, close, delimiter_);
  }

  // A quoted field in a loaded column: "1.5" reads as 1.5; blanks inside the quotes are allowed.
  [[gnu::cold]] [[gnu::noinline]] const char* parse_quoted_number(const char* open,
                                                                  std::size_t slot,
                                                                  bool& missing) {
    bool escaped = false;
    const char* close = detail::find_closing_quote(text_, open, escaped);
    const char* after = detail::end_of_quoted_field(text_, open, close, delimiter_);
    const char* first = open + 1;
    const char* last = close;
    while (first < last && (*first == ' ' || *first == '\t')) ++first;
    while (last > first && (last[-1] == ' ' || last[-1] == '\t')) --last;
    if (first == last) {
      value_missing(open, "empty field", slot, missing);
      return after;
    }
    const char* digits = first;
    if (last - first >= 2 && *first == '+' && first[1] != '-' && first[1] != '+') ++digits;
    double& value = row_[slot];
    const auto result = fast_float::from_chars(digits, last, value);
    if (escaped || !parsed(result.ec) || result.ptr != last) {
      fail_non_numeric(open, first, last, slot);
    }
    if (!std::isfinite(value)) non_finite(open, first, last, slot, missing);
    return after;
  }

  // The field at `p` did not parse as a whole number: it is either empty or not a number.
  [[gnu::cold]] [[gnu::noinline]] const char* bad_field(const char* p, std::size_t slot,
                                                         bool& missing) {
    const char* stop = unquoted_field_end(p);
    if (stop == p) {
      row_[slot] = std::numeric_limits<double>::quiet_NaN();  // kept as NaN with keep_missing
      value_missing(p, "empty field", slot, missing);
      return p;
    }
    while (stop > p && blank(stop[-1])) --stop;
    fail_non_numeric(p, p, stop, slot);
  }

  // The text `first`..`last` parsed to NaN or ±Inf: either written that way (a missing value)
  // or a number too large for a double, which is an error even with drop_missing.
  [[gnu::cold]] [[gnu::noinline]] void non_finite(const char* at, const char* first,
                                                  const char* last, std::size_t slot,
                                                  bool& missing) {
    const char* word = first;
    if (word < last && (*word == '-' || *word == '+')) ++word;
    const std::string shown = CsvText::excerpt(first, last);
    if (word < last && (std::isdigit(static_cast<unsigned char>(*word)) != 0 || *word == '.')) {
      text_.fail_at(at, fmt::format("number out of range '{}' in column '{}'", shown,
                                    plan_.names[slot]));
    }
    const char* kind = std::isnan(row_[slot]) ? "NaN field" : "infinite field";
    value_missing(at, fmt::format("{} '{}'", kind, shown), slot, missing);
  }

  void value_missing(const char* at, const std::string& what, std::size_t slot, bool& missing) {
    if (keep_missing_ && !drop_missing_) return;  // the value stays (NaN, +-Inf) for the caller to judge
    if (drop_missing_) {
      missing = true;
      return;
    }
    text_.fail_at(at, fmt::format("{} in column '{}'", what, plan_.names[slot]));
  }

  [[noreturn]] void fail_non_numeric(const char* at, const char* first, const char* last,
                                     std::size_t slot) const {
    text_.fail_at(at, fmt::format("non-numeric field '{}' in column '{}'",
                                  CsvText::excerpt(first, last), plan_.names[slot]));
  }

  std::string expected_fields() const {
    const std::size_t n = plan_.slot_of_field.size();
    return fmt::format("{} field{}", n, n == 1 ? "" : "s");
  }

  [[noreturn]] [[gnu::cold]] void fail_too_few(const char* row, const char* at,
                                                std::size_t found) const {
    text_.fail_at(at, fmt::format("expected {}, found {}: '{}'", expected_fields(), found,
                                  text_.rest_of_line(row)));
  }

  [[noreturn]] [[gnu::cold]] void fail_too_many(const char* row, const char* extra) const {
    text_.fail_at(extra, fmt::format("expected {}, found {}: '{}'", expected_fields(),
                                     detail::count_fields(text_, row, delimiter_),
                                     text_.rest_of_line(row)));
  }

  const CsvText& text_;
  const char* end_;
  char delimiter_;
  const ColumnPlan& plan_;
  bool drop_missing_;
  bool keep_missing_;
  std::vector<double> row_;  // the current row's loaded values, committed once the row is whole
  bool bounded_;
};

// The first line start at or after `p` in [data, end): `data` itself, or a byte after '\n'.
const char* next_line_start(const char* data, const char* p, const char* end) {
  if (p == data || p[-1] == '\n') return p;
  const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  return nl == nullptr ? end : static_cast<const char*>(nl) + 1;
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options, CsvReport* report) {
  detail::check_shard(path, options.shard_index, options.shard_count);
  const detail::MappedFile file(path);
  const CsvText text(path, file.data(), file.data() + file.size());
  const detail::CsvHeader header = detail::read_header(text, options.delimiter);
  const ColumnPlan plan = detail::plan_columns(text, header, options.columns);

  // This shard's rows: those whose line starts in [first, last) (see CsvOptions::shard_index).
  // The reader sees the file only up to `last`, so it cannot parse the next shard's bytes; line
  // numbers in its errors still count from the start of the file.
  const bool sharded = options.shard_count > 1;
  const char* first = header.data;
  const char* last = text.end();
  if (sharded) {
    const auto data_size = static_cast<std::size_t>(text.end() - header.data);
    const auto at = [&](std::size_t r) {
      return next_line_start(header.data,
                             header.data + detail::shard_point(data_size, r, options.shard_count),
                             text.end());
    };
    first = at(options.shard_index);
    last = at(options.shard_index + 1);
  }
  const CsvText shard(path, file.data(), last, /*quoted_line_breaks=*/!sharded);

  const std::size_t max_rows = count_lines(first, last);
  std::vector<std::vector<double>> columns(plan.names.size());
  for (auto& column : columns) detail::reserve_column(column, max_rows);

  RowReader reader(shard, header.delimiter, plan, options.drop_missing, options.keep_missing);
  const std::size_t dropped = reader.read(first, columns);
  const std::size_t rows = columns.front().size();
  if (rows == 0 && !sharded) {
    text.fail(dropped == 0
                  ? std::string("no data rows after the header")
                  : fmt::format("no data rows after the header (all {} rows were dropped for "
                                "empty, NaN or infinite values)",
                                dropped));
  }

  Dataset data;
  data.set_source(path);
  for (std::size_t k = 0; k < columns.size(); ++k) {
    data.add_column(plan.names[k], std::move(columns[k]));
  }
  if (report != nullptr) {
    report->delimiter = header.delimiter;
    report->bytes = file.size();
    report->rows_read = rows;
    report->rows_dropped = dropped;
    report->shard_begin = static_cast<std::size_t>(first - file.data());
    report->shard_end = static_cast<std::size_t>(last - file.data());
  }
  return data;
}

std::size_t csv_line_of_row(const std::string& path, const CsvOptions& options, std::size_t row) {
  const detail::MappedFile file(path);
  const CsvText text(path, file.data(), file.data() + file.size());
  const detail::CsvHeader header = detail::read_header(text, options.delimiter);
  const ColumnPlan plan = detail::plan_columns(text, header, options.columns);
  RowReader reader(text, header.delimiter, plan, options.drop_missing, options.keep_missing);
  std::vector<std::vector<double>> unused;
  const char* found = nullptr;
  reader.read(header.data, unused, row, &found);
  if (found == nullptr) return 0;
  return 1 + static_cast<std::size_t>(std::count(file.data(), found, '\n'));
}

std::vector<std::string> read_csv_header(const std::string& path, const CsvOptions& options) {
  const detail::MappedFile file(path);
  const CsvText text(path, file.data(), file.data() + file.size());
  return detail::read_header(text, options.delimiter).names;
}

}  // namespace parafit
