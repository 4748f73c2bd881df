// parallel/thread_loops.h — the library's loops over threads. Every OpenMP parallel region of
// parafit is in src/parallel/ (these loops, and the two reduction engines: chunked_sum.cpp,
// strata_engine.cpp), so that how many threads run, how work is dealt and how a worker's exception
// travels are decided in one place. Kernels use `omp simd` at most.
#pragma once

#include <cstddef>
#include <functional>

namespace parafit::detail {

// Runs body(i) for i in [0, count) on up to `threads` threads, items dealt in contiguous runs
// (OpenMP static schedule). Every item runs even if another throws; then the exception of the
// lowest item that threw is rethrown. One thread (or one item) runs inline, without a parallel
// region.
void parallel_for(int threads, std::size_t count, const std::function<void(std::size_t i)>& body);

// Runs body(begin, end) once per thread on `threads` (>= 1) near-equal contiguous ranges of
// [0, count): range t is [count * t / threads, count * (t + 1) / threads). Exceptions as above.
void parallel_ranges(int threads, std::size_t count,
                     const std::function<void(std::size_t begin, std::size_t end)>& body);

}  // namespace parafit::detail
