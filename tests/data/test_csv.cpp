// tests/data/test_csv.cpp — read_csv: features, every error message, and a bit-exact round trip.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "csv_test_files.h"
#include "parafit/csv.h"
#include "parafit/error.h"

namespace parafit {
namespace {

using test::csv_error;
using test::write_temp_file;

std::vector<double> values(const Dataset& d, std::string_view name) {
  const auto c = d.column(name);
  return {c.begin(), c.end()};
}

CsvOptions only(std::vector<std::string> columns) {
  CsvOptions o;
  o.columns = std::move(columns);
  return o;
}

CsvOptions dropping() {
  CsvOptions o;
  o.drop_missing = true;
  return o;
}

// --- What is read -------------------------------------------------------------------------------

TEST(CsvRead, SimpleFileAndReport) {
  const std::string text = "x,y\n1,2\n3.5,-4e2\n";
  const auto path = write_temp_file(text);
  CsvReport report;
  report.delimiter = '?';
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(d.rows(), 2u);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1.0, 3.5}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2.0, -400.0}));
  EXPECT_EQ(d.source(), path);
  EXPECT_EQ(report.delimiter, ',');
  EXPECT_EQ(report.bytes, text.size());
  EXPECT_EQ(report.rows_read, 2u);
  EXPECT_EQ(report.rows_dropped, 0u);
}

TEST(CsvRead, NoTrailingNewline) {
  const auto path = write_temp_file("x,y\n1,2\n3,4");
  const Dataset d = read_csv(path);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 3}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 4}));
}

TEST(CsvRead, SingleColumnWithoutTrailingNewline) {
  const Dataset d = read_csv(write_temp_file("v\n7"));
  EXPECT_EQ(values(d, "v"), (std::vector<double>{7}));
}

TEST(CsvRead, CrlfLineEnds) {
  const auto path = write_temp_file("x,y\r\n1,2\r\n\r\n3 ,4 \r\n5,6\r");
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(d.names()[1], "y");  // no '\r' left on the last header name
  EXPECT_EQ(report.rows_read, 3u);
}

TEST(CsvRead, BlankAndCommentLinesAnywhere) {
  const auto path = write_temp_file(
      "# produced by a tool\n\n   \n\t\r\n  # indented comment\nx,y\n# between\n1,2\n\n"
      "   # indented\n \t \n\r\n3,4\n#,9,9,9\n# last line without newline");
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 3}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 4}));
  EXPECT_EQ(report.rows_read, 2u);
  EXPECT_EQ(report.rows_dropped, 0u);
}

TEST(CsvRead, Utf8ByteOrderMarkIsIgnored) {
  const Dataset d = read_csv(write_temp_file("\xEF\xBB\xBFx,y\n1,2\n"));
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y"}));
}

TEST(CsvRead, NumberForms) {
  const auto path = write_temp_file(
      "v\n1e5\n-.5\n+3\n1.\n.25\n-0\n1E-3\n+.5\n 2.5 \n\t-7\t\n1e-400\n123456789012345678901234\n"
      "0.1000000000000000055511151231257827\n");
  const auto v = values(read_csv(path), "v");
  ASSERT_EQ(v.size(), 13u);
  EXPECT_EQ(v[0], 1e5);
  EXPECT_EQ(v[1], -0.5);
  EXPECT_EQ(v[2], 3.0);
  EXPECT_EQ(v[3], 1.0);
  EXPECT_EQ(v[4], 0.25);
  EXPECT_EQ(v[5], 0.0);
  EXPECT_TRUE(std::signbit(v[5]));
  EXPECT_EQ(v[6], 1e-3);
  EXPECT_EQ(v[7], 0.5);
  EXPECT_EQ(v[8], 2.5);
  EXPECT_EQ(v[9], -7.0);
  EXPECT_EQ(v[10], 0.0);  // underflow rounds to zero, like strtod
  EXPECT_EQ(v[11], 123456789012345678901234.0);
  EXPECT_EQ(v[12], 0.1);
}

TEST(CsvRead, BlanksAroundFields) {
  const Dataset d = read_csv(write_temp_file(" x , y \n  1.5 ,\t2\t\n"));
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1.5}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2}));
}

