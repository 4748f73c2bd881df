// Small helpers for calling MPI: error codes to parafit::Error, parafit's element types and reduce
// ops to MPI's, and MPI's int counts.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <string>

#include "parafit/communicator.h"
#include "parafit/mpi_communicator.h"

namespace parafit::mpi_backend {

std::string error_string(int code);

// Throws Error("<what()> failed: <MPI's message>") unless code is MPI_SUCCESS; `what` is only
// called then (naming the call costs a string).
template <class What>
void check(int code, const What& what) {
  if (code != MPI_SUCCESS) throw Error(what() + " failed: " + error_string(code));
}
inline void check(int code, const char* what) {
  check(code, [what] { return std::string(what); });
}

MPI_Datatype mpi_type(DataType type);
MPI_Op mpi_op(ReduceOp op);

// MPI counts are ints: buffers longer than this many elements go in pieces.
constexpr std::size_t kMaxPiece = std::size_t{1} << 30;

// Calls f(offset, count) for consecutive pieces of at most kMaxPiece elements; once for none.
template <class F>
void in_pieces(std::size_t total, F f) {
  std::size_t offset = 0;
  do {
    const std::size_t count = std::min(total - offset, kMaxPiece);
    f(offset, static_cast<int>(count));
    offset += count;
  } while (offset < total);
}

// `count` as an MPI int; Error naming the call if it does not fit (the calls that cannot go in
// pieces).
int int_count(std::size_t count, const char* call);

}  // namespace parafit::mpi_backend
