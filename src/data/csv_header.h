// data/csv_header.h — finding the header row, choosing the delimiter and reading column names.
#pragma once

#include <string>
#include <vector>

#include "data/csv_text.h"

namespace parafit::detail {

struct CsvHeader {
  char delimiter = ',';
  const char* line = nullptr;               // first byte of the header line
  std::vector<std::string> names;           // one per field, unquoted and trimmed
  std::vector<const char*> name_positions;  // first non-blank byte of each field, for errors
  const char* data = nullptr;               // first byte after the header line
};

// Reads the header: the first line that is neither blank nor a comment (a UTF-8 byte order mark
// at the start of the file is skipped). `delimiter` 0 means detect it from this line.
// Throws parafit::Error for an empty file, a file with no header line, or a bad delimiter.
CsvHeader read_header(const CsvText& text, char delimiter);

}  // namespace parafit::detail
