// tests/data/test_npy.cpp — .npy files and directories: numpy's exact header bytes, bit-exact
// round trips, every dtype and header form read, every error, sharded reads, and read_table.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "parafit/error.h"
#include "parafit/npy.h"
#include "parafit/table.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "the byte layouts below are little-endian");

// A fresh, empty directory named after the running test.
std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir = ::testing::TempDir() + "parafit_npy_" + info->test_suite_name() + "_" +
                          info->name();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename T>
std::string raw(const std::vector<T>& values) {
  return {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)};
}

// A .npy file built by hand: magic, version, header length, the dict padded with spaces and a
// '\n' to a multiple of 64 bytes, then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append(64 - (prefix + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const auto len = static_cast<std::uint32_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>(len >> 24);
  }
  return out + header + data;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}", descr,
                     fortran ? "True" : "False", shape);
}

std::string npy_error(const std::string& path) {
  try {
    read_npy(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string dir_error(const std::string& dir, const NpyOptions& options = {}) {
  try {
    read_npy_dir(dir, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::vector<double> values(const Dataset& d, std::size_t k) {
  const auto c = d.column(k);
  return {c.begin(), c.end()};
}

// --- Writing: numpy's exact bytes ---------------------------------------------------------------

TEST(NpyWrite, HeaderBytesAreNumpys) {
  // np.save(f, np.arange(3.0)) with numpy 1.24 writes exactly these 128 header bytes: version
  // 1.0, length 118 (0x76), the dict with its keys sorted, 21 - len("3") = 20 blanks of room to
  // grow the length, then blanks to reach a multiple of 64 and a '\n'.
  const std::string dir = scratch_dir();
  const std::string path = dir + "/a.npy";
  write_npy(path, std::vector<double>{0.0, 1.0, 2.0});
  const std::string expected_header =
      std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
      "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }" + std::string(60, ' ') + "\n";
  ASSERT_EQ(expected_header.size(), 128u);
  const std::string bytes = read_bytes(path);
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 128), expected_header);
  EXPECT_EQ(bytes.substr(128), raw(std::vector<double>{0.0, 1.0, 2.0}));

  // More digits in the length take room from the growth blanks: still 128 bytes.
  write_npy(path, std::vector<double>(12345, 0.5));
  EXPECT_EQ(read_bytes(path).substr(0, 128),
            std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                "{'descr': '<f8', 'fortran_order': False, 'shape': (12345,), }" +
                std::string(56, ' ') + "\n");
  write_npy(path, std::vector<double>{});
  EXPECT_EQ(read_bytes(path),
            std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }" +
                std::string(60, ' ') + "\n");
}

TEST(NpyWrite, RoundTripIsBitExact) {
  const std::string dir = scratch_dir();
  std::mt19937_64 rng(7);
  std::vector<double> v(100001);
  for (auto& x : v) x = std::bit_cast<double>(rng());  // every bit pattern, NaNs included
  v[0] = -0.0;
  v[1] = std::numeric_limits<double>::denorm_min();
  v[2] = std::numeric_limits<double>::infinity();
  const std::string path = dir + "/v.npy";
  write_npy(path, v);
  const std::vector<double> back = read_npy(path);
  ASSERT_EQ(back.size(), v.size());
  EXPECT_EQ(std::memcmp(back.data(), v.data(), v.size() * sizeof(double)), 0);
  const NpyHeader h = read_npy_header(path);
  EXPECT_EQ(h.descr, "<f8");
  EXPECT_EQ(h.shape, (std::vector<std::size_t>{v.size()}));
  EXPECT_FALSE(h.fortran_order);
  EXPECT_EQ(h.data_offset, 128u);
}

TEST(NpyWrite, ReplacesAtomicallyAndLeavesNoTemporaryFile) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/x.npy";
  write_npy(path, std::vector<double>(1000, 1.0));
  write_npy(path, std::vector<double>{2.0});
  EXPECT_EQ(read_npy(path), (std::vector<double>{2.0}));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(NpyWrite, UnwritablePathIsAnError) {
  const std::string dir = scratch_dir();
  try {
    write_npy(dir + "/no/such/dir/x.npy", std::vector<double>{1.0});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot write .npy file '" + dir + "/no/such/dir/x.npy': No such file or directory");
  }
}

// --- Reading one file ---------------------------------------------------------------------------

TEST(NpyRead, FormatVersions2And3) {
  const std::string dir = scratch_dir();
  const std::vector<double> v{1.5, -2.25, 1e300};
  for (const int major : {1, 2, 3}) {
    const std::string path = dir + fmt::format("/v{}.npy", major);
    write_bytes(path, npy_bytes(dict("<f8", "(3,)"), raw(v), major));
    EXPECT_EQ(read_npy(path), v) << major;
    EXPECT_EQ(read_npy_header(path).major, major);
  }
}

TEST(NpyRead, HeaderSyntaxVariants) {
  // Any key order, double quotes, no trailing comma, Python 2 long integers, blanks anywhere,
  // and numpy's old 16-byte alignment.
  const std::string dir = scratch_dir();
  const std::string data = raw(std::vector<double>{4, 5});
  const std::vector<std::string> dicts = {
      "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}",
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2L,)}",
      "{ 'descr' : '<f8' ,\t'fortran_order':False,'shape':( 2 , ) , }",
  };
  for (std::size_t i = 0; i < dicts.size(); ++i) {
    const std::string path = dir + fmt::format("/h{}.npy", i);
    write_bytes(path, npy_bytes(dicts[i], data));
    EXPECT_EQ(read_npy(path), (std::vector<double>{4, 5})) << dicts[i];
  }
  std::string old = dict("<f8", "(2,)");
  old.append(16 - (10 + old.size() + 1) % 16, ' ');
  old += '\n';
  write_bytes(dir + "/old.npy", std::string("\x93NUMPY\x01\x00", 8) +
                                    static_cast<char>(old.size()) + '\0' + old + data);
  EXPECT_EQ(read_npy(dir + "/old.npy"), (std::vector<double>{4, 5}));
  EXPECT_EQ(read_npy_header(dir + "/old.npy").data_offset, 10 + old.size());
  EXPECT_EQ(read_npy_header(dir + "/old.npy").data_offset % 64, 16u);
}

TEST(NpyRead, OtherDtypesAreConvertedToFloat64) {
  const std::string dir = scratch_dir();
  struct Case {
    std::string descr, data;
    std::vector<double> expected;
  };
  const std::vector<Case> cases = {
      {"<f4", raw(std::vector<float>{1.5f, -0.25f, 3e38f}), {1.5, -0.25, static_cast<double>(3e38f)}},
      {"<i8", raw(std::vector<std::int64_t>{-3, 0, (std::int64_t{1} << 53) + 1}), {-3, 0, 9007199254740992.0}},
      {"<i4", raw(std::vector<std::int32_t>{-7, 8, 2147483647}), {-7, 8, 2147483647}},
      {"<i2", raw(std::vector<std::int16_t>{-32768, 1, 2}), {-32768, 1, 2}},
      {"|i1", raw(std::vector<std::int8_t>{-128, 0, 127}), {-128, 0, 127}},
      {"|u1", raw(std::vector<std::uint8_t>{0, 200, 255}), {0, 200, 255}},
      {"<u2", raw(std::vector<std::uint16_t>{0, 65535, 3}), {0, 65535, 3}},
      {"<u4", raw(std::vector<std::uint32_t>{0, 4294967295u, 3}), {0, 4294967295.0, 3}},
      {"<u8", raw(std::vector<std::uint64_t>{0, 1, 18446744073709551615ull}), {0, 1, 18446744073709551616.0}},
      {"|b1", std::string("\x01\x00\x01", 3), {1, 0, 1}},
      {">f8", std::string("\x3f\xf8\0\0\0\0\0\0" "\xc0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0", 24), {1.5, -2, 0}},
      {">i4", std::string("\xff\xff\xff\xfe" "\0\0\x01\0" "\0\0\0\0", 12), {-2, 256, 0}},
      {"=f8", raw(std::vector<double>{1, 2, 3}), {1, 2, 3}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = dir + fmt::format("/t{}.npy", i);
    write_bytes(path, npy_bytes(dict(cases[i].descr, "(3,)"), cases[i].data));
    EXPECT_EQ(read_npy(path), cases[i].expected) << cases[i].descr;
  }
}

TEST(NpyRead, ShapesHoldingOneRunOfValues) {
  const std::string dir = scratch_dir();
  const std::string data = raw(std::vector<double>{1, 2, 3});
  for (const auto& [shape, fortran] : std::vector<std::pair<std::string, bool>>{
           {"(3,)", true}, {"(3, 1)", false}, {"(1, 3)", true}, {"(1, 3, 1)", false}}) {
    const std::string path = dir + "/s.npy";
    write_bytes(path, npy_bytes(dict("<f8", shape, fortran), data));
    EXPECT_EQ(read_npy(path), (std::vector<double>{1, 2, 3})) << shape;
  }
  write_bytes(dir + "/e.npy", npy_bytes(dict("<f8", "(0,)"), ""));
  EXPECT_TRUE(read_npy(dir + "/e.npy").empty());
}

TEST(NpyError, EveryBadFileSaysWhatIsWrong) {
  const std::string dir = scratch_dir();
  const std::string d3 = raw(std::vector<double>{1, 2, 3});
  struct Case {
    std::string bytes, expected;
  };
  const std::vector<Case> cases = {
      {"", "not a .npy file (it does not start with the magic bytes \\x93NUMPY)"},
      {"x,y\n1,2\n", "not a .npy file (it does not start with the magic bytes \\x93NUMPY)"},
      {std::string("\x93NUMPY\x01", 7), "truncated .npy file (it ends inside the header)"},
      {std::string("\x93NUMPY\x01\x00\x76", 9), "truncated .npy file (it ends inside the header)"},
      {std::string("\x93NUMPY\x04\x00", 8) + std::string(120, ' '),
       "unsupported .npy format version 4.0 (parafit reads 1.0, 2.0 and 3.0)"},
      {std::string("\x93NUMPY\x01\x01", 8) + std::string(120, ' '),
       "unsupported .npy format version 1.1 (parafit reads 1.0, 2.0 and 3.0)"},
      {std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 17),
       "truncated .npy file: the header is 118 bytes long but only 7 follow"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False}", d3),
       "malformed .npy header: no 'shape' key"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'extra': 1}", d3),
       "malformed .npy header: unexpected key 'extra' (the keys are 'descr', 'fortran_order' "
       "and 'shape')"},
      {npy_bytes("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", d3),
       "malformed .npy header: key 'descr' appears twice"},
      {npy_bytes(dict("<f8", "3"), d3), "malformed .npy header: 'shape' is 3, not a tuple"},
      {npy_bytes(dict("<f8", "(-3,)"), d3),
       "malformed .npy header: bad dimension -3 in 'shape' (-3,)"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}", d3),
       "malformed .npy header: 'fortran_order' is 0, not True or False"},
      {npy_bytes(dict("<c16", "(3,)"), d3 + d3),
       "unsupported dtype '<c16' (parafit reads float64 '<f8'; float32, integer and bool arrays "
       "are converted to float64)"},
      {npy_bytes(dict("<U5", "(3,)"), d3),
       "unsupported dtype '<U5' (parafit reads float64 '<f8'; float32, integer and bool arrays "
       "are converted to float64)"},
      {npy_bytes(dict("|O", "(3,)"), d3),
       "unsupported dtype '|O' (parafit reads float64 '<f8'; float32, integer and bool arrays "
       "are converted to float64)"},
      {npy_bytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", d3),
       "unsupported dtype [('a', '<f8')] (a structured dtype; parafit reads float64 '<f8' "
       "arrays, one column per file)"},
      {npy_bytes(dict("<f8", "(3, 2)"), d3 + d3),
       "shape (3, 2) is not 1-D (parafit reads one 1-D array per column: save each column on "
       "its own, e.g. np.save('dir/name.npy', a[:, k]))"},
      {npy_bytes(dict("<f8", "()"), d3.substr(0, 8)),
       "shape () is not 1-D (parafit reads one 1-D array per column: save each column on its "
       "own, e.g. np.save('dir/name.npy', a[:, k]))"},
      {npy_bytes(dict("<f8", "(4,)"), d3),
       "truncated .npy file: the header says 4 values of '<f8' (32 bytes) but only 24 bytes of "
       "data follow it"},
      // 2^61 float64s are 2^64 bytes: the size is not shown wrapped round to 0.
      {npy_bytes(dict("<f8", "(2305843009213693952,)"), d3),
       "truncated .npy file: the header says 2305843009213693952 values of '<f8' (more than "
       "18446744073709551615 bytes) but only 24 bytes of data follow it"},
      {npy_bytes(dict("<f8", "(3,)"), d3 + "x"),
       "1 unexpected bytes after the 3 values the header announces"},
      {npy_bytes(dict("<f8", "(99999999999999999999,)"), d3),
       "malformed .npy header: bad dimension 99999999999999999999 in 'shape' "
       "(99999999999999999999,)"},
      {npy_bytes(dict("<f8", "(4294967296, 4294967296)"), d3), "shape (4294967296, 4294967296) is too large"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = dir + fmt::format("/bad{}.npy", i);
    write_bytes(path, cases[i].bytes);
    EXPECT_EQ(npy_error(path), path + ": " + cases[i].expected) << i;
  }
}

