// parafit/context.h — where the work runs: threads of this process, and its Communicator.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "parafit/communicator.h"

namespace parafit {

// The determinism contract: for a given chunk_rows (LM, statistics) or strata (training), results
// are the same bits for any threads and communicator.
struct Context {
  // Worker threads of this process. 0 (the default) uses every core OpenMP reports.
  int threads = 0;
  // Rows per chunk: the unit of work and of summation. Sums are computed inside each chunk in a
  // fixed order, and chunk partials are added exactly, so results are identical for any number
  // of threads or ranks — for a given chunk_rows. 8192 rows keep a chunk's data in L2 and give
  // ~1200 chunks for 10M rows, plenty to balance over threads.
  std::size_t chunk_rows = 8192;
  // Strata the training rows are cut into (src/parallel/strata.h): the determinism unit of
  // training. Every batch draws its share from each stratum, so the count is part of what defines
  // the batches — results depend on it, never on the number of threads or ranks — and the most
  // workers a step can use. Fewer are used for data smaller than 64 rows per stratum.
  std::size_t strata = 8;
  // Other ranks of a distributed run. nullptr (the default) means this process alone.
  Communicator* communicator = nullptr;

  // The thread count actually used (resolves 0).
  int resolved_threads() const;
};

// Computes `width` sums over `rows` rows, each the sum over fixed chunks [c*chunk_rows, ...) of
// what `chunk` writes into `partial` (zeroed before each call) for the chunk's rows [begin, end).
// Chunks run on ctx's threads; their partials are added exactly (ExactSum), then summed across
// ranks, and rounded once: the result does not depend on the number of threads or ranks.
// `chunk` must be safe to call concurrently for different chunks. An exception thrown by `chunk`
// is rethrown here (the first one, by chunk order) after all threads have stopped.
using ChunkFunction = std::function<void(std::size_t begin, std::size_t end, std::span<double> partial)>;
std::vector<double> chunked_sum(const Context& ctx, std::size_t rows, std::size_t width,
                                const ChunkFunction& chunk);

// Runs `body(begin, end)` over fixed chunks of `rows` on ctx's threads (no reduction), e.g. to fill
// per-row outputs. Exceptions as in chunked_sum.
void parallel_chunks(const Context& ctx, std::size_t rows,
                     const std::function<void(std::size_t begin, std::size_t end)>& body);

}  // namespace parafit
