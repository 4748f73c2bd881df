// The parameter server with bounded staleness (--sync ssp:S; parallel/strategies/ssp_*.cpp), on
// in-process ranks: S = 0 gives the weights of --sync sync bit for bit for any number of workers
// and servers; S > 0 converges near it and never lets a worker run more than S steps ahead; a
// server checkpoint resumes; wrong set-ups are refused on every rank alike.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/error.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "train_test_data.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;
using Mode = TrainerOptions::Sync::Mode;

TrainSpec spec_of(const std::string& optimizer, std::size_t staleness, std::size_t servers) {
  TrainSpec s;
  s.model.name = "mlp:16,8";  // 5 inputs: 241 weights
  s.optimizer.name = optimizer;
  s.optimizer.learning_rate = optimizer == "sgd" ? 0.05 : 3e-3;
  s.optimizer.sgd.momentum = 0.9;
  s.trainer.batch = 64;
  s.trainer.epochs = 2;
  s.trainer.seed = 5;
  s.trainer.validation_fraction = 0.1;
  s.trainer.sync.mode = Mode::kSsp;
  s.trainer.sync.staleness = staleness;
  s.trainer.sync.servers = servers;
  return s;
}

TEST(TrainSsp, StalenessZeroIsSyncBitForBit) {
  const Dataset data = test::w3_data(3000);
  for (const std::string optimizer : {"adam", "sgd"}) {
    TrainSpec sync = spec_of(optimizer, 0, 1);
    sync.trainer.sync = {};
    const TrainResult reference = train(data, sync, Context{.threads = 2});
    for (const auto& [workers, servers] : {std::pair{1, 1}, {2, 1}, {3, 2}, {2, 3}}) {
      const std::vector<TrainResult> out = test::train_on_ranks(data, spec_of(optimizer, 0, std::size_t(servers)), workers + servers);
      for (int r = 0; r < workers; ++r) {
        const TrainResult& w = out[std::size_t(r)];
        ASSERT_TRUE(w.mlp) << "worker " << r;
        EXPECT_EQ(w.mlp->parameters, reference.mlp->parameters)
            << optimizer << ", " << workers << " workers, " << servers << " servers, worker " << r;
        EXPECT_EQ(w.summary.final_validation_mse, reference.summary.final_validation_mse);
        EXPECT_EQ(w.summary.steps, reference.summary.steps);
        EXPECT_EQ(w.summary.staleness_max, 0u);
        EXPECT_EQ(w.summary.reproducibility, "the same bits as --sync sync: for any number of threads and workers");
      }
      for (int r = workers; r < workers + servers; ++r) {  // a server returns the run's termination, no model
        EXPECT_FALSE(out[std::size_t(r)].mlp);
        EXPECT_EQ(out[std::size_t(r)].summary.termination, Termination::kCompleted);
      }
    }
  }
}

