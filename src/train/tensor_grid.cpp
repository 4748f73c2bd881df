#include "train/tensor_grid.h"

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

TensorGrid make_tensor_grid(Communicator& world, std::size_t slices, Dataset& local, std::size_t strata) {
  const auto ranks = std::size_t(world.size());
  if (slices == 0 || ranks % slices != 0)
    throw AgreedError(fmt::format("{} {} does not divide the {} rank(s): run D x {} ranks under mpirun (D data-parallel "
                                  "positions)",
                                  option_name("trainer.tensor_parallel"), slices, ranks, slices),
                      Error::Kind::kUsage);
  const RowLayout layout = row_layout(world, local.rows());
  if (layout.total == 0) throw AgreedError("no data rows");
  if (strata == 0) throw AgreedError(fmt::format("{}: must be at least 1", option_name("context.strata")));
  const std::size_t positions = ranks / slices;
  const auto me = std::size_t(world.rank());
  const std::size_t slice = me % slices, position = me / slices;
  // Position d's rows go to its slice 0 (the other slices get none), then slice 0 hands them on.
  const std::vector<std::size_t> bounds = plan_strata(layout.total, strata).rank_bounds(positions);
  std::vector<std::size_t> want(ranks + 1, layout.total);
  for (std::size_t d = 0; d < positions; ++d) {
    want[d * slices] = bounds[d];
    for (std::size_t t = 1; t < slices; ++t) want[d * slices + t] = bounds[d + 1];
  }
  redistribute_rows(local, world, want);
  TensorGrid grid;
  grid.tensor = world.split(int(position), int(slice));
  grid.data = world.split(int(slice), int(position));
  broadcast_rows(local, *grid.tensor, 0);
  return grid;
}

}  // namespace parafit::detail