TEST(NpyError, MalformedDictsPointAtTheProblem) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/m.npy";
  const std::string d3 = raw(std::vector<double>{1, 2, 3});
  for (const std::string& bad :
       {std::string("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)"),
        std::string("{'descr': '<f8' 'fortran_order': False, 'shape': (3,)}"),
        std::string("{'descr': '<f8, 'fortran_order': False, 'shape': (3,)}"),
        std::string("['descr', '<f8']"), std::string("{'descr': '<f8'} trailing"),
        std::string("{'descr': float64, 'fortran_order': False, 'shape': (3,)}"),
        std::string(100, '(') + std::string(100, ')')}) {
    write_bytes(path, npy_bytes(bad, d3));
    const std::string message = npy_error(path);
    EXPECT_EQ(message.rfind(path + ": malformed .npy header: ", 0), 0u) << message;
  }
  EXPECT_EQ(npy_error(dir + "/none.npy"),
            "cannot open '" + dir + "/none.npy': No such file or directory");
}

// --- Directories --------------------------------------------------------------------------------

// dir/x.npy and dir/y.npy with n rows: x = i, y = 10 i + 0.5.
void write_xy(const std::string& dir, std::size_t n) {
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = 10.0 * static_cast<double>(i) + 0.5;
  }
  write_npy(dir + "/x.npy", x);
  write_npy(dir + "/y.npy", y);
}