TEST(TrainSsp, BoundedStalenessConvergesAndNeverRunsAheadOfTheBound) {
  const Dataset data = test::w3_data(8000);
  TrainSpec sync = spec_of("adam", 0, 1);
  sync.trainer.sync = {};
  sync.trainer.epochs = 4;
  const double reference = train(data, sync).summary.final_train_mse;
  // The MSE of the best constant, the mean: what a model that learned nothing reaches (about 0.99).
  const std::span<const double> y = data.column("y");
  double mean = 0, constant_mse = 0;
  for (double v : y) mean += v / double(y.size());
  for (double v : y) constant_mse += (v - mean) * (v - mean) / double(y.size());
  for (std::size_t staleness : {1, 4}) {
    TrainSpec spec = spec_of("adam", staleness, 1);
    spec.trainer.epochs = 4;
    spec.trainer.debug_slow_rank = 1;  // a straggler lets the others run ahead
    spec.trainer.debug_slow_factor = 2;
    const std::vector<TrainResult> out = test::train_on_ranks(data, spec, 5);  // 4 workers, 1 server
    for (std::size_t r = 0; r < 4; ++r) {
      const TrainSummary& s = out[r].summary;
      EXPECT_EQ(s.termination, Termination::kCompleted) << s.message;
      // The bound is also asserted inside every step (ssp_exchange.cpp throws past it).
      EXPECT_LE(s.staleness_max, staleness);
      EXPECT_LE(s.staleness_mean, double(staleness));
      // Every epoch ends with all clocks applied: the workers agree on the final weights.
      EXPECT_EQ(out[r].mlp->parameters, out[0].mlp->parameters);
      // Gradients up to S steps stale slow Adam down at the same number of steps: measured 1.05-1.07x
      // sync's loss at S = 1; at S = 4 timing decides more: 1.8-2.2x on an idle machine, 3.3x
      // (0.170 against 0.052) in a CI run on a loaded one. So S = 4 is held to learning most of
      // what there is to learn: under a quarter of the constant model's MSE.
      EXPECT_LT(s.final_train_mse, staleness == 1 ? 1.5 * reference : 0.25 * constant_mse)
          << "ssp:" << staleness << ", sync " << reference << ", the mean " << constant_mse;
    }
    EXPECT_EQ(out[0].summary.reproducibility,
              "none: workers compute on weights up to S steps stale, as timing has it (not reproducible)");
  }
}

TEST(TrainSsp, AServerCheckpointResumes) {
  // A checkpoint holds the servers' optimizer state (gathered on worker 0) at an epoch's end:
  // with S = 0 the resumed run is the uninterrupted one, bit for bit, on any layout.
  const Dataset data = test::w3_data(3000);
  const fs::path dir = fs::temp_directory_path() / ("parafit_ssp_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TrainSpec spec = spec_of("adam", 0, 2);
  spec.trainer.epochs = 3;
  TrainSpec sync = spec;
  sync.trainer.sync = {};
  const TrainResult whole = train(data, sync);
  TrainSpec first = spec;
  first.trainer.epochs = 1;
  first.checkpoint.path = (dir / "a.ckpt").string();
  test::train_on_ranks(data, first, 4);  // 2 workers, 2 servers
  TrainSpec rest = spec;
  rest.trainer.sync.servers = 1;
  rest.checkpoint.resume = first.checkpoint.path;
  EXPECT_EQ(test::train_on_ranks(data, rest, 4)[0].mlp->parameters, whole.mlp->parameters);  // 3 workers, 1 server
  sync.checkpoint.resume = first.checkpoint.path;  // and as a synchronous run
  EXPECT_EQ(train(data, sync).mlp->parameters, whole.mlp->parameters);
  fs::remove_all(dir);
}

TEST(TrainSsp, WrongSetUpsAreRefusedOnEveryRank) {
  const Dataset data = test::w3_data(1000);
  const auto refused = [&](const TrainSpec& spec, int ranks, const std::string& needle) {
    std::vector<std::string> messages(static_cast<std::size_t>(ranks));
    run_ranks(ranks, [&](Communicator& comm) {
      try {
        train(test::rows_of(data, 0, comm.rank() == 0 ? data.rows() : 0), spec, Context{.threads = 1, .communicator = &comm});
      } catch (const Error& e) {
        messages[std::size_t(comm.rank())] = e.what();
      }
    });
    for (const std::string& m : messages) EXPECT_NE(m.find(needle), std::string::npos) << m;
  };
  refused(spec_of("adam", 1, 1), 1, "needs more ranks than its 1 server(s)");
  refused(spec_of("adam", 1, 2), 2, "at least 3 ranks");
  TrainSpec bad_model = spec_of("adam", 0, 1);
  bad_model.model.y = "no_such_column";
  refused(bad_model, 3, "no_such_column");  // the workers' error reaches the server waiting for them
}

}  // namespace
}  // namespace parafit
