// tests/data/test_input_bytes.cpp — files that are not CSV text, and devices, get a message that
// says what they look like, with their bytes escaped (issue 9, defects 5 and 8).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "csv_test_files.h"
#include "parafit/csv.h"
#include "parafit/error.h"

namespace parafit {
namespace {

using test::csv_error;
using test::write_temp_file;
using namespace std::string_literals;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// No byte below 0x20 but none at all, none of 0x7f and no byte that is not part of UTF-8.
bool is_printable(const std::string& text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f || c >= 0x80) return false;
  return true;
}

TEST(Printable, EscapesControlAndNonUtf8BytesKeepsUtf8) {
  EXPECT_EQ(printable("a\tb\r\n"), "a\\tb\\r\\n");
  EXPECT_EQ(printable("\x00\x1e\x7f"s), "\\x00\\x1e\\x7f");
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable("\xc3\xa9t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");  // "été" stays
  EXPECT_EQ(printable("\xc3"), "\\xc3");                            // a cut sequence does not
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                   // nor an overlong one
  EXPECT_EQ(printable("abcdef", 3), "abc...");
}

TEST(InputBytes, Utf16WithByteOrderMarkIsNamed) {
  const std::string path = write_temp_file("\xff\xfex\x00,\x00y\x00\n\x00""1\x00,\x00""2\x00\n\x00"s);
  const std::string e = csv_error(path);
  EXPECT_TRUE(has(e, "looks like UTF-16")) << e;
  EXPECT_TRUE(has(e, "\\xff\\xfe")) << e;
  EXPECT_TRUE(is_printable(e)) << e;
}

TEST(InputBytes, Utf16WithoutByteOrderMarkIsNamed) {
  const std::string path = write_temp_file("x\x00,\x00y\x00\n\x00""1\x00,\x00""2\x00\n\x00"s);
  const std::string e = csv_error(path);
  EXPECT_TRUE(has(e, "looks like UTF-16 text (every other byte is NUL")) << e;
  EXPECT_TRUE(is_printable(e)) << e;
}

TEST(InputBytes, BinaryIsNamedWithItsBytesEscaped) {
  std::string garbage;
  for (int i = 0; i < 512; ++i) garbage += static_cast<char>((i * 37 + 11) % 256);
  const std::string e = csv_error(write_temp_file(garbage));
  EXPECT_TRUE(has(e, "looks like binary")) << e;
  EXPECT_TRUE(has(e, "it starts '\\x0b0U")) << e;
  EXPECT_TRUE(is_printable(e)) << e;
}

TEST(InputBytes, ColumnListsAreEscaped) {
  // Text with one stray byte in a name: read as CSV, but the byte is never echoed raw.
  CsvOptions o;
  o.columns = {"y"};
  const std::string e = csv_error(write_temp_file("x\xff,\x01z\n1,2\n" + std::string(200, '#') + "\n"), o);
  EXPECT_TRUE(has(e, "no column named 'y'; columns are: x\\xff, \\x01z")) << e;
  EXPECT_TRUE(is_printable(e)) << e;
}

TEST(InputBytes, BinaryCharacterDevicesAreRefusedAtOnce) {
  for (const std::string device : {"/dev/zero", "/dev/urandom"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string e = csv_error(device);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_TRUE(has(e, "cannot read '" + device + "': it is a character device that gives binary data (NUL bytes)"))
        << e;
  }
  // A character device that ends is read: /dev/null is an empty file (CsvError.EmptyNonRegularFile).
}

}  // namespace
}  // namespace parafit
