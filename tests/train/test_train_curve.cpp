// train() on built-in and formula models: convergence to the least-squares answer (LM as the
// independent truth), bitwise reproducibility over threads, ranks and accumulation, divergence,
// early stopping and checkpoint/resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "parafit/trainer.h"
#include "train_test_data.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;

TrainSpec adam_spec() {
  TrainSpec s;
  s.model.name = "exp-decay";
  s.model.start = {{"a", 1.0}, {"b", 1.0}, {"c", 0.0}};
  s.optimizer.name = "adam";
  s.optimizer.learning_rate = 0.02;
  s.trainer.batch = 64;
  s.trainer.epochs = 3;
  s.trainer.seed = 3;
  return s;
}

// Trains on `data` split over `ranks` in-process ranks, `threads` threads each; returns rank 0's
// result (after checking every rank ended with the same weights).
TrainResult train_on_ranks(const Dataset& data, const TrainSpec& spec, int ranks, int threads) {
  std::vector<TrainResult> results(static_cast<std::size_t>(ranks));
  run_ranks(ranks, [&](Communicator& comm) {
    const std::size_t r = std::size_t(comm.rank()), k = std::size_t(ranks);
    // An uneven split, to be moved into strata by train().
    const std::size_t first = data.rows() * r / k + (r > 0 ? 7 : 0);
    const std::size_t last = r + 1 == k ? data.rows() : data.rows() * (r + 1) / k + 7;
    Context ctx;
    ctx.threads = threads;
    ctx.communicator = &comm;
    results[r] = train(test::rows_of(data, first, last), spec, ctx);
  });
  for (int r = 1; r < ranks; ++r) EXPECT_EQ(results[std::size_t(r)].parameters, results[0].parameters);
  return results[0];
}

TEST(TrainCurve, AdamReachesTheLeastSquaresEstimates) {
  const Dataset data = test::exp_decay_data(20000);
  FitSpec fs;
  fs.model = "exp-decay";
  const FitResult lm = fit(data, fs);
  TrainSpec spec = adam_spec();
  spec.trainer.epochs = 20;
  spec.trainer.batch = 256;
  spec.optimizer.schedule = parse_schedule("cosine");
  const TrainResult r = train(data, spec);
  ASSERT_EQ(r.summary.termination, Termination::kCompleted);
  ASSERT_EQ(r.parameters.size(), 3u);
  for (std::size_t j = 0; j < 3; ++j)
    EXPECT_NEAR(r.parameters[j], lm.statistics.parameters[j].estimate, 3 * lm.statistics.parameters[j].std_error)
        << r.parameter_names[j];
  // Training MSE within 0.5% of the least-squares minimum (sigma^2 = 0.0025).
  EXPECT_LT(r.summary.final_train_mse, 1.005 * lm.statistics.rss / 20000);
  EXPECT_GE(r.summary.final_train_mse, lm.statistics.rss / 20000 * (1 - 1e-12));
  EXPECT_EQ(r.summary.history.size(), 20u);
  EXPECT_EQ(r.summary.samples, 20u * 20000u);
}

TEST(TrainCurve, LbfgsConvergesToTheLevenbergMarquardtAnswer) {
  const Dataset data = test::exp_decay_data(5000);
  FitSpec fs;
  fs.model = "exp-decay";
  const FitResult lm = fit(data, fs);
  TrainSpec spec = adam_spec();
  spec.optimizer.name = "lbfgs";
  const TrainResult r = train(data, spec);
  ASSERT_EQ(r.summary.termination, Termination::kCompleted) << r.summary.FullReport();
  for (std::size_t j = 0; j < 3; ++j)
    EXPECT_NEAR(r.parameters[j], lm.statistics.parameters[j].estimate, 1e-6 * std::abs(lm.statistics.parameters[j].estimate));
  EXPECT_NEAR(r.summary.final_train_mse, lm.statistics.rss / 5000, 1e-12);
}