TEST(NpyDir, ReadsEveryColumnSortedOrTheOnesAsked) {
  const std::string dir = scratch_dir();
  write_xy(dir, 5);
  write_npy(dir + "/a.npy", std::vector<double>{9, 8, 7, 6, 5});
  write_bytes(dir + "/README.txt", "not a column");
  fs::create_directory(dir + "/sub.npy");  // a directory, not a column
  EXPECT_EQ(npy_dir_columns(dir), (std::vector<std::string>{"a", "x", "y"}));
  NpyReport report;
  const Dataset all = read_npy_dir(dir, {}, &report);
  EXPECT_EQ(all.names(), (std::vector<std::string>{"a", "x", "y"}));
  EXPECT_EQ(all.source(), dir);
  EXPECT_EQ(values(all, 1), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(report.rows_read, 5u);
  EXPECT_EQ(report.rows_total, 5u);
  EXPECT_EQ(report.bytes, 3u * (128u + 40u));

  NpyOptions o;
  o.columns = {"y", "a"};
  const Dataset two = read_npy_dir(dir, o);
  EXPECT_EQ(two.names(), (std::vector<std::string>{"y", "a"}));
  EXPECT_EQ(values(two, 0), (std::vector<double>{0.5, 10.5, 20.5, 30.5, 40.5}));
}

TEST(NpyDir, ColumnsAreCheckedOnlyWhenLoaded) {
  // A bad or shorter file that is not asked for does not stop the others from loading.
  const std::string dir = scratch_dir();
  write_xy(dir, 4);
  write_bytes(dir + "/junk.npy", "junk");
  NpyOptions o;
  o.columns = {"x", "y"};
  EXPECT_EQ(read_npy_dir(dir, o).rows(), 4u);
  EXPECT_EQ(dir_error(dir), dir + "/junk.npy: not a .npy file (it does not start with the magic "
                                  "bytes \\x93NUMPY)");
}

TEST(NpyDir, Errors) {
  const std::string dir = scratch_dir();
  EXPECT_EQ(dir_error(dir + "/missing"),
            "cannot open directory '" + dir + "/missing': No such file or directory");
  write_bytes(dir + "/file.csv", "x\n1\n");
  EXPECT_EQ(dir_error(dir + "/file.csv"), "'" + dir + "/file.csv' is not a directory");
  EXPECT_EQ(dir_error(dir),
            dir + ": no .npy files in the directory (expected one <column>.npy file per column)");

  write_xy(dir, 3);
  NpyOptions o;
  o.columns = {"x", "z"};
  EXPECT_EQ(dir_error(dir, o),
            dir + ": no column 'z' (no file '" + dir + "/z.npy'); columns are: x, y");
  o.columns = {"x", "x"};
  EXPECT_EQ(dir_error(dir, o), dir + ": column 'x' is requested twice");
  o.columns = {"../x"};
  EXPECT_EQ(dir_error(dir, o),
            dir + ": column name '../x' cannot name a .npy file: it contains '/'");
  o.columns = {".."};
  EXPECT_EQ(dir_error(dir, o), dir + ": column name '..' cannot name a .npy file: '..' is not a "
                                     "file name");

  write_npy(dir + "/short.npy", std::vector<double>{1, 2});
  o.columns = {"x", "short"};
  EXPECT_EQ(dir_error(dir, o),
            dir + ": columns have different lengths: 'x' has 3 values, 'short' has 2");
  o.columns = {};
  EXPECT_EQ(dir_error(dir, o),
            dir + ": columns have different lengths: 'short' has 2 values, 'x' has 3");
  fs::remove(dir + "/short.npy");

  write_npy(dir + "/bad\tname.npy", std::vector<double>{1, 2, 3});
  EXPECT_EQ(dir_error(dir), dir + ": the file 'bad\\tname.npy' does not name a column: it "
                                  "contains the control character '\\t'");
  fs::remove(dir + "/bad\tname.npy");
  write_npy(dir + "/.npy", std::vector<double>{1, 2, 3});
  EXPECT_EQ(dir_error(dir),
            dir + ": the file '.npy' does not name a column: the name is empty");
}

TEST(NpyDir, NonFiniteValuesNameColumnAndIndexOrAreDropped) {
  const std::string dir = scratch_dir();
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  write_npy(dir + "/x.npy", std::vector<double>{1, 2, 3, 4, inf, 6});
  write_npy(dir + "/y.npy", std::vector<double>{1, 2, nan, 4, 5, 6});
  EXPECT_EQ(dir_error(dir), dir + "/y.npy: NaN value at index 2 of column 'y'");
  NpyOptions x;
  x.columns = {"x"};
  EXPECT_EQ(dir_error(dir, x), dir + "/x.npy: infinite value at index 4 of column 'x'");
  NpyOptions drop;
  drop.drop_missing = true;
  NpyReport report;
  const Dataset d = read_npy_dir(dir, drop, &report);
  EXPECT_EQ(values(d, 0), (std::vector<double>{1, 2, 4, 6}));
  EXPECT_EQ(values(d, 1), (std::vector<double>{1, 2, 4, 6}));
  EXPECT_EQ(report.rows_dropped, 2u);
  EXPECT_EQ(report.rows_read, 4u);

  // The index counts from the start of the file in a sharded read too.
  NpyOptions shard;
  shard.shard_count = 2;
  shard.shard_index = 1;
  EXPECT_EQ(dir_error(dir, shard), dir + "/x.npy: infinite value at index 4 of column 'x'");
}

TEST(NpyDir, NoRowsIsAnErrorUnlessSharded) {
  const std::string dir = scratch_dir();
  write_xy(dir, 0);
  EXPECT_EQ(dir_error(dir), dir + ": no data rows (the .npy files are empty)");
  NpyOptions o;
  o.shard_count = 3;
  o.shard_index = 1;
  const Dataset d = read_npy_dir(dir, o);
  EXPECT_EQ(d.rows(), 0u);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y"}));

  const std::string nan_dir = dir + "/nan";
  fs::create_directory(nan_dir);
  write_npy(nan_dir + "/v.npy", std::vector<double>{std::nan("")});
  NpyOptions drop;
  drop.drop_missing = true;
  EXPECT_EQ(dir_error(nan_dir, drop),
            nan_dir + ": no data rows (all 1 rows were dropped for NaN or infinite values)");
}

TEST(NpyDir, AlignedShardsStartOnMultiplesAndStillPartition) {
  const std::string dir = scratch_dir();
  write_xy(dir, 100);
  const Dataset whole = read_npy_dir(dir);
  for (const std::size_t align : {1u, 8u, 30u, 1000u}) {
    for (std::size_t k = 1; k <= 5; ++k) {
      std::vector<double> x;
      for (std::size_t r = 0; r < k; ++r) {
        NpyOptions o;
        o.shard_index = r;
        o.shard_count = k;
        o.shard_align = align;
        NpyReport report;
        const Dataset d = read_npy_dir(dir, o, &report);
        // Independent arithmetic: round floor(r*100/k) up to the multiple, capped at 100.
        const auto bound = [&](std::size_t q) {
          const std::size_t even = q * 100 / k;
          return std::min<std::size_t>(100, (even + align - 1) / align * align);
        };
        EXPECT_EQ(report.first_row, bound(r)) << align << " " << k << " " << r;
        EXPECT_EQ(d.rows(), bound(r + 1) - bound(r));
        if (d.rows() > 0) {
          EXPECT_EQ(report.first_row % align, 0u);
        }
        const auto dx = values(d, 0);
        x.insert(x.end(), dx.begin(), dx.end());
      }
      EXPECT_EQ(x, values(whole, 0)) << "align " << align << ", " << k << " shards";
    }
  }
}

TEST(NpyDir, ShardsPartitionTheRows) {
  const std::string dir = scratch_dir();
  for (const std::size_t n : {0u, 1u, 2u, 5u, 13u, 100u}) {
    write_xy(dir, n);
    for (std::size_t k = 1; k <= 7; ++k) {
      std::vector<double> x, y;
      for (std::size_t r = 0; r < k; ++r) {
        NpyOptions o;
        o.shard_index = r;
        o.shard_count = k;
        if (n == 0 && k == 1) continue;  // an error, tested above
        NpyReport report;
        const Dataset d = read_npy_dir(dir, o, &report);
        EXPECT_EQ(report.first_row, r * n / k);
        EXPECT_EQ(d.rows(), (r + 1) * n / k - r * n / k);
        EXPECT_EQ(report.rows_total, n);
        const auto dx = values(d, 0);
        const auto dy = values(d, 1);
        x.insert(x.end(), dx.begin(), dx.end());
        y.insert(y.end(), dy.begin(), dy.end());
      }
      if (n == 0) continue;
      const Dataset whole = read_npy_dir(dir);
      EXPECT_EQ(x, values(whole, 0)) << n << " rows, " << k << " shards";
      EXPECT_EQ(y, values(whole, 1)) << n << " rows, " << k << " shards";
    }
  }
  NpyOptions bad;
  bad.shard_count = 2;
  bad.shard_index = 5;
  EXPECT_EQ(dir_error(dir, bad), dir + ": invalid shard 5 of 2 (need shard_index < shard_count)");
}

TEST(NpyDir, ColumnNameRules) {
  EXPECT_EQ(npy_column_name_problem("x"), "");
  EXPECT_EQ(npy_column_name_problem("log y (mg/L)").find("'/'") != std::string::npos, true);
  EXPECT_EQ(npy_column_name_problem("with space"), "");
  EXPECT_EQ(npy_column_name_problem(".hidden"), "");
  EXPECT_EQ(npy_column_name_problem("\xc3\xa9t\xc3\xa9"), "");  // UTF-8 is fine
  EXPECT_EQ(npy_column_name_problem(""), "the name is empty");
  EXPECT_EQ(npy_column_name_problem("."), "'.' is not a file name");
  EXPECT_EQ(npy_column_name_problem(".."), "'..' is not a file name");
  EXPECT_EQ(npy_column_name_problem(std::string("a\0b", 3)),
            "it contains the control character '\\x00'");
}

// --- read_table ---------------------------------------------------------------------------------

TEST(Table, PicksTheFormatFromThePath) {
  const std::string dir = scratch_dir();
  const std::string npy = dir + "/data";
  fs::create_directory(npy);
  write_xy(npy, 4);
  write_bytes(dir + "/data.csv", "x,y\n0,0.5\n1,10.5\n2,20.5\n3,30.5\n");
  EXPECT_EQ(table_format(npy), TableFormat::kNpyDir);
  EXPECT_EQ(table_format(dir + "/data.csv"), TableFormat::kCsv);
  EXPECT_EQ(table_format(dir + "/missing"), TableFormat::kCsv);

  TableOptions o;
  o.columns = {"y", "x"};
  TableReport from_npy, from_csv;
  const Dataset a = read_table(npy, o, &from_npy);
  const Dataset b = read_table(dir + "/data.csv", o, &from_csv);
  EXPECT_EQ(a.names(), b.names());
  EXPECT_EQ(values(a, 0), values(b, 0));
  EXPECT_EQ(values(a, 1), values(b, 1));
  EXPECT_EQ(from_npy.format, TableFormat::kNpyDir);
  EXPECT_EQ(from_csv.format, TableFormat::kCsv);
  EXPECT_EQ(from_csv.delimiter, ',');
  EXPECT_EQ(from_npy.rows_read, 4u);
  EXPECT_EQ(from_npy.bytes, 2u * (128u + 32u));
  EXPECT_EQ(read_table_columns(npy), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(read_table_columns(dir + "/data.csv"), (std::vector<std::string>{"x", "y"}));

  // Shards through read_table, both formats.
  for (const std::string& path : {npy, dir + "/data.csv"}) {
    TableOptions s;
    s.shard_count = 3;
    std::vector<double> x;
    for (std::size_t r = 0; r < 3; ++r) {
      s.shard_index = r;
      const auto part = values(read_table(path, s), 0);
      x.insert(x.end(), part.begin(), part.end());
    }
    EXPECT_EQ(x, (std::vector<double>{0, 1, 2, 3})) << path;
  }
}

TEST(Table, ASingleNpyFileIsExplained) {
  const std::string dir = scratch_dir();
  write_npy(dir + "/x.npy", std::vector<double>{1});
  const std::string expected =
      dir + "/x.npy: a single .npy file; parafit reads a directory holding one 1-D .npy file per "
            "column (e.g. data/x.npy and data/y.npy, read as the directory data)";
  try {
    read_table(dir + "/x.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
  EXPECT_THROW(read_table_columns(dir + "/x.npy"), Error);
}

// --- Against numpy itself, where a Python with numpy is installed -------------------------------

std::string python_with_numpy() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    const std::string cmd = fmt::format("{} -c 'import numpy' >/dev/null 2>&1", python);
    if (std::system(cmd.c_str()) == 0) return python;
  }
  return "";
}

TEST(NpyNumpy, NumpyReadsOursAndWeReadNumpys) {
  const std::string python = python_with_numpy();
  if (python.empty()) GTEST_SKIP() << "no Python with numpy";
  const std::string dir = scratch_dir();
  std::vector<double> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) / 3.0 - 100.0;
  write_npy(dir + "/ours.npy", v);
  const std::string script = fmt::format(
      "import numpy as np, sys\n"
      "d = '{0}'\n"
      "a = np.load(d + '/ours.npy')\n"
      "assert a.dtype == np.float64 and a.shape == (1000,)\n"
      "assert (a == np.arange(1000.0) / 3.0 - 100.0).all()\n"
      "np.save(d + '/same.npy', a)\n"
      "np.save(d + '/f4.npy', np.arange(5, dtype=np.float32) / 4)\n"
      "np.save(d + '/i8.npy', np.arange(5, dtype=np.int64) - 2)\n"
      "np.save(d + '/col.npy', np.arange(5.0).reshape(5, 1))\n"
      "np.save(d + '/be.npy', np.arange(5.0).astype('>f8'))\n"
      "np.lib.format.write_array(open(d + '/v2.npy', 'wb'), np.arange(5.0), version=(2, 0))\n"
      "np.save(d + '/two_d.npy', np.zeros((2, 3)))\n",
      dir);
  std::ofstream(dir + "/check.py") << script;
  ASSERT_EQ(std::system(fmt::format("{} '{}/check.py'", python, dir).c_str()), 0);
  // np.save writes the very bytes write_npy wrote.
  EXPECT_EQ(read_bytes(dir + "/same.npy"), read_bytes(dir + "/ours.npy"));
  EXPECT_EQ(read_npy(dir + "/f4.npy"), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(read_npy(dir + "/i8.npy"), (std::vector<double>{-2, -1, 0, 1, 2}));
  for (const char* name : {"/col.npy", "/be.npy", "/v2.npy"}) {
    EXPECT_EQ(read_npy(dir + name), (std::vector<double>{0, 1, 2, 3, 4})) << name;
  }
  EXPECT_NE(npy_error(dir + "/two_d.npy").find("shape (2, 3) is not 1-D"), std::string::npos);
}

}  // namespace
}  // namespace parafit
