// W5 (issue 11): time to reach a target training MSE with each gradient exchange, with and without
// a straggler. W3's data (a .npy directory from bench/compare/w3_data.py) and MLP (16-64-64-1 tanh,
// Adam 1e-3, batch 256, float32). Run it under mpirun, one line per run (bench/w5.sh runs them all):
//
//   mpirun -np R build/bench/bench_w5 --data DIR --sync MODE [--servers K] [--threads T]
//          [--slow R:F] [--target 0.002] [--every 50] [--epochs 2] [--seed 1]
//
// MODE: sync, local:H, ssp:S (the last K ranks serve), hogwild (one rank, T threads). --slow R:F
// slows worker R (a rank; a thread under hogwild) F times (TrainerOptions::debug_slow_*); sync on
// the threads of one rank (-np 1 --threads T) has no straggler to slow.
//
// Every --every steps (rank 0's own steps: worker 0's) rank 0 evaluates the MSE of its current
// weights (Trainer::snapshot) on a fixed sample of 20,000 rows (rows i·N/20000), with its clock
// stopped; the time to target is rank 0's training time (steps, shuffles and waits, not the
// evaluations) at the first evaluation at or below --target. The run goes on to its last epoch
// (no collective is added to stop it early); `reached=no` if the target was never met.
#include <fmt/format.h>

#ifdef PARAFIT_HAVE_MPI
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "parafit/mpi_communicator.h"
#include "parafit/table.h"
#include "parafit/train.h"
#include "parafit/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string data, sync = "sync", slow;
  std::size_t servers = 1, every = 50, epochs = 2;
  int threads = 1;
  double target = 0.002;
  std::uint64_t seed = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--data") a.data = v;
    else if (k == "--sync") a.sync = v;
    else if (k == "--servers") a.servers = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--threads") a.threads = std::atoi(v.c_str());
    else if (k == "--slow") a.slow = v;
    else if (k == "--target") a.target = std::atof(v.c_str());
    else if (k == "--every") a.every = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--epochs") a.epochs = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--seed") a.seed = std::strtoull(v.c_str(), nullptr, 10);
    else throw parafit::Error("bench_w5: unknown option " + k);
  }
  if (a.data.empty()) throw parafit::Error("bench_w5: --data DIR is required");
  return a;
}

}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_w5: error: {}\n", e.what());
    return 1;
  }
}

int run(int argc, char** argv) {
  parafit::MpiSession session(argc, argv);
  parafit::MpiCommunicator comm;
  const Args a = parse(argc, argv);
  const int me = comm.rank(), ranks = comm.size();

  parafit::TableOptions table;
  table.shard_index = std::size_t(me);
  table.shard_count = std::size_t(ranks);
  parafit::Dataset local = parafit::read_table(a.data, table);

  // Rank 0's evaluation sample: rows i·N/20000 of the whole data.
  parafit::Dataset sample;
  std::vector<double> sample_y;
  if (me == 0) {
    const parafit::Dataset all = parafit::read_table(a.data, parafit::TableOptions{});
    const std::size_t n = all.rows(), m = std::min<std::size_t>(20000, n);
    for (const std::string& name : all.names()) {
      std::vector<double> col(m);
      const auto src = all.column(name);
      for (std::size_t i = 0; i < m; ++i) col[i] = src[i * n / m];
      if (name == "y") sample_y = col;
      sample.add_column(name, std::move(col));
    }
  }

  parafit::TrainSpec spec;
  spec.model.name = "mlp:64,64";
  spec.model.y = "y";
  spec.optimizer.name = "adam";
  spec.optimizer.learning_rate = 1e-3;
  spec.trainer.batch = 256;
  spec.trainer.epochs = a.epochs;
  spec.trainer.seed = a.seed;
  spec.trainer.sync = parafit::parse_sync(a.sync);
  spec.trainer.sync.servers = a.servers;
  if (!a.slow.empty()) {
    const auto colon = a.slow.find(':');
    spec.trainer.debug_slow_rank = std::atoi(a.slow.substr(0, colon).c_str());
    spec.trainer.debug_slow_factor = std::atof(a.slow.substr(colon + 1).c_str());
  }
  if (const char* t = std::getenv("PARAFIT_RANK_TIMEOUT")) comm.set_timeout(std::chrono::milliseconds(std::llround(std::atof(t) * 1000)));
  else if (spec.trainer.sync.mode == parafit::TrainerOptions::Sync::Mode::kSsp) comm.set_timeout(std::chrono::seconds(10));

  parafit::Trainer trainer(std::move(local), spec, parafit::Context{.threads = a.threads, .communicator = &comm});
  trainer.Init();
  double trained = 0, evaluating = 0, reached_at = -1, last_mse = NAN;
  std::size_t next_eval = a.every, reached_step = 0, evaluations = 0;
  const auto evaluate = [&](std::size_t step) {
    const auto t = Clock::now();
    const parafit::TrainResult now = trainer.snapshot();
    const std::vector<double> f = now.mlp->predict(sample, parafit::Context{.threads = 1});
    double sse = 0;
    for (std::size_t i = 0; i < f.size(); ++i) sse += (f[i] - sample_y[i]) * (f[i] - sample_y[i]);
    last_mse = sse / double(f.size());
    ++evaluations;
    if (reached_at < 0 && last_mse <= a.target) {
      reached_at = trained;
      reached_step = step;
    }
    evaluating += std::chrono::duration<double>(Clock::now() - t).count();
  };
  auto t0 = Clock::now();
  while (trainer.running()) {
    while (trainer.Step()) {
      const std::size_t step = trainer.progress().global_step;
      if (me == 0 && step >= next_eval) {
        trained += std::chrono::duration<double>(Clock::now() - t0).count();
        evaluate(step);
        while (next_eval <= step) next_eval += a.every;
        t0 = Clock::now();
      }
    }
    if (trainer.running()) trainer.EndEpoch();
  }
  trained += std::chrono::duration<double>(Clock::now() - t0).count();
  const parafit::TrainResult r = trainer.Finish();
  if (me == 0) {
    const std::size_t servers = spec.trainer.sync.mode == parafit::TrainerOptions::Sync::Mode::kSsp ? a.servers : 0;
    // The workers: Hogwild's threads, sync's threads on one rank, otherwise the ranks that are not servers.
    const bool threads_work = spec.trainer.sync.mode == parafit::TrainerOptions::Sync::Mode::kHogwild || ranks == 1;
    const int workers = threads_work ? a.threads : ranks - int(servers);
    fmt::print("tool=parafit sync={} ranks={} servers={} workers={} threads={} slow={} target={} reached={} "
               "seconds_to_target={:.3f} steps_to_target={} seconds_total={:.3f} steps={} final_mse={:.6g} "
               "last_eval_mse={:.6g} evaluations={} eval_seconds={:.3f} staleness_mean={:.2f} staleness_max={}\n",
               a.sync, ranks, servers, workers, a.threads, a.slow.empty() ? "none" : a.slow, a.target,
               reached_at >= 0 ? "yes" : "no", reached_at >= 0 ? reached_at : trained, reached_step, trained,
               r.summary.steps, r.summary.final_train_mse, last_mse, evaluations, evaluating, r.summary.staleness_mean,
               r.summary.staleness_max);
  }
  return 0;
}
#else
int main() {
  fmt::print("bench_w5: parafit was built without MPI\n");
  return 0;
}
#endif
