// tests/data/test_csv_shards.cpp — read_csv with shard_index/shard_count: the shards partition the
// rows exactly, each shard reads only its own byte range, and errors keep their file positions.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "csv_test_files.h"
#include "parafit/csv.h"
#include "parafit/error.h"

namespace parafit {
namespace {

using test::write_temp_file;

struct Sharded {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;  // the shards' rows, concatenated in shard order
  std::vector<CsvReport> reports;
  std::vector<std::size_t> rows;             // rows of each shard
};

Sharded read_sharded(const std::string& path, std::size_t shards, CsvOptions options = {}) {
  Sharded out;
  options.shard_count = shards;
  for (std::size_t r = 0; r < shards; ++r) {
    options.shard_index = r;
    CsvReport report;
    const Dataset d = read_csv(path, options, &report);
    if (r == 0) {
      out.names = d.names();
      out.columns.resize(d.num_columns());
    }
    EXPECT_EQ(d.names(), out.names);
    EXPECT_EQ(report.rows_read, d.rows());
    for (std::size_t k = 0; k < d.num_columns(); ++k) {
      const auto c = d.column(k);
      out.columns[k].insert(out.columns[k].end(), c.begin(), c.end());
    }
    out.reports.push_back(report);
    out.rows.push_back(d.rows());
  }
  return out;
}

std::vector<std::vector<double>> all_columns(const Dataset& d) {
  std::vector<std::vector<double>> out;
  for (std::size_t k = 0; k < d.num_columns(); ++k) {
    const auto c = d.column(k);
    out.emplace_back(c.begin(), c.end());
  }
  return out;
}

// The offset of the first byte after the header line, found independently of the reader: the
// first line that is neither blank nor a comment is the header.
std::size_t data_start(const std::string& text) {
  std::size_t p = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  for (;;) {
    const std::size_t nl = text.find('\n', p);
    const std::size_t stop = nl == std::string::npos ? text.size() : nl;
    const std::size_t first = text.find_first_not_of(" \t\r", p);
    const bool ignorable = first >= stop || text[first] == '#';
    if (!ignorable || nl == std::string::npos) return nl == std::string::npos ? text.size() : nl + 1;
    p = nl + 1;
  }
}

// Data rows (neither blank nor comment) whose line starts in [begin, end).
std::size_t data_lines_starting_in(const std::string& text, std::size_t begin, std::size_t end) {
  std::size_t rows = 0;
  for (std::size_t p = begin; p < end;) {
    const std::size_t nl = text.find('\n', p);
    const std::size_t stop = nl == std::string::npos ? text.size() : nl;
    const std::size_t first = text.find_first_not_of(" \t\r", p);
    if (first < stop && text[first] != '#') ++rows;
    if (nl == std::string::npos) break;
    p = nl + 1;
  }
  return rows;
}

// For K = 1..7: the shards' rows concatenated equal the unsharded read, and each shard's byte
// range is exactly the documented one: [b_r, b_{r+1}) with b_r the first line start at or after
// D + floor(r*S/K), holding exactly the data lines that start in it.
void expect_shards_partition(const std::string& text, const CsvOptions& options = {}) {
  const std::string path = write_temp_file(text);
  const Dataset whole = read_csv(path, options);
  const auto expected = all_columns(whole);
  const std::size_t d = data_start(text);
  const std::size_t s = text.size() - d;
  for (std::size_t k = 1; k <= 7; ++k) {
    SCOPED_TRACE(fmt::format("{} shards", k));
    const Sharded got = read_sharded(path, k, options);
    EXPECT_EQ(got.names, whole.names());
    EXPECT_EQ(got.columns, expected);
    for (std::size_t r = 0; r < k; ++r) {
      const CsvReport& rep = got.reports[r];
      const std::size_t target = d + r * s / k;
      std::size_t b = target;
      while (b > d && b < text.size() && text[b - 1] != '\n') ++b;
      EXPECT_EQ(rep.shard_begin, b) << "shard " << r;
      EXPECT_EQ(rep.shard_end, r + 1 < k ? got.reports[r + 1].shard_begin : text.size());
      EXPECT_EQ(rep.bytes, text.size());
      EXPECT_EQ(got.rows[r], data_lines_starting_in(text, rep.shard_begin, rep.shard_end) -
                                 rep.rows_dropped)
          << "shard " << r;
    }
  }
}

TEST(CsvShards, PlainFile) {
  std::string text = "x,y\n";
  for (int i = 0; i < 50; ++i) text += fmt::format("{},{}\n", i, i * 0.5 - 3);
  expect_shards_partition(text);
}

TEST(CsvShards, CommentsBlankLinesCrlfAndNoTrailingNewline) {
  const std::string text =
      "# a comment before the header\r\n\r\n"
      "x, y ,z\r\n"
      "1,2,3\r\n"
      "# comment\r\n"
      "   \r\n"
      "4, 5 ,6\r\n"
      "\n"
      "7,8,9\n"
      "  # indented comment\n"
      "10,11,12\r\n"
      "13,14,15\r\n"
      "\t\n"
      "16,17,18";
  expect_shards_partition(text);
  CsvOptions two;
  two.columns = {"z", "x"};
  expect_shards_partition(text, two);
}

TEST(CsvShards, LastLineEndsWithLoneCarriageReturn) {
  expect_shards_partition("x\r\n1\r\n2\r\n3\r");
}

TEST(CsvShards, QuotedFieldsOnOneLine) {
  CsvOptions numbers;
  numbers.columns = {"a", "c"};
  expect_shards_partition(
      "a,\"b, quoted\",c\n"
      "1,\"text, with comma\",2\n"
      "\"3\",\"\"\"escaped\"\"\",\" 4 \"\n"
      "5,x,6\n",
      numbers);
}

TEST(CsvShards, MoreShardsThanLines) {
  // K > number of rows: some shards are empty, which is not an error when sharded.
  const std::string path = write_temp_file("x,y\n1,2\n3,4\n");
  const Sharded got = read_sharded(path, 7);
  EXPECT_EQ(got.columns, (std::vector<std::vector<double>>{{1, 3}, {2, 4}}));
  std::size_t empty = 0;
  for (const std::size_t n : got.rows) empty += n == 0;
  EXPECT_EQ(empty, 5u);
  expect_shards_partition("x\n1\n");
  expect_shards_partition("x\n1");
}

TEST(CsvShards, EmptyShardHasTheColumnNames) {
  const std::string path = write_temp_file("x,y,z\n1,2,3\n");
  CsvOptions o;
  o.columns = {"z", "x"};
  o.shard_count = 3;
  o.shard_index = 0;  // the only row starts at D, so shard 0 has it
  EXPECT_EQ(read_csv(path, o).rows(), 1u);
  o.shard_index = 2;
  CsvReport report;
  const Dataset d = read_csv(path, o, &report);
  EXPECT_EQ(d.rows(), 0u);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"z", "x"}));
  EXPECT_EQ(report.rows_read, 0u);
  EXPECT_EQ(report.shard_begin, report.shard_end);
}

