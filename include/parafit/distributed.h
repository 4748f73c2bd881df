// parafit/distributed.h — what a fit needs to run the same way on one process or on many ranks.
//
// Every rank calls these functions in the same order (they are collectives). They keep two promises:
// no rank ever waits forever for a rank that has failed (agree_or_throw), and the answer is the
// same, bit for bit, for any number of ranks (align_to_chunks, global_sample).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/dataset.h"
#include "parafit/error.h"

namespace parafit {

// The error every rank throws after agree_or_throw: one rank failed and all know it. (A program
// under mpirun reports it once, from rank 0.)
class AgreedError : public Error {
 public:
  using Error::Error;
};

// Every rank passes its local error ("" if none). If any rank failed, every rank throws the same
// AgreedError, naming the lowest failing rank: "rank 2: data.csv:17:5: non-numeric field ...".
// With one rank the error is thrown unchanged. The AgreedError has the failing rank's `kind`.
// Call it before any collective that a failed rank would otherwise never reach.
void agree_or_throw(Communicator& comm, const std::string& error, Error::Kind kind = Error::Kind::kData);

// Global row index of this rank's first row, and the total number of rows, from the ranks' counts.
struct RowLayout {
  std::size_t offset = 0;
  std::size_t total = 0;
};
RowLayout row_layout(Communicator& comm, std::size_t local_rows);

// Moves rows between ranks (keeping their global order) so that every rank's first row has a global
// index that is a multiple of chunk_rows (the last rank takes the remainder). Chunks then never
// straddle two ranks, so each chunk's partial sums are the ones a single process computes. Ranks
// whose shards are read by byte range end up with at most chunk_rows - 1 rows moved per boundary.
void align_to_chunks(Dataset& local, Communicator& comm, std::size_t chunk_rows);

// Moves rows between ranks (keeping their global order) so that rank r holds global rows
// [want[r], want[r+1]). `want` has size()+1 non-decreasing entries from 0 to the total row count,
// the same on every rank. Works column by column: a rank never holds its rows twice.
void redistribute_rows(Dataset& local, Communicator& comm, std::span<const std::size_t> want);

// The same rows on every rank: at most max_rows rows spread evenly over the global data (global row
// floor(i * total / m) for i < m), in global order, for each of the given local columns.
// Self-starting rules run on this sample, so their result is the same whatever the number of ranks.
std::vector<std::vector<double>> global_sample(const std::vector<std::span<const double>>& local_columns,
                                               Communicator& comm, std::size_t max_rows);

}  // namespace parafit
