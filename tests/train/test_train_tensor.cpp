// Tensor parallelism (--tensor-parallel T, model/mlp_tensor.h): T = 2 and 3 train to T = 1's
// weights to rounding (1e-12 relative in float64, 1e-5 in float32, after 50+ steps); for a fixed T
// any number of data-parallel positions gives the same bits; checkpoints resume per slice; the
// options it cannot serve are refused on every rank alike.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "train_test_data.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;

TrainSpec tensor_spec(const std::string& model, Precision precision) {
  TrainSpec s;
  s.model.name = model;
  s.model.precision = precision;
  s.optimizer.name = "adam";
  s.optimizer.learning_rate = 3e-3;
  s.trainer.batch = 64;
  s.trainer.epochs = 2;  // 2000 rows x 0.9 / 64: 29 steps an epoch, 58 in all
  s.trainer.seed = 7;
  s.trainer.validation_fraction = 0.1;
  return s;
}

double max_relative(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    scale = std::max(scale, std::abs(b[i]));
    diff = std::max(diff, std::abs(a[i] - b[i]));
  }
  return diff / scale;
}

TEST(TrainTensor, SlicesTrainToTheWholeNetworksWeightsToRounding) {
  const Dataset data = test::w3_data(2000);
  // Even and odd layer counts (mlp:16,12 has 3 layers: the first stays whole), widths T does not
  // divide (12 and 7 by 5... and by 3 for 16 and 8), every activation.
  struct Case {
    std::string model;
    Activation act;
  };
  for (const Case& c : {Case{"mlp:16,12", Activation::kTanh}, Case{"mlp:16,8,7", Activation::kGelu},
                        Case{"mlp:10", Activation::kSigmoid}, Case{"mlp:9,9,9", Activation::kRelu}}) {
    for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
      TrainSpec spec = tensor_spec(c.model, precision);
      spec.model.activation = c.act;
      const TrainResult one = train(data, spec, Context{.threads = 1});
      const double tolerance = precision == Precision::kFloat64 ? 1e-12 : 1e-5;
      for (const int slices : {2, 3}) {
        spec.trainer.tensor_parallel = std::size_t(slices);
        const std::vector<TrainResult> out = test::train_on_ranks(data, spec, slices);
        for (const TrainResult& r : out) {
          ASSERT_TRUE(r.mlp);
          EXPECT_EQ(r.summary.steps, one.summary.steps);
          EXPECT_LT(max_relative(r.mlp->parameters, one.mlp->parameters), tolerance)
              << c.model << " " << to_string(precision) << " T=" << slices;
          EXPECT_NEAR(r.summary.final_validation_mse, one.summary.final_validation_mse,
                      tolerance * one.summary.final_validation_mse);
          // Every slice gathered the same whole network.
          EXPECT_EQ(r.mlp->parameters, out[0].mlp->parameters);
        }
        // Not the same bits: the split sums round differently (if they ever agreed, this test would
        // not be measuring the tolerance).
        if (c.model == "mlp:16,12") {
          EXPECT_NE(out[0].mlp->parameters, one.mlp->parameters);
        }
      }
    }
  }
}

TEST(TrainTensor, AnyNumberOfDataParallelPositionsGivesTheSameBits) {
  const Dataset data = test::w3_data(3000);
  for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
    TrainSpec spec = tensor_spec("mlp:16,12,8", precision);
    spec.trainer.accumulate = 2;
    spec.trainer.tensor_parallel = 2;
    const std::vector<TrainResult> d1 = test::train_on_ranks(data, spec, 2);     // 1 x 2
    const std::vector<TrainResult> d2 = test::train_on_ranks(data, spec, 4);     // 2 x 2
    const std::vector<TrainResult> d3 = test::train_on_ranks(data, spec, 6, 2);  // 3 x 2, 2 threads each
    for (const auto* out : {&d2, &d3})
      for (const TrainResult& r : *out) {
        EXPECT_EQ(r.mlp->parameters, d1[0].mlp->parameters) << to_string(precision);
        EXPECT_EQ(r.summary.final_train_mse, d1[0].summary.final_train_mse);
        EXPECT_EQ(r.summary.history.back().validation_loss, d1[0].summary.history.back().validation_loss);
      }
    // The optimizer state is sharded by ZeRO-1 across the data positions of each slice too.
    spec.trainer.shard_optimizer = TrainerOptions::ShardOptimizer::kOn;
    EXPECT_EQ(test::train_on_ranks(data, spec, 4)[3].mlp->parameters, d1[0].mlp->parameters);
  }
}

