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
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/mlp_stages.h"
#include "model/mlp_tensor.h"
#include "parafit/mpi_communicator.h"
#include "parafit/train.h"
#include "parallel/strata.h"

namespace {

double compute_bound_seconds() {
  const auto t0 = std::chrono::steady_clock::now();
  double a = 1.0, b = 1.0, c = 1.0, d = 1.0;
  for (long i = 0; i < 400'000'000; ++i) {
    a = a * 0.999999999 + 1e-9;
    b = b * 0.999999998 + 1e-9;
    c = c * 0.999999997 + 1e-9;
    d = d * 0.999999996 + 1e-9;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a + b + c + d == 0) std::abort();
  return s;
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  parafit::MpiSession session(argc, argv);
  parafit::MpiCommunicator comm;
  const std::size_t me = std::size_t(comm.rank()), ranks = std::size_t(comm.size());
  if (argc > 1 && std::string(argv[1]) == "ceiling") {
    std::vector<double> alone = {0.0};
    if (me == 0) alone[0] = compute_bound_seconds();
    comm.broadcast(alone, 0);
    std::vector<double> together = {compute_bound_seconds()};
    comm.allreduce(together, parafit::ReduceOp::kMax);
    if (me == 0)
      fmt::print("ceiling: {} process(es): one alone {:.3f} s, all at once {:.3f} s: speed-up {:.2f} (ideal {})\n", ranks,
                 alone[0], together[0], double(ranks) * alone[0] / together[0], ranks);
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

  // W3's data-generating function, the same order on every rank; a rank keeps its contiguous share.
  const std::size_t first = rows * me / ranks, last = rows * (me + 1) / ranks;
  parafit::detail::Rng rng(20261203);
  std::vector<std::vector<double>> x(16);
  std::vector<double> y;
  std::vector<double> row(16);
  for (std::size_t i = 0; i < rows; ++i) {
    for (auto& v : row) v = 2.0 * rng.uniform() - 1.0;
    double s = 0;
    for (std::size_t k = 5; k < 16; ++k) s += row[k];
    const double yi = std::sin(3 * row[0]) + row[1] * row[2] + 0.5 * row[3] * row[3] - row[4] + 0.1 * s + 0.01 * rng.normal();
    if (i < first || i >= last) continue;
    for (std::size_t k = 0; k < 16; ++k) x[k].push_back(row[k]);
    y.push_back(yi);
  }
  parafit::Dataset data;
  for (std::size_t k = 0; k < 16; ++k) data.add_column("x" + std::to_string(k), std::move(x[k]));
  data.add_column("y", std::move(y));

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
                                          std::int64_t(peak_rss_kb())};
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
