#include "model/mlp_stages.h"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

namespace parafit::detail {

std::size_t layer_cost(const MlpShape& shape, std::size_t l) { return shape.widths[l] * shape.widths[l + 1]; }

std::vector<std::size_t> balance_stages(const MlpShape& shape, std::size_t stages) {
  const std::size_t layers = shape.num_layers();
  if (stages == 0 || stages > layers)
    throw std::invalid_argument(fmt::format("{} pipeline stages of {} layers", stages, layers));
  std::vector<std::size_t> prefix(layers + 1, 0);
  for (std::size_t l = 0; l < layers; ++l) prefix[l + 1] = prefix[l] + layer_cost(shape, l);
  // best[s][l]: the least costliest-stage cost of cutting layers [0, l) into s stages; cut[s][l]
  // the start of the last of them.
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::vector<std::vector<std::size_t>> best(stages + 1, std::vector<std::size_t>(layers + 1, kNone));
  std::vector<std::vector<std::size_t>> cut(stages + 1, std::vector<std::size_t>(layers + 1, 0));
  best[0][0] = 0;
  for (std::size_t s = 1; s <= stages; ++s)
    for (std::size_t l = s; l <= layers; ++l)
      for (std::size_t start = s - 1; start < l; ++start) {
        if (best[s - 1][start] == kNone) continue;
        const std::size_t cost = std::max(best[s - 1][start], prefix[l] - prefix[start]);
        if (cost < best[s][l]) {
          best[s][l] = cost;
          cut[s][l] = start;
        }
      }
  std::vector<std::size_t> bounds(stages + 1);
  bounds[stages] = layers;
  for (std::size_t s = stages; s > 0; --s) bounds[s - 1] = cut[s][bounds[s]];
  return bounds;
}

std::string describe_stages(const MlpShape& shape, const std::vector<std::size_t>& bounds) {
  std::size_t total = 0;
  for (std::size_t l = 0; l < shape.num_layers(); ++l) total += layer_cost(shape, l);
  std::string out;
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    std::size_t cost = 0;
    std::string widths = std::to_string(shape.widths[bounds[s]]);
    for (std::size_t l = bounds[s]; l < bounds[s + 1]; ++l) {
      cost += layer_cost(shape, l);
      widths += "-" + std::to_string(shape.widths[l + 1]);
    }
    const std::string layers = bounds[s + 1] - bounds[s] == 1
                                   ? fmt::format("layer {}", bounds[s] + 1)
                                   : fmt::format("layers {}-{}", bounds[s] + 1, bounds[s + 1]);
    out += fmt::format("stage {}: {} ({}), {} multiply-adds/row ({:.1f}%)\n", s, layers, widths, cost,
                       100.0 * double(cost) / double(total));
  }
  return out;
}

}  // namespace parafit::detail
