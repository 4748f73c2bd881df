// model/mlp_stages.h — cutting an MLP into pipeline stages: contiguous runs of layers, balanced by
// the multiply-adds a row costs in each (a layer in x out costs in x out forward, about twice that
// backward: the same factor for every layer, so the balance is by in x out).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/mlp_compute.h"

namespace parafit::detail {

// Multiply-adds per row of layer l, forward.
std::size_t layer_cost(const MlpShape& shape, std::size_t l);

// The stage bounds (stages + 1 layer indices, from 0 to the layer count): the cut into `stages`
// non-empty runs whose costliest stage costs least (ties: the earliest such cut). Throws
// std::invalid_argument when stages is 0 or more than the layers.
std::vector<std::size_t> balance_stages(const MlpShape& shape, std::size_t stages);

// One line per stage: its layers, widths and cost per row, e.g.
// "stage 0: layers 1-2 (16-2048-2048), 4.23M multiply-adds/row (50.1%)".
std::string describe_stages(const MlpShape& shape, const std::vector<std::size_t>& bounds);

}  // namespace parafit::detail
