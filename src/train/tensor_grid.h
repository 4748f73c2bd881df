// train/tensor_grid.h — the data x tensor grid of a tensor-parallel run (--tensor-parallel T):
// world rank r is slice r mod T of data position r / T, so a tensor group's ranks are neighbours
// (Megatron-LM's advice: tensor parallelism inside a node, where its per-layer exchanges are
// cheapest). The ranks of one tensor group hold the same rows; the D = ranks / T data positions
// split the rows as data-parallel training does.
#pragma once

#include <cstddef>
#include <memory>

#include "parafit/communicator.h"
#include "parafit/dataset.h"

namespace parafit::detail {

struct TensorGrid {
  std::unique_ptr<Communicator> tensor;  // the T slices of this rank's data position
  std::unique_ptr<Communicator> data;    // the D ranks of this rank's slice, one per data position
};

// Splits `world` into the grid and moves the rows: data position d's rows (whole strata, as
// StrataPlan::rank_bounds(D) deals them for `strata` strata) end up on each of its T ranks. A
// collective on `world`; throws AgreedError (the same on every rank) when T does not divide the
// ranks or there are no rows.
TensorGrid make_tensor_grid(Communicator& world, std::size_t slices, Dataset& local, std::size_t strata);

}  // namespace parafit::detail
