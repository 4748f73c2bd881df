// Local SGD (parallel/strategies/local_sgd_exchange.cpp, --sync local:H): with H = 1 and plain SGD
// it is synchronous SGD up to rounding (1e-12 relative); it is the same bits for a fixed number of
// ranks whatever the threads; it converges near synchronous training; every rank holds the same
// weights after each average; failures and divergence stop every rank alike; usage errors name
// the option.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
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

TrainSpec mlp_spec(const std::string& optimizer, std::size_t period) {
  TrainSpec s;
  s.model.name = "mlp:16,8";  // 5 inputs: 241 weights
  s.model.precision = Precision::kFloat64;
  s.optimizer.name = optimizer;
  s.optimizer.learning_rate = optimizer == "sgd" ? 0.05 : 3e-3;
  s.trainer.batch = 64;
  s.trainer.epochs = 2;
  s.trainer.seed = 5;
  s.trainer.validation_fraction = 0.1;
  if (period > 0) {
    s.trainer.sync.mode = Mode::kLocalSgd;
    s.trainer.sync.local_period = period;
  }
  return s;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(a[i]), 1e-300));
  return worst;
}

TEST(TrainLocalSgd, PeriodOneWithPlainSgdIsSynchronousSgd) {
  const Dataset data = test::w3_data(3000);
  for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
    TrainSpec sync = mlp_spec("sgd", 0);
    sync.model.precision = precision;
    sync.optimizer.sgd.weight_decay = 1e-3;  // linear in the weights: still averages exactly
    TrainSpec local = sync;
    local.trainer.sync.mode = Mode::kLocalSgd;
    local.trainer.sync.local_period = 1;
    for (int ranks : {2, 3, 4}) {
      const std::vector<TrainResult> s = test::train_on_ranks(data, sync, ranks);
      const std::vector<TrainResult> l = test::train_on_ranks(data, local, ranks);
      for (std::size_t r = 0; r < l.size(); ++r) {
        EXPECT_LT(max_relative_difference(s[r].mlp->parameters, l[r].mlp->parameters), 1e-12)
            << ranks << " ranks, " << to_string(precision);
        EXPECT_NEAR(l[r].summary.final_train_mse, s[r].summary.final_train_mse,
                    1e-12 * s[r].summary.final_train_mse);
        EXPECT_EQ(l[r].mlp->parameters, l[0].mlp->parameters) << "rank " << r << " holds other weights";
        // Every step is an average; the epoch's loss is every rank's rows.
        EXPECT_EQ(l[r].summary.averages, l[r].summary.steps);
        EXPECT_EQ(l[r].summary.samples, s[r].summary.samples);
        EXPECT_NEAR(l[r].summary.history.back().train_loss, s[r].summary.history.back().train_loss,
                    1e-9 * s[r].summary.history.back().train_loss);
        EXPECT_EQ(l[r].summary.sync, "local:1");
      }
    }
  }
}

TEST(TrainLocalSgd, OneRankIsPlainTrainingBitForBit) {
  // One worker has nothing to average: local:H is the synchronous run, the same bits. (One process
  // with one thread: with more, each thread would be a worker.)
  const Dataset data = test::w3_data(2000);
  const TrainResult sync = train(data, mlp_spec("adam", 0), Context{.threads = 2});
  const TrainResult local = train(data, mlp_spec("adam", 8), Context{.threads = 1});
  EXPECT_EQ(local.mlp->parameters, sync.mlp->parameters);
}

TEST(TrainLocalSgd, SameBitsForAFixedRankCountWhateverTheThreads) {
  const Dataset data = test::w3_data(4000);
  for (bool moments : {false, true}) {
    TrainSpec spec = mlp_spec("adam", 4);
    spec.trainer.sync.average_moments = moments;
    const std::vector<TrainResult> one = test::train_on_ranks(data, spec, 3, 1);
    const std::vector<TrainResult> two = test::train_on_ranks(data, spec, 3, 2);
    for (std::size_t r = 0; r < 3; ++r) {
      EXPECT_EQ(one[r].mlp->parameters, one[0].mlp->parameters) << "rank " << r;
      EXPECT_EQ(two[r].mlp->parameters, one[0].mlp->parameters) << "rank " << r << ", 2 threads";
      EXPECT_EQ(two[r].summary.final_validation_mse, one[0].summary.final_validation_mse);
    }
    // Two epochs of ceil(steps / 4) averages each (the epoch's last step always averages).
    const std::size_t per_epoch = one[0].summary.steps / 2;
    EXPECT_EQ(one[0].summary.averages, 2 * ((per_epoch + 3) / 4));
    EXPECT_EQ(one[0].summary.reproducibility, "the same bits for the same number of workers (MPI ranks, or the threads of one process)");
  }
  // The moments flag changes the run (it is not ignored).
  TrainSpec with = mlp_spec("adam", 4), without = with;
  with.trainer.sync.average_moments = true;
  EXPECT_NE(test::train_on_ranks(data, with, 2)[0].mlp->parameters, test::train_on_ranks(data, without, 2)[0].mlp->parameters);
}

