#include "parallel/strategies/scale_gradient.h"

#include "simd/array_ops.h"

namespace parafit::detail {

bool scale_and_check(std::span<double> g, double factor) {
  return simd::scale_and_check_finite(g.size(), g.data(), factor);
}

}  // namespace parafit::detail
