// data/table.cpp — read_table: CSV file or .npy directory, chosen by what the path is.
#include "parafit/table.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "parafit/csv.h"
#include "parafit/error.h"
#include "parafit/npy.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;

bool ends_with_npy(const std::string& path) {
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
}

// A lone .npy file would otherwise fail as a CSV file with a puzzling message.
void refuse_single_npy(const std::string& path) {
  std::error_code ec;
  if (ends_with_npy(path) && fs::is_regular_file(path, ec)) {
    throw Error(fmt::format(
        "{}: a single .npy file; parafit reads a directory holding one 1-D .npy file per column "
        "(e.g. data/x.npy and data/y.npy, read as the directory data)",
        path));
  }
}

CsvOptions csv_options(const TableOptions& options) {
  CsvOptions csv;
  csv.columns = options.columns;
  csv.drop_missing = options.drop_missing;
  csv.keep_missing = options.keep_missing;
  csv.delimiter = options.delimiter;
  csv.shard_index = options.shard_index;
  csv.shard_count = options.shard_count;
  return csv;
}

}  // namespace

const char* to_string(TableFormat format) {
  return format == TableFormat::kNpyDir ? ".npy directory" : "CSV";
}

TableFormat table_format(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? TableFormat::kNpyDir : TableFormat::kCsv;
}

Dataset read_table(const std::string& path, const TableOptions& options, TableReport* report) {
  TableReport r;
  r.format = table_format(path);
  Dataset data;
  if (r.format == TableFormat::kNpyDir) {
    NpyOptions npy;
    npy.columns = options.columns;
    npy.drop_missing = options.drop_missing;
    npy.keep_missing = options.keep_missing;
    npy.shard_index = options.shard_index;
    npy.shard_count = options.shard_count;
    npy.shard_align = options.shard_align;
    NpyReport npy_report;
    data = read_npy_dir(path, npy, &npy_report);
    r.bytes = npy_report.bytes;
    r.rows_read = npy_report.rows_read;
    r.rows_dropped = npy_report.rows_dropped;
  } else {
    refuse_single_npy(path);
    CsvReport csv_report;
    data = read_csv(path, csv_options(options), &csv_report);
    r.delimiter = csv_report.delimiter;
    r.bytes = csv_report.bytes;
    r.rows_read = csv_report.rows_read;
    r.rows_dropped = csv_report.rows_dropped;
  }
  if (report != nullptr) *report = r;
  return data;
}

std::string table_row_place(const std::string& path, const TableOptions& options, std::size_t row) {
  if (table_format(path) == TableFormat::kNpyDir) return "";
  CsvOptions csv = csv_options(options);
  csv.shard_index = 0;
  csv.shard_count = 1;
  const std::size_t line = csv_line_of_row(path, csv, row);
  return line == 0 ? std::string() : fmt::format("{}:{}", path, line);
}

std::vector<std::string> read_table_columns(const std::string& path, const TableOptions& options) {
  if (table_format(path) == TableFormat::kNpyDir) return npy_dir_columns(path);
  refuse_single_npy(path);
  return read_csv_header(path, csv_options(options));
}

}  // namespace parafit
