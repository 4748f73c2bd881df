#include "train/model_grid.h"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/strata.h"

namespace parafit::detail {
namespace {

// Every rank of `comm` gets rank `root`'s rows (the same columns everywhere).
void broadcast_rows(Dataset& local, Communicator& comm, int root) {
  std::vector<std::int64_t> rows = {std::int64_t(local.rows())};
  comm.broadcast(std::span<std::int64_t>(rows), root);
  const std::vector<std::string> names = local.names();
  std::vector<std::vector<double>> columns = local.release_columns();
  Dataset out;
  out.set_source(local.source());
  for (std::size_t c = 0; c < names.size(); ++c) {
    columns[c].resize(std::size_t(rows[0]));
    comm.broadcast(std::span<double>(columns[c]), root);
    out.add_column(names[c], std::move(columns[c]));
  }
  local = std::move(out);
}

}  // namespace

ModelGrid make_model_grid(Communicator& world, std::size_t slices, std::size_t stages, Dataset& local,
                          std::size_t strata) {
  const auto ranks = std::size_t(world.size());
  const std::size_t group = slices * stages;
  if (group == 0 || ranks % group != 0) {
    const std::string what =
        stages == 1 ? fmt::format("{} {}", option_name("trainer.tensor_parallel"), slices)
        : slices == 1
            ? fmt::format("{} {}", option_name("trainer.pipeline_stages"), stages)
            : fmt::format("{} {} x {} {}", option_name("trainer.pipeline_stages"), stages,
                          option_name("trainer.tensor_parallel"), slices);
    throw AgreedError(fmt::format("{} does not divide the {} rank(s): run D x {} ranks under mpirun (D data-parallel "
                                  "positions)",
                                  what, ranks, group),
                      Error::Kind::kUsage);
  }
  const RowLayout layout = row_layout(world, local.rows());
  if (layout.total == 0) throw AgreedError("no data rows");
  if (strata == 0) throw AgreedError(fmt::format("{}: must be at least 1", option_name("context.strata")));
  const std::size_t positions = ranks / group;
  const auto me = std::size_t(world.rank());
  const std::size_t position = me / group, in_group = me % group;
  const std::size_t stage = in_group / slices, slice = in_group % slices;
  // Position d's rows go to its first rank (the others get none), which then hands them on.
  const std::vector<std::size_t> bounds = plan_strata(layout.total, strata).rank_bounds(positions);
  std::vector<std::size_t> want(ranks + 1, layout.total);
  for (std::size_t d = 0; d < positions; ++d) {
    want[d * group] = bounds[d];
    for (std::size_t k = 1; k < group; ++k) want[d * group + k] = bounds[d + 1];
  }
  redistribute_rows(local, world, want);
  ModelGrid grid;
  grid.slices = slices;
  grid.stages = stages;
  grid.tensor = world.split(int(position * stages + stage), int(slice));
  grid.pipe = world.split(int(position * slices + slice), int(stage));
  grid.data = world.split(int(in_group), int(position));
  grid.model = world.split(int(position), int(in_group));
  broadcast_rows(local, *grid.model, 0);
  return grid;
}

}  // namespace parafit::detail
