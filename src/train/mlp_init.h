// train/mlp_init.h — the starting weights of an MLP, from the seed alone.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "parafit/mlp.h"

namespace parafit::detail {

// Layer by layer (layout of MlpModel::parameters): weights uniform in [-a, a] and biases 0, with
// a = sqrt(6 / (fan_in + fan_out)) (Glorot/Xavier) for tanh and sigmoid, whose useful range is
// near 0, and a = sqrt(6 / fan_in) (He) for relu and gelu, which zero half their inputs. The
// output layer (linear) uses Xavier. Drawn from Rng(seed), the same on every machine.
std::vector<double> init_mlp_weights(std::span<const std::size_t> widths, Activation activation, std::uint64_t seed);

}  // namespace parafit::detail