TEST(TrainTensor, EachSliceHoldsItsShareOfTheOptimizerState) {
  const Dataset data = test::w3_data(1000);
  TrainSpec spec = tensor_spec("mlp:32,32", Precision::kFloat64);  // 5-32-32-1: 1249 weights
  spec.trainer.epochs = 1;
  spec.trainer.tensor_parallel = 2;
  // Three layers: layer 0 stays whole (5 x 32 + 32 on each slice), layer 1 is split by columns
  // (32 x 16 + 16 each), layer 2 by rows (16 x 1 each, its bias on slice 0).
  const std::vector<TrainResult> out = test::train_on_ranks(data, spec, 2);
  const std::size_t whole0 = 5 * 32 + 32;
  const std::size_t slice0 = whole0 + (32 * 16 + 16) + (16 * 1 + 1), slice1 = whole0 + (32 * 16 + 16) + 16;
  EXPECT_EQ(out[0].summary.optimizer_state_values, 2 * slice0);  // Adam: two moments per weight
  EXPECT_EQ(out[1].summary.optimizer_state_values, 2 * slice1);
  EXPECT_EQ(slice0 + slice1 - whole0, out[0].mlp->parameters.size());
}

TEST(TrainTensor, CheckpointsResumePerSliceOnTheSameGrid) {
  const Dataset data = test::w3_data(1500);
  const fs::path dir = fs::temp_directory_path() / ("parafit-tensor-ckpt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TrainSpec spec = tensor_spec("mlp:12,10", Precision::kFloat64);
  spec.trainer.tensor_parallel = 2;
  spec.trainer.epochs = 3;
  spec.trainer.early_stop = 5;
  const std::vector<TrainResult> whole = test::train_on_ranks(data, spec, 2);
  TrainSpec first = spec;
  first.trainer.epochs = 2;
  first.checkpoint.path = (dir / "run.ckpt").string();
  test::train_on_ranks(data, first, 2);
  EXPECT_TRUE(fs::exists(dir / "run.ckpt.slice0of2"));
  EXPECT_TRUE(fs::exists(dir / "run.ckpt.slice1of2"));
  EXPECT_FALSE(fs::exists(dir / "run.ckpt"));
  TrainSpec resumed = spec;
  resumed.checkpoint.resume = first.checkpoint.path;
  const std::vector<TrainResult> out = test::train_on_ranks(data, resumed, 2);
  EXPECT_EQ(out[0].mlp->parameters, whole[0].mlp->parameters);
  EXPECT_EQ(out[0].summary.resumed_from_step, whole[0].summary.steps / 3 * 2);
  // Another grid cannot read a slice: the checkpoint says which grid it was written on.
  TrainSpec other = resumed;
  other.trainer.tensor_parallel = 1;
  other.checkpoint.resume = first.checkpoint.path + ".slice0of2";
  try {
    train(data, other);
    ADD_FAILURE() << "resumed a tensor-parallel checkpoint without --tensor-parallel";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor_parallel"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(TrainTensor, RefusesWhatItCannotServeOnEveryRankAlike) {
  const Dataset data = test::w3_data(500);
  const auto message_on_ranks = [&](const TrainSpec& spec, int ranks) {
    std::vector<std::string> messages(static_cast<std::size_t>(ranks));
    ThreadGroup group(ranks, std::chrono::milliseconds(20000));
    group.run([&](Communicator& comm) {
      Context ctx;
      ctx.threads = 1;
      ctx.communicator = &comm;
      try {
        train(test::rows_of(data, 0, comm.rank() == 0 ? data.rows() : 0), spec, ctx);
      } catch (const AgreedError& e) {
        messages[std::size_t(comm.rank())] = e.what();
      }
    });
    for (const auto& m : messages) EXPECT_EQ(m, messages[0]);
    return messages[0];
  };
  TrainSpec spec = tensor_spec("mlp:8,8", Precision::kFloat64);
  spec.trainer.tensor_parallel = 2;
  EXPECT_NE(message_on_ranks(spec, 3).find("does not divide the 3 rank(s)"), std::string::npos);
  spec.trainer.tensor_parallel = 9;
  EXPECT_NE(message_on_ranks(spec, 9).find("the narrowest layer it would split is 8 wide"), std::string::npos);
  // Refused by validate() before any rank starts.
  spec.trainer.tensor_parallel = 2;
  spec.trainer.sync = parse_sync("local:2");
  using test::refusal;
  EXPECT_NE(refusal(spec).find("needs `trainer.sync` sync"), std::string::npos) << refusal(spec);
  spec = tensor_spec("exp-decay", Precision::kFloat32);
  spec.trainer.tensor_parallel = 2;
  EXPECT_NE(refusal(spec).find("is not an MLP"), std::string::npos) << refusal(spec);
  spec = tensor_spec("mlp:8,8", Precision::kFloat64);
  spec.trainer.tensor_parallel = 0;
  EXPECT_NE(refusal(spec).find("must be at least 1"), std::string::npos) << refusal(spec);
  spec.trainer.tensor_parallel = 2;
  spec.optimizer.name = "lbfgs";
  EXPECT_NE(refusal(spec).find("not lbfgs"), std::string::npos) << refusal(spec);
}

}  // namespace
}  // namespace parafit
