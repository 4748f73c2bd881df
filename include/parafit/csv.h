// parafit/csv.h — reading delimited text files into a Dataset.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parafit/dataset.h"

namespace parafit {

struct CsvOptions {
  // Field delimiter. 0 (the default) detects it from the header line: the most frequent of
  // ',', '\t' and ';' outside quotes, or ',' when the header has a single field.
  char delimiter = 0;
  // Names of the columns to load, in the order wanted. Empty (the default) loads every column.
  // Columns not listed are still checked for the right number of fields on every row, but their
  // contents are not parsed.
  std::vector<std::string> columns;
  // By default an empty field, NaN or Inf in a loaded column is an error naming its position.
  // With drop_missing, such rows are dropped and counted in CsvReport::rows_dropped.
  bool drop_missing = false;
};

struct CsvReport {
  char delimiter = ',';           // the delimiter used (given or detected)
  std::size_t bytes = 0;          // size of the file in bytes
  std::size_t rows_read = 0;      // data rows kept in the Dataset
  std::size_t rows_dropped = 0;   // rows dropped because of drop_missing
};

// Reads `path`: a header row of column names, then one row of numbers per line. Blank lines and
// lines whose first non-blank character is '#' are skipped; CRLF line ends are accepted; a field
// may be enclosed in double quotes. The file is memory-mapped and numbers are parsed with
// fast_float, without allocating per row.
//
// Throws parafit::Error with "file:line:column: message" (and the offending text) for a missing
// or empty file, a missing column (listing the columns that exist), a non-numeric field, a row
// with the wrong number of fields, an empty/NaN/Inf field (unless drop_missing), or no data rows.
Dataset read_csv(const std::string& path, const CsvOptions& options = {},
                 CsvReport* report = nullptr);

// The column names of the header row only (options.delimiter as in read_csv), so a caller can
// decide which columns to load — e.g. which names in a formula are data columns.
std::vector<std::string> read_csv_header(const std::string& path, const CsvOptions& options = {});

}  // namespace parafit