TEST(CsvRead, QuotedFieldsAndHeader) {
  const auto path = write_temp_file("\"x\", \"y z\" ,\"a\"\"b\"\n\"1.5\", \" 2 \" ,\"+3\"\n");
  const Dataset d = read_csv(path);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y z", "a\"b"}));
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1.5}));
  EXPECT_EQ(values(d, "y z"), (std::vector<double>{2}));
  EXPECT_EQ(values(d, "a\"b"), (std::vector<double>{3}));
}

TEST(CsvRead, QuotedHeaderNameWithDelimiter) {
  const Dataset d = read_csv(write_temp_file("\"t, s\",y\n1,2\n"));
  EXPECT_EQ(d.names(), (std::vector<std::string>{"t, s", "y"}));
}

TEST(CsvRead, SkippedQuotedColumnHonoursQuotesAndEscapes) {
  const auto path = write_temp_file(
      "name,x,note\n"
      "\"Smith, \"\"J\"\"\",1.5,plain\n"
      "\"a,b,c\" , 2.5 ,\"x\"\"y,z\"\"\"\n"
      "\"\",3.5,\"\"\n"
      "unquoted text,4.5,it's \"fine\" here\n");
  const Dataset d = read_csv(path, only({"x"}));
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x"}));
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1.5, 2.5, 3.5, 4.5}));
}

TEST(CsvRead, SkippedQuotedColumnMaySpanLines) {
  const auto path = write_temp_file("note,x\n\"two\nlines\",1\nok,2\nbad,z\n");
  EXPECT_EQ(csv_error(path, only({"x"})),
            path + ":5:5: non-numeric field 'z' in column 'x'");  // line numbers stay right
  const auto good = write_temp_file("note,x\n\"two\r\nlines, really\",1\nok,2\n", "_good.csv");
  EXPECT_EQ(values(read_csv(good, only({"x"})), "x"), (std::vector<double>{1, 2}));
}

TEST(CsvRead, DetectsTab) {
  const auto path = write_temp_file("x\ty\n1\t2\n");
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(report.delimiter, '\t');
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2}));
}

TEST(CsvRead, DetectsSemicolonWithDecimalCommaLookalikes) {
  // The most frequent candidate wins: two ';' against one ',' inside a quoted name.
  const auto path = write_temp_file("\"a,b\";c;d\n1;2;3\n");
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(report.delimiter, ';');
  EXPECT_EQ(d.names(), (std::vector<std::string>{"a,b", "c", "d"}));
  EXPECT_EQ(values(d, "d"), (std::vector<double>{3}));
}

TEST(CsvRead, DetectionIgnoresDelimitersInsideQuotes) {
  const auto path = write_temp_file("\"a;b;c\",d\n1,2\n");
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(report.delimiter, ',');
  EXPECT_EQ(d.names(), (std::vector<std::string>{"a;b;c", "d"}));
}

TEST(CsvRead, SingleFieldHeaderMeansComma) {
  const auto path = write_temp_file("value\n1\n2\n");
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  EXPECT_EQ(report.delimiter, ',');
  EXPECT_EQ(values(d, "value"), (std::vector<double>{1, 2}));
}

TEST(CsvRead, GivenDelimiterOverridesDetection) {
  const auto path = write_temp_file("a,b|c\n1|2\n");
  CsvOptions o;
  o.delimiter = '|';
  CsvReport report;
  const Dataset d = read_csv(path, o, &report);
  EXPECT_EQ(report.delimiter, '|');
  EXPECT_EQ(d.names(), (std::vector<std::string>{"a,b", "c"}));
  EXPECT_EQ(values(d, "c"), (std::vector<double>{2}));
}

TEST(CsvRead, GivenTabDelimiterKeepsSpacesAsBlanks) {
  CsvOptions o;
  o.delimiter = '\t';
  const Dataset d = read_csv(write_temp_file("x\ty\n 1 \t 2 \n"), o);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2}));
}

TEST(CsvRead, SpaceDelimiter) {
  CsvOptions o;
  o.delimiter = ' ';
  const Dataset d = read_csv(write_temp_file("x y\n1 2\n3 4\n"), o);
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 4}));
}