TEST(CsvShards, HeaderOnlyFileGivesEmptyShardsButUnshardedStillFails) {
  for (const char* text : {"x,y\n", "x,y", "x,y\n# only a comment\n\n"}) {
    const std::string path = write_temp_file(text);
    const Sharded got = read_sharded(path, 3);
    EXPECT_EQ(got.names, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(got.columns, (std::vector<std::vector<double>>{{}, {}}));
    EXPECT_NE(test::csv_error(path).find("no data rows"), std::string::npos);
  }
}

TEST(CsvShards, LinesExactlyAtBoundaries) {
  // Eight 4-byte lines: S = 32, and for K = 2, 4, 8 every boundary D + r*S/K is a line start,
  // which belongs to shard r.
  std::string text = "v\n";
  for (int i = 0; i < 8; ++i) text += fmt::format("{}.5\n", i);
  const std::string path = write_temp_file(text);
  for (const std::size_t k : {2u, 4u, 8u}) {
    const Sharded got = read_sharded(path, k);
    for (std::size_t r = 0; r < k; ++r) {
      EXPECT_EQ(got.reports[r].shard_begin, 2 + r * 32 / k);
      EXPECT_EQ(got.rows[r], 8 / k);
    }
  }
  // K = 3: boundaries 2 + 10 = 12 (inside the third line, which starts at 10) and 2 + 21 = 23
  // (inside the sixth, starting at 22): each moves to the next line start.
  const Sharded three = read_sharded(path, 3);
  EXPECT_EQ(three.reports[1].shard_begin, 14u);
  EXPECT_EQ(three.reports[2].shard_begin, 26u);
  EXPECT_EQ(three.rows, (std::vector<std::size_t>{3, 3, 2}));
  expect_shards_partition(text);
}

TEST(CsvShards, DropMissingCountsPerShard) {
  std::string text = "x,y\n";
  for (int i = 0; i < 40; ++i) text += i % 7 == 3 ? fmt::format("{},nan\n", i) : fmt::format("{},{}\n", i, i);
  text += "41,\n";
  CsvOptions drop;
  drop.drop_missing = true;
  expect_shards_partition(text, drop);
  const std::string path = write_temp_file(text);
  CsvReport whole;
  read_csv(path, drop, &whole);
  const Sharded got = read_sharded(path, 5, drop);
  std::size_t dropped = 0;
  for (const auto& r : got.reports) dropped += r.rows_dropped;
  EXPECT_EQ(dropped, whole.rows_dropped);
  EXPECT_EQ(whole.rows_dropped, 7u);
}

// Random files: blank and comment lines anywhere, CRLF or LF per line, blanks around fields,
// quoted numbers, a trailing newline or not.
TEST(CsvShards, RandomFilesPartitionExactly) {
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> value(-1e6, 1e6);
  for (int file = 0; file < 60; ++file) {
    SCOPED_TRACE(fmt::format("file {}", file));
    std::string text = rng() % 3 == 0 ? "# leading comment\n" : "";
    text += "a,b,c\n";
    const int lines = static_cast<int>(rng() % 40);
    for (int i = 0; i < lines; ++i) {
      const auto kind = rng() % 10;
      std::string line;
      if (kind == 0) {
        line = "";
      } else if (kind == 1) {
        line = "  # comment, with, commas";
      } else if (kind == 2) {
        line = " \t";
      } else {
        for (int f = 0; f < 3; ++f) {
          if (f > 0) line += ',';
          const std::string number = fmt::format("{}", value(rng));
          switch (rng() % 4) {
            case 0: line += "\"" + number + "\""; break;
            case 1: line += " " + number + " "; break;
            default: line += number;
          }
        }
      }
      text += line;
      if (i + 1 < lines || rng() % 2 == 0) text += rng() % 2 == 0 ? "\r\n" : "\n";
    }
    if (data_lines_starting_in(text, data_start(text), text.size()) == 0) text += "1,2,3\n";
    expect_shards_partition(text);
  }
}

// --- Each shard parses only its own bytes -------------------------------------------------------

TEST(CsvShards, BadRowFailsOnlyItsOwnShardWithItsFileLine) {
  // 100 rows on lines 2..101; line 95 (in the last of 4 shards) is bad.
  std::string text = "x,y\n";
  for (int line = 2; line <= 101; ++line) {
    text += line == 95 ? "94,abc\n" : fmt::format("{},{}\n", line - 1, line);
  }
  const std::string path = write_temp_file(text);
  CsvOptions o;
  o.shard_count = 4;
  for (std::size_t r = 0; r < 3; ++r) {
    o.shard_index = r;
    EXPECT_NO_THROW(read_csv(path, o)) << "shard " << r;
  }
  o.shard_index = 3;
  EXPECT_EQ(test::csv_error(path, o),
            path + ":95:4: non-numeric field 'abc' in column 'y'");
  EXPECT_EQ(test::csv_error(path), path + ":95:4: non-numeric field 'abc' in column 'y'");
}

TEST(CsvShards, BoundaryInsideABadLineLeavesItToThePreviousShard) {
  // D = 2; the data part is ten "1.25\n" (bytes 0..49), "oops\n" (50..54) and ten "2.25\n"
  // (55..104), so S = 105. For K = 2 the boundary D + 52 falls inside "oops": shard 1 only scans
  // to the end of that line and starts after it, never parsing it; shard 0 owns it and fails.
  std::string text = "x\n";
  for (int i = 0; i < 10; ++i) text += "1.25\n";
  text += "oops\n";
  for (int i = 0; i < 10; ++i) text += "2.25\n";
  const std::string path = write_temp_file(text);
  CsvOptions o;
  o.shard_count = 2;
  o.shard_index = 1;
  CsvReport report;
  const Dataset second = read_csv(path, o, &report);
  EXPECT_EQ(report.shard_begin, 2u + 55u);  // the line after "oops"
  EXPECT_EQ(second.rows(), 10u);
  o.shard_index = 0;
  EXPECT_EQ(test::csv_error(path, o), path + ":12:1: non-numeric field 'oops' in column 'x'");
}

TEST(CsvShards, GarbageOutsideTheShardIsNeverRead) {
  // Twenty good rows (80 bytes) then 54 bytes of garbage that the unsharded reader rejects: the
  // boundary of 2 shards, D + 67, lies among the good rows, and shard 0 stops there.
  std::string text = "x\n";
  for (int i = 0; i < 20; ++i) text += "3.5\n";
  for (int i = 0; i < 3; ++i) text += "\"unterminated,, \x01\n";
  const std::string path = write_temp_file(text);
  CsvOptions o;
  o.shard_count = 2;
  CsvReport report;
  const Dataset first = read_csv(path, o, &report);
  EXPECT_EQ(report.shard_end, 2u + 68u);
  EXPECT_EQ(first.rows(), 17u);
  EXPECT_NE(test::csv_error(path), "<no error>");
}

TEST(CsvShards, QuotedLineBreakIsAnErrorWhenSharded) {
  const std::string text = "x,note\n1,\"two\nlines\"\n2,ok\n3,ok\n4,ok\n";
  const std::string path = write_temp_file(text);
  // Unsharded, a quoted field may span lines (the column is not loaded).
  CsvOptions x;
  x.columns = {"x"};
  EXPECT_EQ(read_csv(path, x).rows(), 4u);
  // Sharded, it is an error in whichever shard holds it, wherever the boundaries fall.
  for (std::size_t k = 2; k <= 4; ++k) {
    CsvOptions o = x;
    o.shard_count = k;
    o.shard_index = 0;
    EXPECT_EQ(test::csv_error(path, o),
              path + ":2:3: quoted field '\"two' is not closed on its line; a sharded read "
                     "(shard_count > 1) needs every row on one line, without line breaks inside "
                     "quotes")
        << k << " shards";
  }
}

TEST(CsvShards, InvalidShardIsAnError) {
  const std::string path = write_temp_file("x\n1\n");
  CsvOptions o;
  o.shard_count = 2;
  o.shard_index = 2;
  EXPECT_EQ(test::csv_error(path, o),
            path + ": invalid shard 2 of 2 (need shard_index < shard_count)");
  o.shard_count = 0;
  o.shard_index = 0;
  EXPECT_EQ(test::csv_error(path, o),
            path + ": invalid shard 0 of 0 (need shard_index < shard_count)");
}

TEST(CsvShards, HeaderErrorsComeFirstOnEveryShard) {
  const std::string path = write_temp_file("x,y\n1,2\n");
  CsvOptions o;
  o.shard_count = 3;
  o.shard_index = 2;
  o.columns = {"z"};
  EXPECT_EQ(test::csv_error(path, o), path + ":1:1: no column named 'z'; columns are: x, y");
}

}  // namespace
}  // namespace parafit
