#include "parallel/thread_loops.h"

#include <algorithm>
#include <exception>
#include <vector>

namespace parafit::detail {

void parallel_for(int threads, std::size_t count, const std::function<void(std::size_t i)>& body) {
  std::vector<std::exception_ptr> errors(count);
  const auto n = static_cast<std::ptrdiff_t>(count);
  const int used = static_cast<int>(std::min<std::size_t>(count, std::size_t(threads > 1 ? threads : 1)));
#pragma omp parallel for num_threads(used) schedule(static) if (used > 1)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    try {
      body(std::size_t(i));
    } catch (...) {
      errors[std::size_t(i)] = std::current_exception();
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

void parallel_ranges(int threads, std::size_t count,
                     const std::function<void(std::size_t begin, std::size_t end)>& body) {
  const auto t = static_cast<std::size_t>(threads > 1 ? threads : 1);
  parallel_for(threads, t, [&](std::size_t k) { body(count * k / t, count * (k + 1) / t); });
}

}  // namespace parafit::detail