TEST(CsvRead, DelimiterThatLooksLikePartOfANumber) {
  // With 'e' or '.' as the delimiter "1e2" and "1.5" are two fields each, not one number.
  CsvOptions e;
  e.delimiter = 'e';
  const Dataset de = read_csv(write_temp_file("xey\n1e2\n-3e+4\n", "_e.csv"), e);
  EXPECT_EQ(values(de, "x"), (std::vector<double>{1, -3}));
  EXPECT_EQ(values(de, "y"), (std::vector<double>{2, 4}));
  CsvOptions dot;
  dot.delimiter = '.';
  const Dataset dd = read_csv(write_temp_file("x.y\n1.5\n", "_dot.csv"), dot);
  EXPECT_EQ(values(dd, "x"), (std::vector<double>{1}));
  EXPECT_EQ(values(dd, "y"), (std::vector<double>{5}));
  EXPECT_EQ(csv_error(write_temp_file("x.y\n1.5x\n", "_dotbad.csv"), dot),
            testing::TempDir() + "parafit_CsvRead_DelimiterThatLooksLikePartOfANumber_dotbad.csv"
                                 ":2:3: non-numeric field '5x' in column 'y'");
}

TEST(CsvRead, ColumnSelectionAndOrder) {
  const auto path = write_temp_file("x,y,label,z\n1,2,abc,3\n4,5,\"q,r\",6\n");
  CsvReport report;
  const Dataset d = read_csv(path, only({"z", "x"}), &report);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"z", "x"}));
  EXPECT_EQ(d.column(0)[0], 3.0);
  EXPECT_EQ(values(d, "z"), (std::vector<double>{3, 6}));
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 4}));
  EXPECT_FALSE(d.find("y").has_value());
  EXPECT_EQ(report.rows_read, 2u);
}

TEST(CsvRead, UnloadedColumnsAreNotParsed) {
  // Text, NaN and empty fields in columns that are not loaded are fine.
  const auto path = write_temp_file("x,note,y\n1,hello,2\n3,nan,4\n5,,6\n");
  const Dataset d = read_csv(path, only({"x", "y"}));
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 4, 6}));
}

TEST(CsvRead, DuplicateNamesAreFineWhenNotLoaded) {
  const Dataset d = read_csv(write_temp_file("a,b,a\n1,2,3\n"), only({"b"}));
  EXPECT_EQ(values(d, "b"), (std::vector<double>{2}));
}

TEST(CsvRead, EmptyNameIsFineWhenNotLoaded) {
  const Dataset d = read_csv(write_temp_file("x,,y\n1,foo,2\n"), only({"y", "x"}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2}));
}

TEST(CsvRead, DropMissingCountsRows) {
  const auto path = write_temp_file(
      "x,y\n1,2\n,3\n4,nan\n5,-inf\n6,7\n8,\"\"\n9, Infinity \n10,NaN\n11,12");
  CsvReport report;
  const Dataset d = read_csv(path, dropping(), &report);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 6, 11}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 7, 12}));
  EXPECT_EQ(report.rows_read, 3u);
  EXPECT_EQ(report.rows_dropped, 6u);
}

TEST(CsvRead, DropMissingLooksOnlyAtLoadedColumns) {
  // The empty and NaN notes are in a column that is not loaded, so those rows stay.
  const auto path = write_temp_file("x,note,y\n1,,2\n3,nan,4\n,a,6\n7,b,8\n");
  CsvOptions o = dropping();
  o.columns = {"y", "x"};
  CsvReport report;
  const Dataset d = read_csv(path, o, &report);
  EXPECT_EQ(values(d, "x"), (std::vector<double>{1, 3, 7}));
  EXPECT_EQ(values(d, "y"), (std::vector<double>{2, 4, 8}));
  EXPECT_EQ(report.rows_read, 3u);
  EXPECT_EQ(report.rows_dropped, 1u);
}

TEST(CsvRead, DropMissingStillRejectsText) {
  const auto path = write_temp_file("x,y\n,2\n1,abc\n");
  EXPECT_EQ(csv_error(path, dropping()), path + ":3:3: non-numeric field 'abc' in column 'y'");
}

