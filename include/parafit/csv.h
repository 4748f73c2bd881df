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
  // With keep_missing (and not drop_missing), empty fields read as NaN and NaN or Inf fields as
  // themselves, for a caller that judges them row by row (`parafit batch`: a bad value fails only
  // its fit). A number too large for a double is still an error.
  bool keep_missing = false;
  // Sharded reading (one shard per MPI rank, say): read only the rows of shard `shard_index` out
  // of `shard_count`, so that K readers together read every row exactly once and none of them
  // parses another's bytes. With the default 0 of 1 the whole file is read.
  //
  // The split is by bytes. Let D be the offset of the first byte after the header line, E the
  // size of the file and S = E - D the size of the data part. A *line start* is D or any byte
  // that follows a '\n'. Shard r covers the bytes [b_r, b_{r+1}), where b_r is the first line
  // start at or after D + floor(r * S / K) (so a line starting exactly there belongs to shard r)
  // and b_K = E; it reads the rows whose line start lies in that range, skipping blank and comment
  // lines as usual. Concatenating the shards' rows in shard order gives exactly the rows of an
  // unsharded read. Every shard reads the header; outside its range a shard only scans for the
  // '\n' that ends the previous shard's last line.
  //
  // With shard_count > 1 a quoted field in a data row must not contain a line break (a shard
  // cannot tell a quoted newline from a row end without reading from the start): such a field
  // is an error, whichever shard it falls in. A shard may hold no rows at all (more shards than
  // lines); then read_csv returns a Dataset with the loaded columns' names and no rows instead of
  // throwing "no data rows", and the caller decides.
  std::size_t shard_index = 0;
  std::size_t shard_count = 1;
};

struct CsvReport {
  char delimiter = ',';           // the delimiter used (given or detected)
  std::size_t bytes = 0;          // size of the file in bytes
  std::size_t rows_read = 0;      // data rows kept in the Dataset
  std::size_t rows_dropped = 0;   // rows dropped because of drop_missing
  std::size_t shard_begin = 0;    // the byte range [shard_begin, shard_end) whose rows were read:
  std::size_t shard_end = 0;      // [D, E) for an unsharded read, [b_r, b_{r+1}) for shard r
};

// Reads `path`: a header row of column names, then one row of numbers per line. Blank lines and
// lines whose first non-blank character is '#' are skipped; CRLF line ends are accepted; a field
// may be enclosed in double quotes. The file is memory-mapped and numbers are parsed with
// fast_float, without allocating per row.
//
// Throws parafit::Error with "file:line:column: message" (and the offending text) for a missing
// or empty file, a missing column (listing the columns that exist), a non-numeric field, a row
// with the wrong number of fields, an empty/NaN/Inf field (unless drop_missing), or no data rows
// (when shard_count is 1), and for shard_index >= shard_count. Line numbers count from the start
// of the file in a sharded read too.
Dataset read_csv(const std::string& path, const CsvOptions& options = {},
                 CsvReport* report = nullptr);

// The line of the file (1-based, counting the header, blank and comment lines) that holds data row
// `row` (0-based) as read_csv with `options` counts rows: after rows dropped for drop_missing, over
// the whole file (the shard options are ignored). 0 when the file has fewer rows. It reads the file
// again up to that row, so it is meant for messages about a row.
std::size_t csv_line_of_row(const std::string& path, const CsvOptions& options, std::size_t row);

// The column names of the header row only (options.delimiter as in read_csv), so a caller can
// decide which columns to load — e.g. which names in a formula are data columns.
std::vector<std::string> read_csv_header(const std::string& path, const CsvOptions& options = {});

}  // namespace parafit
