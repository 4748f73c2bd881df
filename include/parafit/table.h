// parafit/table.h — one entry point for reading a table, whatever its format.
//
// A path that is a directory is read as a directory of .npy files, one per column (parafit/npy.h);
// any other path is read as a CSV file (parafit/csv.h). The command line's --data goes through
// here, so every command accepts both formats.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parafit/dataset.h"

namespace parafit {

enum class TableFormat {
  kCsv,     // a delimited text file with a header row
  kNpyDir,  // a directory of 1-D .npy files, <column>.npy
};

// "CSV" or ".npy directory".
const char* to_string(TableFormat format);

struct TableOptions {
  // Columns to load, in order; empty loads every column (CSV: the header's; .npy: every file).
  std::vector<std::string> columns;
  // Drop rows with empty, NaN or Inf values in loaded columns instead of failing.
  bool drop_missing = false;
  // Keep empty (as NaN), NaN and Inf values instead of failing (CsvOptions::keep_missing,
  // NpyOptions::keep_missing); drop_missing wins.
  bool keep_missing = false;
  // CSV only: the field delimiter, 0 to detect it (see CsvOptions::delimiter).
  char delimiter = 0;
  // Read shard `shard_index` of `shard_count` (one per MPI rank): a byte range aligned to line
  // starts for CSV (CsvOptions::shard_index), a row range for .npy (NpyOptions::shard_index).
  // An empty shard gives a Dataset with the columns' names and no rows.
  std::size_t shard_index = 0;
  std::size_t shard_count = 1;
  // .npy only: shard boundaries rounded up to a multiple of this many rows (NpyOptions::shard_align).
  std::size_t shard_align = 1;
};

struct TableReport {
  TableFormat format = TableFormat::kCsv;
  char delimiter = 0;             // CSV: the delimiter used; 0 for .npy
  std::size_t bytes = 0;          // CSV: the file's size; .npy: the loaded column files' sizes
  std::size_t rows_read = 0;      // rows kept in the Dataset
  std::size_t rows_dropped = 0;   // rows dropped because of drop_missing
};

// The format read_table would use for `path`: kNpyDir for a directory, kCsv otherwise.
TableFormat table_format(const std::string& path);

// Reads `path` in its format (table_format). Throws parafit::Error as read_csv or read_npy_dir
// do; a single .npy file (not a directory) is refused with a message saying how to lay it out.
Dataset read_table(const std::string& path, const TableOptions& options = {},
                   TableReport* report = nullptr);

// Where data row `row` (0-based, as read_table with `options` counts rows over the whole table,
// after drop_missing) is, for messages: "file.csv:52" (the CSV line holding it), or "" for a .npy
// directory (whose row numbers are the arrays' own) or a row past the end.
std::string table_row_place(const std::string& path, const TableOptions& options, std::size_t row);

// The names of every column: the CSV header's names, or the .npy directory's column files.
// For deciding which columns to load (e.g. which names of a formula are data columns).
std::vector<std::string> read_table_columns(const std::string& path,
                                            const TableOptions& options = {});

}  // namespace parafit