TEST(CsvRead, RandomFileRoundTripsBitExactly) {
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> uniform(-10.0, 10.0);
  std::uniform_int_distribution<std::uint64_t> bits;
  constexpr std::size_t kRows = 100'000;
  std::vector<double> a(kRows), b(kRows);
  std::string text = "a,b\n";
  for (std::size_t i = 0; i < kRows; ++i) {
    a[i] = uniform(rng);
    // Any finite double, tiny, huge and subnormal ones included.
    do {
      b[i] = std::bit_cast<double>(bits(rng));
    } while (!std::isfinite(b[i]));
    fmt::format_to(std::back_inserter(text), "{},{}\n", a[i], b[i]);
  }
  const auto path = write_temp_file(text);
  CsvReport report;
  const Dataset d = read_csv(path, {}, &report);
  ASSERT_EQ(d.rows(), kRows);
  EXPECT_EQ(report.bytes, text.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < kRows; ++i) {
    mismatches += std::bit_cast<std::uint64_t>(d.column("a")[i]) !=
                  std::bit_cast<std::uint64_t>(a[i]);
    mismatches += std::bit_cast<std::uint64_t>(d.column("b")[i]) !=
                  std::bit_cast<std::uint64_t>(b[i]);
  }
  EXPECT_EQ(mismatches, 0u);
  std::filesystem::remove(path);
}

TEST(CsvRead, FileEndingExactlyAtPageBoundary) {
  // The last number ends the mapping; nothing may be read past it.
  std::string text = "x\n";
  while (text.size() < 4096 - 6) text += "1.25\n";
  text += std::string(4096 - text.size(), '7');
  ASSERT_EQ(text.size(), 4096u);
  const Dataset d = read_csv(write_temp_file(text));
  EXPECT_EQ(d.column("x").back(), std::stod(text.substr(text.rfind('\n') + 1)));
  EXPECT_EQ(d.column("x").front(), 1.25);
}

TEST(CsvRead, RandomGarbageGivesDataOrPositionedError) {
  // Short files built from the bytes that matter to the parser: every outcome must be a Dataset
  // or a parafit::Error that names the file (never a crash or another exception).
  const std::string alphabet = "0123456789.,;\t \"\r\n#e+-xn";
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 40);
  std::size_t read_ok = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = i % 2 == 0 ? "a,b\n" : "";
    for (int n = length(rng); n > 0; --n) text += alphabet[pick(rng)];
    const auto path = write_temp_file(text);
    CsvOptions o;
    o.drop_missing = i % 3 == 0;
    if (i % 5 == 0) o.columns = {"b"};
    try {
      const Dataset d = read_csv(path, o);
      EXPECT_GT(d.rows(), 0u);
      ++read_ok;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path, 0), 0u) << e.what();
    }
  }
  EXPECT_GT(read_ok, 0u);
}

// --- Errors: files ------------------------------------------------------------------------------

TEST(CsvError, MissingFile) {
  const std::string path = testing::TempDir() + "parafit_no_such_file.csv";
  EXPECT_EQ(csv_error(path), "cannot open '" + path + "': No such file or directory");
}

TEST(CsvError, Directory) {
  const std::string dir = testing::TempDir() + "parafit_csv_a_directory";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(csv_error(dir), "cannot open '" + dir + "': Is a directory");
}

TEST(CsvError, EmptyFile) {
  const auto path = write_temp_file("");
  EXPECT_EQ(csv_error(path), path + ": file is empty (no header row)");
}

TEST(CsvError, EmptyNonRegularFile) {
  // /dev/null cannot be mapped; it is read instead and found empty.
  EXPECT_EQ(csv_error("/dev/null"), "/dev/null: file is empty (no header row)");
}

TEST(CsvError, OnlyCommentsAndBlanks) {
  const auto path = write_temp_file("# nothing here\n\n  \r\n");
  EXPECT_EQ(csv_error(path),
            path + ": file is empty (no header row, only blank or comment lines)");
}

TEST(CsvError, HeaderWithoutRows) {
  const auto path = write_temp_file("x,y\n");
  EXPECT_EQ(csv_error(path), path + ": no data rows after the header");
  const auto commented = write_temp_file("x,y\n# no data yet\n\n", "_commented.csv");
  EXPECT_EQ(csv_error(commented), commented + ": no data rows after the header");
  const auto bare = write_temp_file("x,y", "_bare.csv");
  EXPECT_EQ(csv_error(bare), bare + ": no data rows after the header");
}

TEST(CsvError, EveryRowDropped) {
  const auto path = write_temp_file("x,y\n1,nan\n,2\n");
  EXPECT_EQ(csv_error(path, dropping()),
            path + ": no data rows after the header (all 2 rows were dropped for empty, NaN or "
                   "infinite values)");
}

// --- Errors: header and columns -----------------------------------------------------------------

