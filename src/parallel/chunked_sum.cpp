#include <omp.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <string>

#include "parafit/context.h"
#include "parafit/distributed.h"
#include "parafit/exact_sum.h"

namespace parafit {
namespace {

// Remembers the exception of the lowest-numbered failing chunk, so that which error is reported
// does not depend on thread timing either.
class FirstError {
 public:
  void record(std::size_t chunk, std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (chunk < chunk_) {
      chunk_ = chunk;
      error_ = error;
    }
  }
  bool failed() const {
    std::lock_guard lock(mutex_);
    return error_ != nullptr;
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  mutable std::mutex mutex_;
  std::size_t chunk_ = std::numeric_limits<std::size_t>::max();
  std::exception_ptr error_;
};

}  // namespace

int Context::resolved_threads() const { return threads > 0 ? threads : omp_get_num_procs(); }

std::vector<double> chunked_sum(const Context& ctx, std::size_t rows, std::size_t width,
                                const ChunkFunction& chunk) {
  const std::size_t chunk_rows = std::max<std::size_t>(ctx.chunk_rows, 1);
  const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  const int threads = static_cast<int>(
      std::clamp<std::size_t>(chunks, 1, static_cast<std::size_t>(ctx.resolved_threads())));
  ExactSum total(width);
  FirstError error;

#pragma omp parallel num_threads(threads)
  {
    ExactSum mine(width);
    std::vector<double> partial(width);
#pragma omp for schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks; ++c) {
      if (error.failed()) continue;
      try {
        std::fill(partial.begin(), partial.end(), 0.0);
        const std::size_t begin = c * chunk_rows;
        chunk(begin, std::min(rows, begin + chunk_rows), partial);
        mine.add(partial);
      } catch (...) {
        error.record(c, std::current_exception());
      }
    }
#pragma omp critical(parafit_chunked_sum_merge)
    total.merge(mine);
  }
  if (ctx.communicator != nullptr && ctx.communicator->size() > 1) {
    // A rank whose chunk failed must not leave the others waiting in the all-reduce: all ranks
    // first agree that every rank succeeded, and all throw the same error if one did not.
    std::string message;
    try {
      error.rethrow();
    } catch (const std::exception& e) {
      message = e.what();
    }
    agree_or_throw(*ctx.communicator, message);
    total.normalize();
    ctx.communicator->allreduce(total.limbs());
    ctx.communicator->allreduce(total.specials());
  } else {
    error.rethrow();
  }
  return total.round();
}

void parallel_chunks(const Context& ctx, std::size_t rows,
                     const std::function<void(std::size_t begin, std::size_t end)>& body) {
  const std::size_t chunk_rows = std::max<std::size_t>(ctx.chunk_rows, 1);
  const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  const int threads = static_cast<int>(
      std::clamp<std::size_t>(chunks, 1, static_cast<std::size_t>(ctx.resolved_threads())));
  FirstError error;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::size_t c = 0; c < chunks; ++c) {
    if (error.failed()) continue;
    try {
      const std::size_t begin = c * chunk_rows;
      body(begin, std::min(rows, begin + chunk_rows));
    } catch (...) {
      error.record(c, std::current_exception());
    }
  }
  error.rethrow();
}

}  // namespace parafit
