// ZeRO-1 (parallel/strategies/zero1_exchange.cpp): the optimizer state sharded across ranks gives
// the same weights, bit for bit, as the replicated update on one process; each rank holds ~1/K of
// the state; checkpoints resume across sharded and replicated runs on other rank counts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/error.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "parafit/trainer.h"
#include "train_test_data.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;
using Shard = TrainerOptions::ShardOptimizer;

TrainSpec mlp_spec(const std::string& optimizer = "adam") {
  TrainSpec s;
  s.model.name = "mlp:16,8";  // 5 inputs: 241 weights
  s.optimizer.name = optimizer;
  s.optimizer.learning_rate = optimizer == "sgd" ? 0.05 : 3e-3;
  s.optimizer.sgd.momentum = 0.9;
  s.trainer.batch = 64;
  s.trainer.epochs = 2;
  s.trainer.seed = 5;
  s.trainer.validation_fraction = 0.1;
  s.trainer.shard_optimizer = Shard::kOn;
  return s;
}

TEST(TrainZero1, SameBitsAsTheReplicatedUpdateForAnyRanks) {
  const Dataset data = test::w3_data(3000);
  for (const std::string optimizer : {"adam", "adamw", "sgd"}) {
    for (const Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
      TrainSpec spec = mlp_spec(optimizer);
      spec.model.precision = precision;
      const TrainResult one = train(data, spec, Context{.threads = 2});  // one rank: nothing to shard
      EXPECT_FALSE(one.summary.sharded_optimizer);
      for (int ranks : {2, 3, 4}) {
        const std::vector<TrainResult> out = test::train_on_ranks(data, spec, ranks);
        for (const TrainResult& r : out) {
          EXPECT_TRUE(r.summary.sharded_optimizer);
          EXPECT_EQ(r.mlp->parameters, one.mlp->parameters) << optimizer << ", " << to_string(precision) << ", "
                                                            << ranks << " ranks";
          EXPECT_EQ(r.summary.history.back().validation_loss, one.summary.history.back().validation_loss);
          EXPECT_EQ(r.summary.final_train_mse, one.summary.final_train_mse);
        }
      }
    }
  }
  // Gradient accumulation too: batch 32 x 4 on 2 sharded ranks is batch 128 on one process.
  TrainSpec small = mlp_spec(), big = mlp_spec();
  small.trainer.batch = 32;
  small.trainer.accumulate = 4;
  big.trainer.batch = 128;
  EXPECT_EQ(test::train_on_ranks(data, small, 2)[1].mlp->parameters, train(data, big).mlp->parameters);
}

TEST(TrainZero1, EachRankHoldsItsShareOfTheOptimizerState) {
  const Dataset data = test::w3_data(2000);
  TrainSpec spec = mlp_spec();
  spec.trainer.epochs = 1;
  const std::size_t p = 241;
  // Replicated: every rank holds Adam's two moments of every weight.
  spec.trainer.shard_optimizer = Shard::kOff;
  for (const TrainResult& r : test::train_on_ranks(data, spec, 2)) {
    EXPECT_FALSE(r.summary.sharded_optimizer);
    EXPECT_EQ(r.summary.optimizer_state_values, 2 * p);
  }
  // Sharded over 3: rank r holds the moments of weights [p r / 3, p (r + 1) / 3).
  spec.trainer.shard_optimizer = Shard::kOn;
  const std::vector<TrainResult> out = test::train_on_ranks(data, spec, 3);
  std::size_t total = 0;
  for (std::size_t r = 0; r < out.size(); ++r) {
    EXPECT_EQ(out[r].summary.optimizer_state_values, 2 * (p * (r + 1) / 3 - p * r / 3)) << "rank " << r;
    total += out[r].summary.optimizer_state_values;
  }
  EXPECT_EQ(total, 2 * p);
  // Two collectives a step (reduce-scatter, all-gather) instead of one, plus the loss passes: the
  // epoch's validation, the final training and validation MSE.
  EXPECT_EQ(out[0].summary.collectives, 2 * out[0].summary.steps + 3);
}