TEST(TrainLocalSgd, OnOneProcessEachThreadIsAWorker) {
  // train() without a communicator and with 3 threads runs 3 workers, the same bits as 3 ranks.
  const Dataset data = test::w3_data(3000);
  const TrainSpec spec = mlp_spec("adam", 4);
  const TrainResult threads = train(data, spec, Context{.threads = 3});
  EXPECT_EQ(threads.mlp->parameters, test::train_on_ranks(data, spec, 3)[0].mlp->parameters);
  EXPECT_GT(threads.summary.averages, 0u);
  EXPECT_NE(threads.mlp->parameters, train(data, spec, Context{.threads = 2}).mlp->parameters);
  // A stop asked for mid-epoch ends the run at that epoch's end, on every worker.
  std::size_t calls = 0;
  const TrainResult stopped = train(data, spec, Context{.threads = 3}, [&](const TrainProgress& p) {
    ++calls;
    return p.global_step < 5;
  });
  EXPECT_EQ(stopped.summary.termination, Termination::kUserStopped);
  EXPECT_EQ(stopped.summary.epochs, 1u);
  EXPECT_EQ(stopped.summary.steps, threads.summary.steps / 2);  // one of the two epochs
  EXPECT_GT(calls, stopped.summary.steps);  // called on worker 0 after each step and at the epoch's end
}

TEST(TrainLocalSgd, ConvergesNearSynchronousTraining) {
  // W3's shape on fewer rows, 4 workers, the same number of steps. With SGD the average of the
  // workers' steps is nearly sync's step: within 1.5x of its loss. With Adam each worker's step
  // is normalised by its own moments, so where the workers' gradients disagree their steps cancel
  // in the average and progress per step is slower: within 4x (measured here: about 2x).
  const Dataset data = test::w3_data(8000);
  for (const std::string optimizer : {"sgd", "adam"}) {
    TrainSpec sync = mlp_spec(optimizer, 0);
    sync.trainer.epochs = 6;
    const double reference = test::train_on_ranks(data, sync, 4)[0].summary.final_train_mse;
    const double factor = optimizer == "sgd" ? 1.5 : 4.0;
    for (std::size_t period : {4, 16}) {
      for (bool moments : {false, true}) {
        if (moments && optimizer == "sgd") continue;  // plain SGD has none
        TrainSpec local = sync;
        local.trainer.sync.mode = Mode::kLocalSgd;
        local.trainer.sync.local_period = period;
        local.trainer.sync.average_moments = moments;
        const TrainResult r = test::train_on_ranks(data, local, 4)[0];
        EXPECT_EQ(r.summary.termination, Termination::kCompleted);
        EXPECT_LT(r.summary.final_train_mse, factor * reference)
            << optimizer << " local:" << period << (moments ? " moments" : "") << ", sync " << reference;
      }
    }
  }
}

TEST(TrainLocalSgd, DivergenceBetweenAveragesStopsEveryRankAlike) {
  // A learning rate that blows the local steps up: the ranks find out at the next average, all at
  // once, and every rank ends diverged with the same finite weights (the last agreed ones).
  const Dataset data = test::w3_data(3000);
  TrainSpec spec = mlp_spec("sgd", 8);
  spec.optimizer.learning_rate = 1e3;
  const std::vector<TrainResult> out = test::train_on_ranks(data, spec, 2);
  for (const TrainResult& r : out) {
    EXPECT_EQ(r.summary.termination, Termination::kDiverged) << r.summary.message;
    EXPECT_EQ(r.mlp->parameters, out[0].mlp->parameters);
    for (double w : r.mlp->parameters) ASSERT_TRUE(std::isfinite(w));
  }
}

