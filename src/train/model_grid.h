// train/model_grid.h — the data x pipeline x tensor grid of a model-parallel run
// (--pipeline-stages P, --tensor-parallel T): world rank r = (d P + p) T + t is slice t of stage p
// of data position d. A tensor group's ranks are neighbours (Megatron-LM's advice: tensor
// parallelism inside a node, where its per-layer exchanges are cheapest; pipelines across nodes).
// The P x T ranks of one data position hold the same rows; the D = ranks / (P T) positions split
// the rows as data-parallel training does.
#pragma once

#include <cstddef>
#include <memory>

#include "parafit/communicator.h"
#include "parafit/dataset.h"

namespace parafit::detail {

struct ModelGrid {
  std::size_t slices = 1, stages = 1;
  std::unique_ptr<Communicator> tensor;  // the T slices of this rank's stage and position
  std::unique_ptr<Communicator> pipe;    // the P stages of this rank's slice and position
  std::unique_ptr<Communicator> data;    // the D ranks of this rank's slice and stage
  std::unique_ptr<Communicator> model;   // the P x T ranks of this rank's position (rank p T + t)
  std::size_t slice() const { return std::size_t(tensor->rank()); }
  std::size_t stage() const { return std::size_t(pipe->rank()); }
};

// Splits `world` into the grid and moves the rows: data position d's rows (whole strata, as
// StrataPlan::rank_bounds(D) deals them for `strata` strata) end up on each of its P x T ranks. A
// collective on `world`; throws AgreedError (the same on every rank) when P x T does not divide
// the ranks or there are no rows.
ModelGrid make_model_grid(Communicator& world, std::size_t slices, std::size_t stages, Dataset& local,
                          std::size_t strata);

}  // namespace parafit::detail
