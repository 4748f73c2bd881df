#include "parallel/strategies/scale_gradient.h"

#include <cmath>
#include <limits>

#include "model/fast_exp.h"

namespace parafit::detail {
namespace {

// |x| <= DBL_MAX is false exactly for inf and NaN.
[[gnu::always_inline]] inline void scale_loop(std::size_t n, double* __restrict g, double factor, bool* finite) {
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = g[i] * factor;
    g[i] = x;
    ok &= std::fabs(x) <= std::numeric_limits<double>::max();
  }
  *finite = ok;
}

}  // namespace

bool scale_and_check(std::span<double> g, double factor) {
  bool finite = true;
  run_dispatched<scale_loop>(g.size(), g.data(), factor, &finite);
  return finite;
}

}  // namespace parafit::detail