TEST(TrainCurve, SameWeightsForAnyThreadsAndRanks) {
  const Dataset data = test::exp_decay_data(3000);
  for (const std::string opt : {"adam", "sgd", "lbfgs"}) {
    TrainSpec spec = adam_spec();
    spec.optimizer.name = opt;
    if (opt == "sgd") {
      spec.optimizer.learning_rate = 0.05;
      spec.optimizer.sgd.momentum = 0.9;
      spec.optimizer.sgd.nesterov = true;
    }
    spec.trainer.validation_fraction = 0.1;
    const TrainResult base = train(data, spec, Context{.threads = 1});
    for (int threads : {2, 3, 7}) {
      const TrainResult r = train(data, spec, Context{.threads = threads});
      EXPECT_EQ(r.parameters, base.parameters) << opt << ", " << threads << " threads";
      EXPECT_EQ(r.summary.final_train_mse, base.summary.final_train_mse);
      EXPECT_EQ(r.summary.final_validation_mse, base.summary.final_validation_mse);
    }
    for (int ranks : {2, 3, 4}) {
      const TrainResult r = train_on_ranks(data, spec, ranks, 2);
      EXPECT_EQ(r.parameters, base.parameters) << opt << ", " << ranks << " ranks";
      EXPECT_EQ(r.summary.history.back().train_loss, base.summary.history.back().train_loss);
    }
  }
}

TEST(TrainCurve, AccumulationFollowsTheBigBatchTrajectoryWithOneAllReducePerStep) {
  const Dataset data = test::exp_decay_data(4000);
  TrainSpec big = adam_spec();
  big.trainer.batch = 256;
  TrainSpec small = big;
  small.trainer.batch = 64;
  small.trainer.accumulate = 4;
  const TrainResult a = train(data, big);
  const TrainResult b = train(data, small);
  EXPECT_EQ(a.parameters, b.parameters);
  EXPECT_EQ(a.summary.steps, b.summary.steps);
  EXPECT_EQ(a.summary.history.back().train_loss, b.summary.history.back().train_loss);
  // And not the same as batch 64 without accumulation (the test can tell trajectories apart).
  TrainSpec plain = small;
  plain.trainer.accumulate = 1;
  EXPECT_NE(train(data, plain).parameters, a.parameters);
  // Collectives: one per optimizer step (plus the epoch-end and final loss passes), none per micro-batch.
  // Every collective of the run, counted at the communicator: one per optimizer step, whatever K.
  std::vector<std::size_t> total(5, 0), steps(5, 0);
  for (const std::size_t accum : {1u, 4u}) {
    TrainSpec spec = small;
    spec.trainer.accumulate = accum;
    spec.trainer.epochs = 1;
    std::vector<TrainResult> out(2);
    std::vector<std::size_t> counted(2);
    run_ranks(2, [&](Communicator& comm) {
      Context ctx{.threads = 1, .communicator = &comm};
      const std::size_t half = data.rows() / 2;
      out[std::size_t(comm.rank())] =
          train(test::rows_of(data, comm.rank() == 0 ? 0 : half, comm.rank() == 0 ? half : data.rows()), spec, ctx);
      counted[std::size_t(comm.rank())] = comm.stats().collectives;
    });
    const std::size_t micro = (4000 / 8 + 64 / 8 - 1) / (64 / 8);  // 500 rows per stratum, 8 per micro-batch
    EXPECT_EQ(out[0].summary.steps, (micro + accum - 1) / accum);
    // The training passes: the steps and the final training-loss pass (no validation rows).
    EXPECT_EQ(out[0].summary.collectives, out[0].summary.steps + 1) << "accum " << accum;
    EXPECT_EQ(counted[0], counted[1]);
    total[accum] = counted[0];
    steps[accum] = out[0].summary.steps;
  }
  // Setting up (layout, counts, standardisation...) costs the same few collectives either way;
  // everything else is one per step: 63 micro-batches make 63 steps or 16, and 47 fewer collectives.
  EXPECT_EQ(total[1] - total[4], steps[1] - steps[4]);
  EXPECT_EQ(steps[1] - steps[4], 47u);
}

TEST(TrainCurve, DivergenceStopsWithTheLastGoodWeights) {
  const Dataset data = test::exp_decay_data(2000);
  TrainSpec spec = adam_spec();
  spec.optimizer.name = "sgd";
  spec.optimizer.learning_rate = 50;  // far past stability
  const TrainResult r = train(data, spec);
  EXPECT_EQ(r.summary.termination, Termination::kDiverged);
  EXPECT_FALSE(r.summary.IsSolutionUsable());
  EXPECT_NE(r.summary.message.find("diverged"), std::string::npos);
  for (double p : r.parameters) EXPECT_TRUE(std::isfinite(p));
  EXPECT_TRUE(std::isfinite(r.summary.final_train_mse));
}