TEST(CsvError, MissingColumnListsColumns) {
  const auto path = write_temp_file("x,y\n1,2\n");
  EXPECT_EQ(csv_error(path, only({"x", "z"})),
            path + ":1:1: no column named 'z'; columns are: x, y");
}

TEST(CsvError, MissingColumnPointsAtHeaderAfterComments) {
  const auto path = write_temp_file("# comment\n\n  a ; b\n1;2\n");
  EXPECT_EQ(csv_error(path, only({"c"})), path + ":3:1: no column named 'c'; columns are: a, b");
}

TEST(CsvError, DuplicateHeaderNameWhenLoadingAll) {
  const auto path = write_temp_file("a,b,a\n1,2,3\n");
  EXPECT_EQ(csv_error(path), path + ":1:5: duplicate column name 'a' (columns 1 and 3)");
}

TEST(CsvError, DuplicateHeaderNameWhenLoadingIt) {
  const auto path = write_temp_file("a, b, b\n1,2,3\n");
  EXPECT_EQ(csv_error(path, only({"a", "b"})),
            path + ":1:7: duplicate column name 'b' (columns 2 and 3)");
}

TEST(CsvError, ColumnRequestedTwice) {
  const auto path = write_temp_file("x,y\n1,2\n");
  EXPECT_EQ(csv_error(path, only({"x", "y", "x"})), path + ": column 'x' is requested twice");
}

TEST(CsvError, EmptyHeaderNameWhenLoadingAll) {
  const auto path = write_temp_file("x, ,y\n1,2,3\n");
  EXPECT_EQ(csv_error(path), path + ":1:4: column 2 has an empty name in the header");
}

TEST(CsvError, InvalidDelimiter) {
  const auto path = write_temp_file("x,y\n1,2\n");
  CsvOptions o;
  o.delimiter = '"';
  EXPECT_EQ(csv_error(path, o),
            path + ": invalid delimiter '\"' (a quote or line break cannot separate fields)");
  o.delimiter = '\n';
  EXPECT_EQ(csv_error(path, o),
            path + ": invalid delimiter '\\n' (a quote or line break cannot separate fields)");
}

// --- Errors: fields -----------------------------------------------------------------------------

TEST(CsvError, NonNumericFieldWithPosition) {
  const auto path = write_temp_file("x,y\n1,2\n1.5,abc\n");
  EXPECT_EQ(csv_error(path), path + ":3:5: non-numeric field 'abc' in column 'y'");
}

TEST(CsvError, LineNumbersCountSkippedLines) {
  const auto path = write_temp_file("# c\r\nx,y\r\n\r\n# c\r\n1,2\r\n  3 ,  oops  \r\n");
  EXPECT_EQ(csv_error(path), path + ":6:8: non-numeric field 'oops' in column 'y'");
}

TEST(CsvError, FieldMustBeWhollyANumber) {
  struct Case {
    const char* field;
    const char* shown;
  };
  const Case cases[] = {{"0x10", "0x10"}, {"12abc", "12abc"}, {"1e", "1e"},   {"+", "+"},
                        {"-", "-"},       {".", "."},         {"1 2", "1 2"}, {"--1", "--1"},
                        {"+-1", "+-1"},   {"++1", "++1"},     {"1.2.3", "1.2.3"},
                        {"infx", "infx"}, {"1_000", "1_000"}, {" e5 ", "e5"}};
  for (const auto& c : cases) {
    const auto path = write_temp_file(fmt::format("x,y\n1,{}\n", c.field));
    const int column = c.field[0] == ' ' ? 4 : 3;
    EXPECT_EQ(csv_error(path),
              fmt::format("{}:2:{}: non-numeric field '{}' in column 'y'", path, column, c.shown))
        << "field: " << c.field;
  }
}

TEST(CsvError, CommaInsideNumberSplitsTheField) {
  const auto path = write_temp_file("x,y\n1,5,3\n");
  EXPECT_EQ(csv_error(path), path + ":2:5: expected 2 fields, found 3: '1,5,3'");
}

TEST(CsvError, QuotedFieldMustBeANumberToo) {
  const auto path = write_temp_file("x,y\n1,\"1,5\"\n");
  EXPECT_EQ(csv_error(path), path + ":2:3: non-numeric field '1,5' in column 'y'");
  const auto escaped = write_temp_file("x,y\n1,\"1\"\"\"\n", "_escaped.csv");
  EXPECT_EQ(csv_error(escaped), escaped + ":2:3: non-numeric field '1\"\"' in column 'y'");
}