TEST(TrainZero1, TheDefaultShardsLargeModelsOnSeveralRanks) {
  const Dataset data = test::w3_data(1500);
  TrainSpec spec = mlp_spec();
  spec.trainer.epochs = 1;
  spec.trainer.shard_optimizer = Shard::kAuto;
  EXPECT_FALSE(test::train_on_ranks(data, spec, 2)[0].summary.sharded_optimizer);  // 241 weights: replicated
  spec.model.name = "mlp:64,32";  // 2497 weights
  ASSERT_GE(std::size_t(5 * 64 + 64 + 64 * 32 + 32 + 32 + 1), TrainerOptions::kShardMinParameters);
  EXPECT_TRUE(test::train_on_ranks(data, spec, 2)[0].summary.sharded_optimizer);
  spec.trainer.shard_optimizer = Shard::kOff;
  EXPECT_FALSE(test::train_on_ranks(data, spec, 2)[0].summary.sharded_optimizer);
}

TEST(TrainZero1, CheckpointsResumeAcrossShardingAndRankCounts) {
  const Dataset data = test::w3_data(2000);
  const fs::path dir = fs::temp_directory_path() / ("parafit-zero1-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TrainSpec spec = mlp_spec();
  spec.trainer.epochs = 3;
  spec.trainer.shard_optimizer = Shard::kOff;
  const TrainResult whole = train(data, spec);

  // Sharded on 2 ranks, stopped at step 50 (the last checkpoint is from step 48)...
  TrainSpec cut = mlp_spec();
  cut.trainer.epochs = 3;
  cut.checkpoint.path = (dir / "run.ckpt").string();
  cut.checkpoint.every = 12;
  const auto stop_at_50 = [](const TrainProgress& p) { return p.epoch_end || p.global_step < 50; };
  const std::vector<TrainResult> first = test::train_on_ranks(data, cut, 2, 1, stop_at_50);
  ASSERT_EQ(first[0].summary.termination, Termination::kUserStopped);
  ASSERT_TRUE(first[0].summary.sharded_optimizer);
  // ... resumed replicated on one process, and sharded on 3 ranks: the uninterrupted weights.
  TrainSpec resume = mlp_spec();
  resume.trainer.epochs = 3;
  resume.checkpoint.resume = cut.checkpoint.path;
  resume.trainer.shard_optimizer = Shard::kOff;
  const TrainResult again = train(data, resume, Context{.threads = 2});
  EXPECT_EQ(again.summary.resumed_from_step, 48u);
  EXPECT_EQ(again.mlp->parameters, whole.mlp->parameters);
  resume.trainer.shard_optimizer = Shard::kOn;
  for (const TrainResult& r : test::train_on_ranks(data, resume, 3)) EXPECT_EQ(r.mlp->parameters, whole.mlp->parameters);

  // A replicated checkpoint resumed sharded.
  TrainSpec plain = cut;
  plain.trainer.shard_optimizer = Shard::kOff;
  plain.checkpoint.path = (dir / "plain.ckpt").string();
  train(data, plain, {}, stop_at_50);
  resume.checkpoint.resume = plain.checkpoint.path;
  for (const TrainResult& r : test::train_on_ranks(data, resume, 2)) EXPECT_EQ(r.mlp->parameters, whole.mlp->parameters);
  fs::remove_all(dir);
}

TEST(TrainZero1, DivergenceAndBadStartsAsWithoutSharding) {
  const Dataset data = test::w3_data(1500);
  TrainSpec spec = mlp_spec("sgd");
  spec.optimizer.learning_rate = 40;  // far past stability
  spec.trainer.shard_optimizer = Shard::kOff;
  const TrainResult plain = train(data, spec);
  ASSERT_EQ(plain.summary.termination, Termination::kDiverged);
  spec.trainer.shard_optimizer = Shard::kOn;
  for (const TrainResult& r : test::train_on_ranks(data, spec, 2)) {
    EXPECT_EQ(r.summary.termination, Termination::kDiverged);
    EXPECT_EQ(r.summary.message, plain.summary.message);
    EXPECT_EQ(r.mlp->parameters, plain.mlp->parameters);  // the last good weights
  }
  // A response that is not finite: every rank throws the same error at the first step.
  std::vector<double> y(data.column("y").begin(), data.column("y").end());
  y[700] = 1e308;
  y[701] = -1e308;
  Dataset with_bad;
  for (const auto& name : data.names())
    with_bad.add_column(name, name == "y" ? y : std::vector<double>(data.column(name).begin(), data.column(name).end()));
  try {
    test::train_on_ranks(with_bad, spec, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not finite"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace parafit
