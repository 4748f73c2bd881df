// tests/data/csv_test_files.h — temporary files for the CSV reader tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "parafit/csv.h"
#include "parafit/error.h"

namespace parafit::test {

// Writes `contents` byte for byte to a file named after the running test (so tests never share
// a file) and returns its path.
inline std::string write_temp_file(std::string_view contents, std::string_view suffix = ".csv") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = ::testing::TempDir() + "parafit_" + info->test_suite_name() + "_" +
                     info->name() + std::string(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot create " + path);
  std::fwrite(contents.data(), 1, contents.size(), f);
  std::fclose(f);
  return path;
}

// The message of the parafit::Error that read_csv throws, or a marker that fails comparisons.
inline std::string csv_error(const std::string& path, const CsvOptions& options = {}) {
  try {
    read_csv(path, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace parafit::test
