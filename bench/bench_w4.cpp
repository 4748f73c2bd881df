// W4 (issue 12): a wide MLP, 16-2048-2048-2048-1 tanh (8.4M weights), Adam lr 1e-3, batch 256,
// float32, W3-style data, trained data-parallel (replicated), tensor-parallel or as a pipeline.
// Run it under mpirun with 1 thread per rank (bench/w4.sh runs every configuration round-robin):
//
//   mpirun -np K build/bench/bench_w4 ROWS replicated
//   mpirun -np 2 build/bench/bench_w4 ROWS tensor
//   mpirun -np 2 build/bench/bench_w4 ROWS pipeline M 1f1b|gpipe [recompute]
//   mpirun -np K build/bench/bench_w4 ceiling
//
// Prints one line per run (rank 0's samples/s and step time; training steps and shuffles, as
// parafit train reports them), then per rank: the weights it holds (float64 master copy + float32
// compute copy), its optimizer state, its pipeline stage's peak activation memory and idle
// fraction (the bubble: 1 - busy / wall time of the gradient flushes, from the stage's own clocks),
// and its peak RSS. For a pipeline it also prints the theoretical bubble (P - 1) / (M + P - 1).
#include <fmt/format.h>
#include <fmt/ranges.h>

#ifdef PARAFIT_HAVE_MPI
#include <cstdlib>
#include <string>
#include <vector>

#include "model/mlp_stages.h"
#include "model/mlp_tensor.h"
#include "mpi_bench_common.h"
#include "parafit/mpi_communicator.h"
#include "parafit/train.h"
#include "parallel/strata.h"

int main(int argc, char** argv) {
  parafit::MpiSession session(argc, argv);
  parafit::MpiCommunicator comm;
  const std::size_t me = std::size_t(comm.rank()), ranks = std::size_t(comm.size());
  if (argc > 1 && std::string(argv[1]) == "ceiling") {
    parafit::bench::print_ceiling(comm);
    return 0;
  }
  if (argc < 3) {
    fmt::print(stderr, "usage: bench_w4 ROWS replicated|tensor|pipeline [M 1f1b|gpipe [recompute]] | ceiling\n");
    return 2;
  }
  const std::size_t rows = std::strtoull(argv[1], nullptr, 10);
  const std::string mode = argv[2];
  const std::size_t micro = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  const std::string schedule = argc > 4 ? argv[4] : "1f1b";
  const bool recompute = argc > 5 && std::string(argv[5]) == "recompute";

  parafit::Dataset data = parafit::bench::w3_share(rows, me, ranks);

  parafit::TrainSpec spec;
  spec.model.name = "mlp:2048,2048,2048";
  spec.model.precision = parafit::Precision::kFloat32;
  spec.optimizer.name = "adam";
  spec.optimizer.learning_rate = 1e-3;
  spec.trainer.batch = 256;
  spec.trainer.epochs = 1;
  spec.trainer.seed = 1;
  spec.trainer.shard_optimizer = parafit::TrainerOptions::ShardOptimizer::kOff;  // the replicated baseline
  std::size_t slices = 1, stages = 1;
  if (mode == "tensor") {
    slices = ranks;
    spec.trainer.tensor_parallel = slices;
  } else if (mode == "pipeline") {
    stages = ranks;
    spec.trainer.pipeline_stages = stages;
    spec.trainer.micro_batches = micro;
    spec.trainer.pipeline_schedule = schedule == "gpipe" ? parafit::TrainerOptions::PipelineSchedule::kGpipe
                                                         : parafit::TrainerOptions::PipelineSchedule::k1F1B;
    spec.trainer.recompute = recompute;
  } else if (mode != "replicated") {
    fmt::print(stderr, "bench_w4: unknown mode '{}'\n", mode);
    return 2;
  }
  // Two strata: every stratum keeps a gradient accumulator of all its rank's weights (34 MB in
  // float32 here), so a wide model wants few; two let the 2-rank data-parallel run use both ranks,
  // and every configuration draws the same batches.
  parafit::Context ctx;
  ctx.threads = 1;
  ctx.communicator = &comm;
  ctx.strata = 2;
  const parafit::TrainResult r = parafit::train(std::move(data), spec, ctx);

  // What this rank holds.
  const parafit::detail::MlpShape shape{{16, 2048, 2048, 2048, 1}, parafit::detail::Activation::kTanh};
  const std::vector<std::size_t> bounds = parafit::detail::balance_stages(shape, stages);
  const std::size_t stage = (me / slices) % stages, slice = me % slices;
  const std::size_t weights =
      parafit::detail::TensorPlan(shape, slices, slice, bounds[stage], bounds[stage + 1]).num_parameters();
  const std::vector<std::int64_t> mine = {std::int64_t(weights), std::int64_t(r.summary.optimizer_state_values),
                                          std::int64_t(r.summary.pipeline_peak_activation_bytes),
                                          std::int64_t(r.summary.pipeline_idle_fraction * 1e6),
                                          std::int64_t(parafit::bench::peak_rss_kb())};
  std::vector<std::int64_t> all(5 * ranks);
  comm.allgather<std::int64_t>(mine, all);
  if (me != 0) return 0;
  std::string what = mode;
  if (mode == "pipeline")
    what = fmt::format("pipeline P={} M={} {}{}", stages, micro, schedule, recompute ? " recompute" : "");
  else if (mode == "tensor")
    what = fmt::format("tensor T={}", slices);
  else
    what = fmt::format("replicated D={}", ranks);
  fmt::print("W4 {}: {:.0f} samples/s, {:.4f} s/step ({} steps, {:.3f} s), final training MSE {:.6f}\n", what,
             r.summary.samples_per_second, r.summary.seconds / double(r.summary.steps), r.summary.steps,
             r.summary.seconds, r.summary.final_train_mse);
  for (std::size_t q = 0; q < ranks; ++q) {
    const std::int64_t* v = all.data() + 5 * q;
    fmt::print("  rank {}: weights {} ({:.1f} MB as float64 + float32), optimizer state {:.1f} MB, peak activations "
               "{:.2f} MB, idle {:.1f}%, peak RSS {:.0f} MB\n",
               q, v[0], double(v[0]) * 12 / 1e6, double(v[1]) * 8 / 1e6, double(v[2]) / 1e6, double(v[3]) / 1e4,
               double(v[4]) / 1024);
  }
  if (mode == "pipeline")
    fmt::print("  theoretical bubble (P-1)/(M+P-1) = {:.1f}%\n",
               100.0 * double(stages - 1) / double(micro + stages - 1));
  return 0;
}
#else
int main() {
  fmt::print("bench_w4: parafit was built without MPI\n");
  return 0;
}
#endif