TEST(TrainLocalSgd, ACheckpointAtAnAverageResumesBitForBitWithPlainSgd) {
  // Plain SGD keeps no state, and a checkpoint is taken right after an average: resuming gives
  // the uninterrupted run's weights exactly (with Adam the ranks' own moments would be lost).
  const Dataset data = test::w3_data(3000);
  const fs::path dir = fs::temp_directory_path() / ("parafit_local_sgd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TrainSpec spec = mlp_spec("sgd", 4);
  spec.trainer.epochs = 3;
  const std::vector<TrainResult> whole = test::train_on_ranks(data, spec, 2);
  TrainSpec first = spec;
  first.trainer.epochs = 1;
  first.checkpoint.path = (dir / "a.ckpt").string();
  test::train_on_ranks(data, first, 2);
  TrainSpec rest = spec;
  rest.checkpoint.resume = first.checkpoint.path;
  const std::vector<TrainResult> resumed = test::train_on_ranks(data, rest, 2);
  EXPECT_EQ(resumed[0].mlp->parameters, whole[0].mlp->parameters);
  EXPECT_EQ(resumed[1].mlp->parameters, whole[0].mlp->parameters);
  fs::remove_all(dir);
}

TEST(TrainLocalSgd, AUserStopBetweenAveragesStillAgreesOnTheWeights) {
  const Dataset data = test::w3_data(3000);
  const std::vector<TrainResult> out =
      test::train_on_ranks(data, mlp_spec("adam", 16), 3, 1, [](const TrainProgress& p) { return p.global_step < 5; });
  for (const TrainResult& r : out) {
    EXPECT_EQ(r.summary.termination, Termination::kUserStopped);
    EXPECT_EQ(r.summary.steps, 5u);
    EXPECT_EQ(r.mlp->parameters, out[0].mlp->parameters);
  }
}

TEST(TrainLocalSgd, AStragglerChangesNoBits) {
  // --debug-slow-rank only sleeps: the weights are those of the run without it.
  const Dataset data = test::w3_data(1500);
  TrainSpec spec = mlp_spec("adam", 2);
  spec.trainer.epochs = 1;
  TrainSpec slow = spec;
  slow.trainer.debug_slow_rank = 1;
  slow.trainer.debug_slow_factor = 1.5;
  EXPECT_EQ(test::train_on_ranks(data, slow, 2)[0].mlp->parameters, test::train_on_ranks(data, spec, 2)[0].mlp->parameters);
  slow.trainer.debug_slow_rank = 2;  // 2 ranks: there is no rank 2
  EXPECT_THROW(
      {
        try {
          test::train_on_ranks(data, slow, 2);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("rank 2 does not exist"), std::string::npos) << e.what();
          throw;
        }
      },
      Error);
}

TEST(TrainLocalSgd, ParseAndValidate) {
  EXPECT_EQ(parse_sync("sync").mode, Mode::kSync);
  const TrainerOptions::Sync l = parse_sync("local:16");
  EXPECT_EQ(l.mode, Mode::kLocalSgd);
  EXPECT_EQ(l.local_period, 16u);
  EXPECT_EQ(to_string(l), "local:16");
  EXPECT_EQ(parse_sync("hogwild").mode, Mode::kHogwild);
  EXPECT_EQ(parse_sync("ssp:0").mode, Mode::kSsp);
  EXPECT_EQ(parse_sync("ssp:4").staleness, 4u);
  EXPECT_EQ(to_string(parse_sync("ssp:4")), "ssp:4");
  for (const char* bad : {"local:0", "local:", "local:x", "local:-1", "local:2.5", "Sync", "hog", "", "ssp:", "ssp:-1",
                          "ssp:x"}) {
    try {
      parse_sync(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kUsage) << bad;
      EXPECT_NE(std::string(e.what()).find("trainer.sync"), std::string::npos) << e.what();
    }
  }
  const auto refused = [](const TrainSpec& spec, const std::string& needle) {
    try {
      validate(spec);
      ADD_FAILURE() << "accepted; expected: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  TrainSpec moments_without_local = mlp_spec("adam", 0);
  moments_without_local.trainer.sync.average_moments = true;
  refused(moments_without_local, "is for local SGD");
  TrainSpec plain_sgd_moments = mlp_spec("sgd", 4);
  plain_sgd_moments.trainer.sync.average_moments = true;
  refused(plain_sgd_moments, "no moments to average");
  TrainSpec sharded = mlp_spec("adam", 4);
  sharded.trainer.shard_optimizer = TrainerOptions::ShardOptimizer::kOn;
  refused(sharded, "keeps one per rank");
  TrainSpec lbfgs = mlp_spec("lbfgs", 4);
  refused(lbfgs, "not lbfgs");
  TrainSpec factor = mlp_spec("adam", 0);
  factor.trainer.debug_slow_rank = 0;
  factor.trainer.debug_slow_factor = 0.5;
  refused(factor, "factor must be in [1, 1000]");
}

}  // namespace
}  // namespace parafit
