// tests/data/test_mapped_file.cpp — the read-only file view under the CSV reader.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "csv_test_files.h"
#include "data/mapped_file.h"
#include "parafit/error.h"

namespace parafit::detail {
namespace {

TEST(CsvMappedFile, MapsWholeFile) {
  const std::string text = "hello\nworld\0!";
  const auto path = test::write_temp_file(std::string_view(text.data(), 13), ".bin");
  const MappedFile f(path);
  ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(f.view(), std::string_view(text.data(), 13));
}

TEST(CsvMappedFile, EmptyFileGivesEmptyView) {
  const auto path = test::write_temp_file("", ".bin");
  const MappedFile f(path);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(f.view().empty());
}

TEST(CsvMappedFile, MoveKeepsTheBytes) {
  const auto path = test::write_temp_file("abc", ".bin");
  MappedFile a(path);
  MappedFile b(std::move(a));
  EXPECT_EQ(b.view(), "abc");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by design
  MappedFile c(test::write_temp_file("xy", "_2.bin"));
  c = std::move(b);
  EXPECT_EQ(c.view(), "abc");
}

TEST(CsvMappedFile, MissingFileThrowsWithReason) {
  const std::string path = testing::TempDir() + "parafit_definitely_missing.bin";
  try {
    MappedFile f(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot open '" + path + "': No such file or directory");
  }
}

}  // namespace
}  // namespace parafit::detail
