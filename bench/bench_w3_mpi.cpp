// W3 across MPI ranks, for ZeRO-1 (the optimizer state sharded over the ranks, issue 8): the MLP
// 16-64-64-1 of bench_w3 (tanh, Adam lr 1e-3, batch 256, one epoch, float32) on the same
// 1,000,000 generated rows, each rank holding only its shard. Run it under mpirun:
//
//   mpirun -np K build/bench/bench_w3_mpi [rows] [auto|on|off] [threads] [hidden widths, default 64,64]
//   mpirun -np K build/bench/bench_w3_mpi ceiling      (the machine's K-process ceiling, below)
//
// Prints rank 0's samples/s (training steps and shuffles, as parafit train reports them), the
// final training MSE, and per rank the optimizer state it holds (doubles) and its peak memory.
// `ceiling` runs the same compute-bound loop (a chain of multiply-adds, no memory traffic) on every
// rank and prints the K-process speed-up over one process in the same job: the most K ranks can
// gain on this machine at this moment. bench/zero1_w3.sh runs the comparison.
#include <fmt/format.h>
#include <fmt/ranges.h>

#ifdef PARAFIT_HAVE_MPI
#include <cstdlib>
#include <string>
#include <vector>

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
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::string shard = argc > 2 ? argv[2] : "auto";
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const std::string hidden = argc > 4 ? argv[4] : "64,64";

  parafit::Dataset data = parafit::bench::w3_share(rows, me, ranks);

  parafit::TrainSpec spec;
  spec.model.name = "mlp:" + hidden;
  spec.optimizer.name = "adam";
  spec.optimizer.learning_rate = 1e-3;
  spec.trainer.batch = 256;
  spec.trainer.epochs = 1;
  spec.trainer.seed = 1;
  using Shard = parafit::TrainerOptions::ShardOptimizer;
  spec.trainer.shard_optimizer = shard == "on" ? Shard::kOn : shard == "off" ? Shard::kOff : Shard::kAuto;
  const parafit::TrainResult r = parafit::train(std::move(data), spec, parafit::Context{.threads = threads, .communicator = &comm});
  std::vector<std::int64_t> state(ranks), rss(ranks);
  comm.allgather<std::int64_t>(std::vector<std::int64_t>{std::int64_t(r.summary.optimizer_state_values)}, state);
  comm.allgather<std::int64_t>(std::vector<std::int64_t>{parafit::bench::peak_rss_kb() / 1024}, rss);
  if (me == 0)
    fmt::print("W3 16-{}-1 ({} weights) {} rank(s) x {} thread(s), optimizer {}: {:.0f} samples/s ({:.3f} s), final training MSE {:.6f}, "
               "{} steps; optimizer state per rank {} doubles; peak RSS per rank {} MB\n",
               hidden, r.mlp->num_parameters(), ranks, threads, r.summary.sharded_optimizer ? "sharded (ZeRO-1)" : "replicated",
               r.summary.samples_per_second, r.summary.seconds, r.summary.final_train_mse, r.summary.steps, state, rss);
  return 0;
}
#else
int main() {
  fmt::print("bench_w3_mpi: parafit was built without MPI\n");
  return 0;
}
#endif