TEST(TrainCurve, EarlyStoppingKeepsTheBestEpochsWeights) {
  const Dataset data = test::exp_decay_data(2000, 0.3);
  TrainSpec spec = adam_spec();
  spec.optimizer.learning_rate = 0.3;  // constant and large: the validation loss wanders near the optimum
  spec.trainer.epochs = 60;
  spec.trainer.validation_fraction = 0.3;
  spec.trainer.early_stop = 2;
  const TrainResult r = train(data, spec);
  ASSERT_EQ(r.summary.termination, Termination::kEarlyStopped) << r.summary.FullReport();
  const auto& h = r.summary.history;
  ASSERT_GE(h.size(), 3u);
  const std::size_t best = r.summary.best_epoch;
  ASSERT_GE(best, 1u);
  EXPECT_EQ(h.size(), best + 2);  // stopped after 2 epochs without improvement
  for (const auto& e : h) EXPECT_GE(e.validation_loss, h[best - 1].validation_loss);
  // The returned weights are the best epoch's: their validation loss is that epoch's, bit for bit.
  EXPECT_EQ(r.summary.final_validation_mse, h[best - 1].validation_loss);
}

TEST(TrainCurve, AValidationSplitThatHoldsOutNoRowIsAnError) {
  // Each row is held out with probability 0.2: with 4 rows, some seed holds out none. Validation
  // and early stopping were then skipped without a word ("0 validation rows").
  const Dataset data = test::exp_decay_data(4);
  TrainSpec spec = adam_spec();
  spec.trainer.validation_fraction = 0.2;
  spec.trainer.early_stop = 1;
  spec.trainer.epochs = 2;
  int refused = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    spec.trainer.seed = seed;
    try {
      const TrainResult r = train(data, spec);
      EXPECT_GT(r.summary.validation_rows, 0u) << "seed " << seed;
    } catch (const Error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("`trainer.validation_fraction` 0.2 held out none of the 4 rows"),
                std::string::npos) << e.what();
    }
  }
  EXPECT_GT(refused, 0);  // 0.8^4 = 41% of seeds hold out no row
}

TEST(TrainCurve, ResumeFromACheckpointGivesTheUninterruptedWeights) {
  const Dataset data = test::exp_decay_data(3000);
  const fs::path dir = fs::temp_directory_path() / ("parafit-ckpt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TrainSpec spec = adam_spec();
  spec.trainer.validation_fraction = 0.2;
  spec.optimizer.schedule = parse_schedule("cosine");
  const TrainResult whole = train(data, spec);

  TrainSpec first = spec;
  first.checkpoint.path = (dir / "run.ckpt").string();
  first.checkpoint.every = 7;
  // Driven step by step and "killed" at step 40: the last checkpoint is from step 35.
  Trainer trainer(data, first, Context{.threads = 2});
  trainer.Init();
  std::size_t steps = 0;
  while (trainer.running() && steps < 40) {
    while (steps < 40 && trainer.Step()) ++steps;
    if (steps < 40 && trainer.running()) trainer.EndEpoch();
  }
  EXPECT_EQ(trainer.progress().global_step, 40u);
  const TrainResult now = trainer.snapshot();  // the weights as they stand, mid-run
  EXPECT_EQ(now.summary.steps, 40u);
  trainer.Stop();
  const TrainResult cut = trainer.Finish();
  ASSERT_EQ(cut.summary.termination, Termination::kUserStopped);
  EXPECT_EQ(now.parameters, cut.parameters);
  EXPECT_NE(now.parameters, whole.parameters);
  ASSERT_TRUE(fs::exists(first.checkpoint.path));

  TrainSpec second = spec;
  second.checkpoint.resume = first.checkpoint.path;
  const TrainResult resumed = train(data, second, Context{.threads = 3});
  EXPECT_EQ(resumed.summary.resumed_from_step, 35u);
  EXPECT_EQ(resumed.parameters, whole.parameters);
  EXPECT_EQ(resumed.summary.history.size(), whole.summary.history.size());
  EXPECT_EQ(resumed.summary.history.back().validation_loss, whole.summary.history.back().validation_loss);
  // ... and on 3 ranks.
  EXPECT_EQ(train_on_ranks(data, second, 3, 1).parameters, whole.parameters);

  // A checkpoint from other settings is refused, naming the setting.
  TrainSpec other = second;
  other.optimizer.learning_rate = 0.01;
  try {
    train(data, other);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("learning_rate"), std::string::npos) << e.what();
  }
  // A damaged checkpoint is a clear error.
  { std::ofstream(dir / "bad.ckpt") << "{\"format\": \"parafit-checkpoint\", \"vers"; }
  other = spec;
  other.checkpoint.resume = (dir / "bad.ckpt").string();
  EXPECT_THROW(train(data, other), Error);
  fs::remove_all(dir);
}

