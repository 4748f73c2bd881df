#include "train/mlp_init.h"

#include <cmath>

#include "parallel/strata.h"

namespace parafit::detail {

std::vector<double> init_mlp_weights(std::span<const std::size_t> widths, Activation activation, std::uint64_t seed) {
  std::vector<double> theta;
  theta.reserve(mlp_parameter_count(widths));
  Rng rng(mix64(seed ^ 0x6d6c702d696e6974ULL));  // a stream of its own, apart from shuffles and splits
  const bool he = activation == Activation::kRelu || activation == Activation::kGelu;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    const auto fan_in = static_cast<double>(widths[l]), fan_out = static_cast<double>(widths[l + 1]);
    const bool output = l + 2 == widths.size();
    const double a = (he && !output) ? std::sqrt(6.0 / fan_in) : std::sqrt(6.0 / (fan_in + fan_out));
    for (std::size_t i = 0; i < widths[l] * widths[l + 1]; ++i) theta.push_back(a * (2.0 * rng.uniform() - 1.0));
    theta.insert(theta.end(), widths[l + 1], 0.0);
  }
  return theta;
}

}  // namespace parafit::detail
