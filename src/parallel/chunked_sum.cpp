#include "parallel/chunked_sum.h"

#include <omp.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>

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
  // True when a chunk before `chunk` has failed: `chunk` need not run. A chunk after the failure
  // seen so far must still run, since it may fail first (skipping it on any failure let a later
  // chunk's error win when threads raced, as TSan's scheduling showed).
  bool failed_before(std::size_t chunk) const {
    std::lock_guard lock(mutex_);
    return chunk_ < chunk;
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  mutable std::mutex mutex_;
  std::size_t chunk_ = std::numeric_limits<std::size_t>::max();
  std::exception_ptr error_;
};

// A ChunkFunction as a RowKernel: each call adds into the span it is given.
class FunctionKernel final : public detail::RowKernel {
 public:
  FunctionKernel(std::size_t width, const ChunkFunction& fn) : width_(width), fn_(fn) {}
  std::size_t width() const override { return width_; }
  std::unique_ptr<detail::RowSums> make_sums() const override {
    return std::make_unique<detail::VectorSums>(width_);
  }
  std::unique_ptr<detail::RowWorker> make_worker() const override { return std::make_unique<Worker>(fn_); }

 private:
  class Worker final : public detail::RowWorker {
   public:
    explicit Worker(const ChunkFunction& fn) : fn_(fn) {}
    void set_parameters(std::span<const double>) override {}
    void accumulate(const detail::RowSet& rows, detail::RowSums& sums) override {
      if (!rows.contiguous()) throw std::logic_error("chunk function: rows must be a contiguous range");
      fn_(rows.begin(), rows.begin() + rows.size(), static_cast<detail::VectorSums&>(sums).values());
    }

   private:
    const ChunkFunction& fn_;
  };
  std::size_t width_;
  const ChunkFunction& fn_;
};

// One thread per chunk at most: a chunk (8192 rows by default) is the smallest work worth a thread,
// so a fit of fewer rows than two chunks runs on one thread, without a parallel region, whatever
// the Context allows (small problems are never slower on more threads).
int chunk_threads(const Context& ctx, std::size_t chunks) {
  return static_cast<int>(std::clamp<std::size_t>(chunks, 1, static_cast<std::size_t>(ctx.resolved_threads())));
}

}  // namespace

int Context::resolved_threads() const { return threads > 0 ? threads : omp_get_num_procs(); }

namespace detail {

std::vector<double> chunked_sum(const Context& ctx, std::size_t rows, const RowKernel& kernel,
                                std::span<const double> theta) {
  const std::size_t chunk_rows = std::max<std::size_t>(ctx.chunk_rows, 1);
  const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  const std::size_t width = kernel.width();
  ExactSum total(width);
  FirstError error;

  const int threads = chunk_threads(ctx, chunks);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    ExactSum mine(width);
    std::vector<double> partial(width);
    std::unique_ptr<RowWorker> worker;
    std::unique_ptr<RowSums> sums;
    try {
      worker = kernel.make_worker();
      worker->set_parameters(theta);
      sums = kernel.make_sums();
      sums->zero();
    } catch (...) {
      error.record(0, std::current_exception());
    }
#pragma omp for schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks; ++c) {
      if (!worker || !sums || error.failed_before(c)) continue;  // no worker: its error is recorded
      try {
        const std::size_t begin = c * chunk_rows;
        worker->accumulate(RowSet::range(begin, std::min(rows, begin + chunk_rows)), *sums);
        sums->take(partial);
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

}  // namespace detail

std::vector<double> chunked_sum(const Context& ctx, std::size_t rows, std::size_t width,
                                const ChunkFunction& chunk) {
  return detail::chunked_sum(ctx, rows, FunctionKernel(width, chunk), {});
}

void parallel_chunks(const Context& ctx, std::size_t rows,
                     const std::function<void(std::size_t begin, std::size_t end)>& body) {
  const std::size_t chunk_rows = std::max<std::size_t>(ctx.chunk_rows, 1);
  const std::size_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  FirstError error;
  const int threads = chunk_threads(ctx, chunks);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
  for (std::size_t c = 0; c < chunks; ++c) {
    if (error.failed_before(c)) continue;
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