TEST(TrainCurve, FormulaModelsTrainByTheirExactGradient) {
  const Dataset data = test::exp_decay_data(3000);
  TrainSpec spec = adam_spec();
  spec.model.name = "a*exp(-b*x)+c";
  const TrainResult formula = train(data, spec);
  const TrainResult builtin = train(data, adam_spec());
  ASSERT_EQ(formula.parameters.size(), 3u);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(formula.parameters[j], builtin.parameters[j], 1e-9);
  spec.model.start.pop_back();
  EXPECT_THROW(train(data, spec), Error);  // no start for c, and formulas have no self-start
}

TEST(TrainCurve, BadSpecsAreClearErrors) {
  const Dataset data = test::exp_decay_data(500);
  auto message = [&](const std::function<void(TrainSpec&)>& edit) {
    TrainSpec s = adam_spec();
    edit(s);
    try {
      train(data, s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // Library messages name the options by their place in TrainSpec (the command line shows flags).
  EXPECT_EQ(message([](TrainSpec& s) { s.optimizer.name = "adagrad"; }),
            "`optimizer.name`: unknown optimizer 'adagrad' (use sgd, adam, adamw or lbfgs)");
  EXPECT_EQ(message([](TrainSpec& s) { s.trainer.batch = 4; }),
            "`trainer.batch`: 4 is smaller than the 7 strata every batch draws from; use a larger batch or fewer strata "
            "(`context.strata`)");
  EXPECT_EQ(message([](TrainSpec& s) { s.trainer.early_stop = 3; }),
            "`trainer.early_stop` needs a validation split (`trainer.validation_fraction` > 0)");
  EXPECT_NE(message([](TrainSpec& s) { s.model.y = "z"; }).find("z"), std::string::npos);
  EXPECT_EQ(message([](TrainSpec& s) { s.trainer.validation_fraction = 1.0; }),
            "`trainer.validation_fraction`: must be in [0, 1), not 1");
  // The marks behind what(): a program renders each option its own way.
  try {
    validate([] {
      TrainSpec s = adam_spec();
      s.trainer.accumulate = 0;
      return s;
    }());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(render_options(e.marked(), [](std::string_view o) { return "<" + std::string(o) + ">"; }),
              "<trainer.accumulate>: must be at least 1");
  }
}

}  // namespace
}  // namespace parafit

namespace parafit {
namespace {

TEST(TrainCurve, ACallbackStopsTheRunOnlyWhileItRuns) {
  const Dataset data = test::exp_decay_data(2000);
  const TrainSpec spec = adam_spec();  // 3 epochs
  // false after step 10: the run stops there, as stopped by the callback, with that step's weights.
  const TrainResult cut = train(data, spec, {}, [](const TrainProgress& p) { return p.global_step < 10; });
  EXPECT_EQ(cut.summary.termination, Termination::kUserStopped);
  EXPECT_EQ(cut.summary.steps, 10u);
  EXPECT_FALSE(cut.summary.IsSolutionUsable());
  // false at the last epoch's end, when the run is over anyway: it stays completed.
  const TrainResult whole = train(data, spec);
  const TrainResult last = train(data, spec, {}, [](const TrainProgress& p) { return !(p.epoch_end && p.epoch == 3); });
  EXPECT_EQ(last.summary.termination, Termination::kCompleted);
  EXPECT_EQ(last.parameters, whole.parameters);
  // L-BFGS: every iteration is in the history, the one the callback stopped at included.
  TrainSpec lbfgs = spec;
  lbfgs.optimizer.name = "lbfgs";
  const TrainResult few = train(data, lbfgs, {}, [](const TrainProgress& p) { return p.global_step < 3; });
  EXPECT_EQ(few.summary.termination, Termination::kUserStopped);
  EXPECT_EQ(few.summary.history.size(), 3u);
  EXPECT_EQ(few.summary.steps, 3u);
}

}  // namespace
}  // namespace parafit
