// parallel/chunked_sum.h — the chunked exact sum: the reduction engine of LM and the statistics.
//
// The rows are cut into fixed chunks of Context::chunk_rows rows from row 0 (global chunk
// boundaries: ranks must hold whole chunks, see align_to_chunks). Each chunk's sums come from one
// RowWorker call on fresh sums, so they do not depend on who computes them; the chunk totals are
// added exactly (ExactSum), across threads and then across ranks (an all-reduce of the integer
// limbs), and rounded once. The result is the same bits for any number of threads or ranks.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "parafit/context.h"
#include "parallel/row_kernel.h"

namespace parafit::detail {

// The kernel's width() sums over local rows [0, rows), at `theta`, summed over every rank of
// ctx.communicator. A worker's exception is rethrown here (the first by chunk order) after every
// thread has stopped; under several ranks every rank throws it (an AgreedError naming the rank).
std::vector<double> chunked_sum(const Context& ctx, std::size_t rows, const RowKernel& kernel,
                                std::span<const double> theta);

}  // namespace parafit::detail
