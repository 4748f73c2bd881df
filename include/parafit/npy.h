// parafit/npy.h — NumPy .npy files: one column per file, one directory per table.
//
// The binary data format of parafit is a directory holding one 1-D .npy file per column, named
// after the column: data/x.npy, data/y.npy. numpy writes it with
//
//     np.save("data/x.npy", x)        # x: a 1-D float64 array
//
// and `parafit convert` writes it from a CSV file. Loading it is a copy of the bytes, with no
// parsing: many times faster than CSV (bench/bench_load.cpp), and a shard is a row range, so each
// MPI rank reads only its own rows. See docs/data-formats.md.
//
// Contents
//   One file:          NpyHeader, read_npy_header, read_npy, write_npy
//   A directory:       NpyOptions, NpyReport, npy_dir_columns, read_npy_dir
//   Column file names: npy_column_name_problem
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parafit/dataset.h"

namespace parafit {

// --- One file -----------------------------------------------------------------------------------

// The header of a .npy file: the magic "\x93NUMPY", the format version (1.0, 2.0 and 3.0 are
// read), the header length, and a Python dict literal {'descr': ..., 'fortran_order': ...,
// 'shape': (...)}.
struct NpyHeader {
  int major = 1;               // format version
  int minor = 0;
  std::string descr;           // the dtype as written, e.g. "<f8"
  bool fortran_order = false;
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  // where the data starts (a multiple of 64 in numpy's files)
};

// Reads and checks the header of `path`. Throws parafit::Error "path: message" for a file that is
// missing or is not a .npy file (bad magic, unsupported version, malformed header dict).
NpyHeader read_npy_header(const std::string& path);

// Reads a whole .npy file as float64 values. Accepted arrays hold n values contiguously: shape
// (n,), or (n, 1), (1, n) and the like where at most one dimension exceeds 1 (fortran_order then
// changes nothing). Accepted dtypes: float64 ('<f8'; '>f8' is byte-swapped), and, converted to
// float64, float32, signed and unsigned integers of 1, 2, 4 and 8 bytes (64-bit integers beyond
// 2^53 are rounded to the nearest double) and bool. NaN and Inf are read as they are.
// Throws parafit::Error naming the file for any other dtype (naming it), any other shape, a file
// shorter than its header says (truncated) or longer (trailing bytes).
std::vector<double> read_npy(const std::string& path);

// Writes `values` as a 1-D float64 .npy file: a version 1.0 header laid out exactly as numpy's
// np.save writes it (keys in order, room to grow the length, padded with spaces to a multiple of
// 64 bytes and ended by '\n'), then the values little-endian. The file is written under a
// temporary name next to `path` and renamed onto it, so readers never see a partial file.
// Throws parafit::Error "cannot write 'path': reason".
void write_npy(const std::string& path, std::span<const double> values);

// A 2-D array (fits x points for `parafit batch`), row by row whatever its order on disk.
struct NpyMatrix {
  std::size_t rows = 0, cols = 0;  // the rows read
  std::size_t first_row = 0, total_rows = 0;  // where they start in the file, and its row count
  std::vector<double> values;  // rows * cols, row r at [r * cols, (r + 1) * cols)
};
// Reads rows [first_row, first_row + max_rows) (clipped to the file) of a 2-D .npy file of any
// dtype read_npy accepts, C or Fortran order; in C order only those rows' bytes are read. NaN and
// Inf are read as they are. Throws parafit::Error naming the file for any other shape, dtype or size.
NpyMatrix read_npy_matrix(const std::string& path, std::size_t first_row = 0,
                          std::size_t max_rows = static_cast<std::size_t>(-1));
// Writes a rows x cols float64 array (row by row in `values`) as np.save would.
void write_npy_matrix(const std::string& path, std::span<const double> values, std::size_t rows, std::size_t cols);

// --- A directory of columns ---------------------------------------------------------------------

struct NpyOptions {
  // Names of the columns to load, in the order wanted; column `c` is the file `<dir>/c.npy`.
  // Empty (the default) loads every *.npy file in the directory, in byte order of the names.
  std::vector<std::string> columns;
  // Read only rows [floor(r*N/K), floor((r+1)*N/K)) of the N rows, for r = shard_index and
  // K = shard_count: K readers together read every row once. Only the shard's bytes are read.
  // A shard may be empty (K > N); then read_npy_dir returns the named columns with no rows.
  std::size_t shard_index = 0;
  std::size_t shard_count = 1;
  // Round every shard boundary up to a multiple of this many rows (at most N). parafit passes its
  // summation chunk size, so that each rank's rows start at a chunk boundary and nothing needs to
  // move between ranks before a fit (align_to_chunks). 1 keeps the plain even split.
  std::size_t shard_align = 1;
  // By default a NaN or Inf value in a loaded column is an error naming the column and the row
  // index. With drop_missing such rows are dropped and counted in NpyReport::rows_dropped.
  bool drop_missing = false;
  // With keep_missing (and not drop_missing) NaN and Inf values are read as they are.
  bool keep_missing = false;
};

struct NpyReport {
  std::size_t bytes = 0;         // total size of the loaded column files
  std::size_t rows_total = 0;    // N: the number of rows in the files
  std::size_t first_row = 0;     // index in the files of the shard's first row
  std::size_t rows_read = 0;     // rows kept in the Dataset
  std::size_t rows_dropped = 0;  // rows dropped because of drop_missing
};

// The column names of a directory: the names of its *.npy files without the extension, sorted
// byte-wise. Other files and subdirectories are ignored. Throws parafit::Error for a missing
// path or one that is not a directory, and for a .npy file whose name is not a valid column name
// (see npy_column_name_problem), naming the file.
std::vector<std::string> npy_dir_columns(const std::string& dir);

// Reads the columns of `dir` (every column, or options.columns) into a Dataset whose source() is
// `dir`. The files are memory-mapped and only the shard's rows are copied (or converted).
// Throws parafit::Error for: a missing directory; a requested column without a file (listing the
// columns that exist) or with a name that cannot be a file name; any error of read_npy for a
// loaded file; loaded columns of different lengths (naming two of them); a NaN or Inf value
// (unless drop_missing); no rows at all when shard_count is 1; shard_index >= shard_count.
Dataset read_npy_dir(const std::string& dir, const NpyOptions& options = {},
                     NpyReport* report = nullptr);

// Why `name` cannot name a column file "<name>.npy", or "" when it can. A name must be non-empty,
// not "." or "..", and free of '/' and control characters (bytes below 0x20, 0x7f; NUL included).
std::string npy_column_name_problem(std::string_view name);

}  // namespace parafit