TEST(CsvError, TooFewFields) {
  const auto path = write_temp_file("x,y,z\n1,2,3\n4,5\n");
  EXPECT_EQ(csv_error(path), path + ":3:4: expected 3 fields, found 2: '4,5'");
  const auto crlf = write_temp_file("x,y\r\n7\r\n", "_crlf.csv");
  EXPECT_EQ(csv_error(crlf), crlf + ":2:2: expected 2 fields, found 1: '7'");
}

TEST(CsvError, TooManyFields) {
  const auto path = write_temp_file("x\n1\n2,\"a,b\",3\n");
  EXPECT_EQ(csv_error(path), path + ":3:3: expected 1 field, found 3: '2,\"a,b\",3'");
}

TEST(CsvError, FieldCountIsCheckedInUnloadedColumns) {
  const auto path = write_temp_file("x,y,z\n1,2,3\n4,5\n");
  EXPECT_EQ(csv_error(path, only({"x"})), path + ":3:4: expected 3 fields, found 2: '4,5'");
}

TEST(CsvError, EmptyField) {
  const auto path = write_temp_file("x,y,z\n1,2,3\n4,,6\n");
  EXPECT_EQ(csv_error(path), path + ":3:3: empty field in column 'y'");
  const auto last = write_temp_file("x,y\n1, \n", "_last.csv");
  EXPECT_EQ(csv_error(last), last + ":2:4: empty field in column 'y'");
  const auto quoted = write_temp_file("x,y\n\"\",1\n", "_quoted.csv");
  EXPECT_EQ(csv_error(quoted), quoted + ":2:1: empty field in column 'x'");
}

TEST(CsvError, NaNAndInfNamed) {
  const auto nan = write_temp_file("x,y\n1,2\n3, NaN\n", "_nan.csv");
  EXPECT_EQ(csv_error(nan), nan + ":3:4: NaN field 'NaN' in column 'y'");
  const auto inf = write_temp_file("x,y\n-inf,2\n", "_inf.csv");
  EXPECT_EQ(csv_error(inf), inf + ":2:1: infinite field '-inf' in column 'x'");
  const auto quoted = write_temp_file("x,y\n1,\" +Infinity\"\n", "_quoted.csv");
  EXPECT_EQ(csv_error(quoted), quoted + ":2:3: infinite field '+Infinity' in column 'y'");
}

TEST(CsvError, OverflowIsAnErrorEvenWhenDropping) {
  const auto path = write_temp_file("x,y\n1,1e999\n2,3\n");
  EXPECT_EQ(csv_error(path), path + ":2:3: number out of range '1e999' in column 'y'");
  EXPECT_EQ(csv_error(path, dropping()),
            path + ":2:3: number out of range '1e999' in column 'y'");
}

TEST(CsvError, UnterminatedQuote) {
  const auto path = write_temp_file("x,y\n1,2\n3,\"4\n5,6\n");
  EXPECT_EQ(csv_error(path), path + ":3:3: unterminated quoted field '\"4'");
  const auto skipped = write_temp_file("x,y\n\"abc,1\n", "_skipped.csv");
  EXPECT_EQ(csv_error(skipped, only({"y"})),
            skipped + ":2:1: unterminated quoted field '\"abc,1'");
  const auto header = write_temp_file("\"x,y\n1,2\n", "_header.csv");
  EXPECT_EQ(csv_error(header), header + ":1:1: unterminated quoted field '\"x,y'");
}

TEST(CsvError, TextAfterClosingQuote) {
  const auto path = write_temp_file("x,y\n1,\"2\"x\n");
  EXPECT_EQ(csv_error(path),
            path + ":2:6: unexpected text after closing quote in field '\"2\"x'");
}

TEST(CsvError, LoneCarriageReturnInsideALine) {
  const auto path = write_temp_file("x,y\n1,2\r3\n");
  EXPECT_EQ(csv_error(path),
            path + ":2:4: unexpected character '\\r' where the line should end");
}

TEST(CsvError, LongFieldIsShortenedInMessage) {
  const std::string junk(100, 'q');
  const auto path = write_temp_file("x\n" + junk + "\n");
  EXPECT_EQ(csv_error(path),
            path + ":2:1: non-numeric field '" + std::string(60, 'q') + "...' in column 'x'");
}

}  // namespace
}  // namespace parafit
