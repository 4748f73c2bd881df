// Pipeline parallelism (--pipeline-stages P --micro-batches M, train/mlp_pipeline_objective.cpp):
// P = 2, 3 (and 4) give the same bits as the whole network trained with --batch B/M --accum M, for
// both schedules, with and without recomputation, for M < P, M = P and M >> P; any number of
// data-parallel positions gives the same bits; tensor slices inside the stages agree to rounding;
// 1F1B holds fewer activations than GPipe; checkpoints resume per stage; refusals are everyone's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "model/mlp_stages.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "train_test_data.h"

namespace parafit {
namespace {

namespace fs = std::filesystem;
using Schedule = TrainerOptions::PipelineSchedule;

TrainSpec pipeline_spec(const std::string& model, Precision precision, std::size_t micro) {
  TrainSpec s;
  s.model.name = model;
  s.model.precision = precision;
  s.optimizer.name = "adam";
  s.optimizer.learning_rate = 3e-3;
  s.trainer.batch = 16 * micro;
  s.trainer.micro_batches = micro;
  s.trainer.epochs = 2;
  s.trainer.seed = 11;
  s.trainer.validation_fraction = 0.1;
  return s;
}

// The whole network on one process with the pipeline's micro-batches accumulated.
TrainResult unsplit(const Dataset& data, TrainSpec spec) {
  spec.trainer.accumulate *= spec.trainer.micro_batches;
  spec.trainer.batch /= spec.trainer.micro_batches;
  spec.trainer.micro_batches = 1;
  spec.trainer.pipeline_stages = 1;
  spec.trainer.recompute = false;
  return train(data, spec, Context{.threads = 1});
}

TEST(TrainPipeline, StagesGiveTheBitsOfTheWholeNetworkWithAccumulation) {
  const Dataset data = test::w3_data(1200);
  for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
    for (const std::size_t micro : {std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(8)}) {
      TrainSpec spec = pipeline_spec("mlp:12,10,8", precision, micro);  // 4 layers
      spec.model.activation = micro == 3 ? Activation::kGelu : Activation::kTanh;
      const TrainResult one = unsplit(data, spec);
      for (const std::size_t stages : {std::size_t(2), std::size_t(3), std::size_t(4)}) {
        for (const Schedule schedule : {Schedule::k1F1B, Schedule::kGpipe}) {
          for (const bool recompute : {false, true}) {
            if (stages == 4 && (recompute || schedule == Schedule::kGpipe)) continue;  // enough
            spec.trainer.pipeline_stages = stages;
            spec.trainer.pipeline_schedule = schedule;
            spec.trainer.recompute = recompute;
            const std::vector<TrainResult> out = test::train_on_ranks(data, spec, int(stages));
            for (const TrainResult& r : out) {
              ASSERT_TRUE(r.mlp);
              EXPECT_EQ(r.mlp->parameters, one.mlp->parameters)
                  << to_string(precision) << " M=" << micro << " P=" << stages
                  << (schedule == Schedule::kGpipe ? " gpipe" : " 1f1b") << (recompute ? " recompute" : "");
              EXPECT_EQ(r.summary.final_train_mse, one.summary.final_train_mse);
              EXPECT_EQ(r.summary.history.back().validation_loss, one.summary.history.back().validation_loss);
              EXPECT_EQ(r.summary.history.back().train_loss, one.summary.history.back().train_loss);
              EXPECT_EQ(r.summary.steps, one.summary.steps);
            }
          }
        }
      }
    }
  }
}

TEST(TrainPipeline, DataParallelPositionsAccumulationAndThreadsChangeNoBit) {
  const Dataset data = test::w3_data(2000);
  TrainSpec spec = pipeline_spec("mlp:16,12,8", Precision::kFloat32, 4);
  spec.trainer.pipeline_stages = 2;
  spec.trainer.accumulate = 2;  // two flushes of 4 per step
  const TrainResult one = unsplit(data, spec);
  for (const auto& [ranks, threads] : std::vector<std::pair<int, int>>{{2, 1}, {4, 1}, {6, 2}}) {
    for (const TrainResult& r : test::train_on_ranks(data, spec, ranks, threads))
      EXPECT_EQ(r.mlp->parameters, one.mlp->parameters) << ranks << " ranks";
  }
  spec.trainer.shard_optimizer = TrainerOptions::ShardOptimizer::kOn;
  EXPECT_EQ(test::train_on_ranks(data, spec, 4)[2].mlp->parameters, one.mlp->parameters);
}

TEST(TrainPipeline, TensorSlicesInsideStagesAgreeToRounding) {
  const Dataset data = test::w3_data(1500);
  TrainSpec spec = pipeline_spec("mlp:16,12,10", Precision::kFloat64, 4);
  const TrainResult one = unsplit(data, spec);
  spec.trainer.pipeline_stages = 2;
  spec.trainer.tensor_parallel = 2;
  const std::vector<TrainResult> out = test::train_on_ranks(data, spec, 4);
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < one.mlp->parameters.size(); ++i) {
    diff = std::max(diff, std::abs(out[0].mlp->parameters[i] - one.mlp->parameters[i]));
    scale = std::max(scale, std::abs(one.mlp->parameters[i]));
  }
  EXPECT_LT(diff, 1e-12 * scale);
  for (const TrainResult& r : out) EXPECT_EQ(r.mlp->parameters, out[0].mlp->parameters);
  // A second data position: the same bits as one at this grid.
  EXPECT_EQ(test::train_on_ranks(data, spec, 8)[5].mlp->parameters, out[0].mlp->parameters);
}

TEST(TrainPipeline, OneFOneBHoldsFewerActivationsThanGpipe) {
  const Dataset data = test::w3_data(3000);
  TrainSpec spec = pipeline_spec("mlp:64,64,64,64,64", Precision::kFloat32, 16);  // 3 layers a stage
  spec.trainer.epochs = 1;
  spec.trainer.pipeline_stages = 2;
  spec.trainer.pipeline_schedule = Schedule::kGpipe;
  const std::vector<TrainResult> gpipe = test::train_on_ranks(data, spec, 2);
  spec.trainer.pipeline_schedule = Schedule::k1F1B;
  const std::vector<TrainResult> f1b1 = test::train_on_ranks(data, spec, 2);
  spec.trainer.recompute = true;
  const std::vector<TrainResult> recomputed = test::train_on_ranks(data, spec, 2);
  // Stage 0 (rank 0): GPipe holds all 16 micro-batches, 1F1B at most 2 (P) of them.
  const double ratio = double(f1b1[0].summary.pipeline_peak_activation_bytes) /
                       double(gpipe[0].summary.pipeline_peak_activation_bytes);
  EXPECT_LE(ratio, 2.0 / 16.0 * 1.25) << f1b1[0].summary.pipeline_peak_activation_bytes << " vs "
                                      << gpipe[0].summary.pipeline_peak_activation_bytes;
  EXPECT_LT(recomputed[0].summary.pipeline_peak_activation_bytes, f1b1[0].summary.pipeline_peak_activation_bytes);
  EXPECT_EQ(recomputed[0].mlp->parameters, gpipe[0].mlp->parameters);
  EXPECT_FALSE(gpipe[0].summary.pipeline_plan.empty());
}

TEST(TrainPipeline, CheckpointsResumePerStage) {
  const Dataset data = test::w3_data(1500);
  const fs::path dir = fs::temp_directory_path() / ("parafit-pipeline-ckpt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TrainSpec spec = pipeline_spec("mlp:12,10", Precision::kFloat64, 2);
  spec.trainer.pipeline_stages = 3;
  spec.trainer.epochs = 3;
  spec.trainer.early_stop = 4;
  const std::vector<TrainResult> whole = test::train_on_ranks(data, spec, 3);
  TrainSpec first = spec;
  first.trainer.epochs = 2;
  first.checkpoint.path = (dir / "run.ckpt").string();
  test::train_on_ranks(data, first, 3);
  for (int p = 0; p < 3; ++p) EXPECT_TRUE(fs::exists(dir / ("run.ckpt.stage" + std::to_string(p) + "of3")));
  TrainSpec resumed = spec;
  resumed.checkpoint.resume = first.checkpoint.path;
  resumed.trainer.pipeline_schedule = Schedule::kGpipe;  // the schedule changes no bit
  EXPECT_EQ(test::train_on_ranks(data, resumed, 3)[0].mlp->parameters, whole[0].mlp->parameters);
  fs::remove_all(dir);
}

TEST(TrainPipeline, StagesAreBalancedByMultiplyAdds) {
  using detail::balance_stages;
  const detail::MlpShape w4{{16, 2048, 2048, 2048, 1}, detail::Activation::kTanh};
  EXPECT_EQ(balance_stages(w4, 2), (std::vector<std::size_t>{0, 2, 4}));
  EXPECT_EQ(balance_stages(w4, 4), (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  // Against every cut, for small shapes: the costliest stage is the least possible.
  const detail::MlpShape shape{{3, 40, 7, 30, 30, 5, 1}, detail::Activation::kTanh};
  const std::size_t layers = shape.num_layers();
  for (std::size_t stages = 1; stages <= layers; ++stages) {
    const std::vector<std::size_t> bounds = balance_stages(shape, stages);
    const auto worst = [&](const std::vector<std::size_t>& b) {
      std::size_t most = 0;
      for (std::size_t s = 0; s + 1 < b.size(); ++s) {
        std::size_t cost = 0;
        for (std::size_t l = b[s]; l < b[s + 1]; ++l) cost += detail::layer_cost(shape, l);
        most = std::max(most, cost);
      }
      return most;
    };
    std::size_t best = static_cast<std::size_t>(-1);
    // Every cut: a bit mask of the layer boundaries 1..layers-1 with stages - 1 bits set.
    for (unsigned mask = 0; mask < (1u << (layers - 1)); ++mask) {
      if (std::size_t(__builtin_popcount(mask)) != stages - 1) continue;
      std::vector<std::size_t> b = {0};
      for (std::size_t l = 1; l < layers; ++l)
        if (mask & (1u << (l - 1))) b.push_back(l);
      b.push_back(layers);
      best = std::min(best, worst(b));
    }
    EXPECT_EQ(worst(bounds), best) << stages << " stages";
    EXPECT_EQ(bounds.size(), stages + 1);
    for (std::size_t s = 0; s < stages; ++s) EXPECT_LT(bounds[s], bounds[s + 1]);
  }
  EXPECT_THROW(balance_stages(shape, layers + 1), std::invalid_argument);
}

TEST(TrainPipeline, RefusesWhatItCannotServe) {
  const Dataset data = test::w3_data(500);
  TrainSpec spec = pipeline_spec("mlp:8", Precision::kFloat64, 2);  // 2 layers
  spec.trainer.pipeline_stages = 3;
  std::vector<std::string> messages(3);
  ThreadGroup group(3, std::chrono::milliseconds(20000));
  group.run([&](Communicator& comm) {
    try {
      train(test::rows_of(data, 0, comm.rank() == 0 ? data.rows() : 0), spec,
            Context{.threads = 1, .communicator = &comm});
    } catch (const AgreedError& e) {
      messages[std::size_t(comm.rank())] = e.what();
    }
  });
  for (const auto& m : messages) EXPECT_NE(m.find("has only 2 layer(s) to cut into stages"), std::string::npos) << m;
  using test::refusal;
  TrainSpec bad = pipeline_spec("mlp:8", Precision::kFloat64, 3);
  bad.trainer.pipeline_stages = 2;
  bad.trainer.batch = 40;
  EXPECT_NE(refusal(bad).find("is not a multiple of"), std::string::npos) << refusal(bad);
  bad = pipeline_spec("mlp:8", Precision::kFloat64, 3);
  EXPECT_NE(refusal(bad).find("is for `trainer.pipeline_stages` P > 1"), std::string::npos) << refusal(bad);
  bad.trainer.micro_batches = 1;
  bad.trainer.recompute = true;
  EXPECT_NE(refusal(bad).find("`trainer.recompute` is for"), std::string::npos) << refusal(bad);
  bad = pipeline_spec("mlp:8", Precision::kFloat64, 2);
  bad.trainer.pipeline_stages = 2;
  bad.optimizer.name = "lbfgs";
  EXPECT_NE(refusal(bad).find("not lbfgs"), std::string::npos) << refusal(bad);
  bad = pipeline_spec("mlp:8", Precision::kFloat64, 2);
  bad.trainer.pipeline_stages = 2;
  bad.trainer.sync = parse_sync("local:2");
  EXPECT_NE(refusal(bad).find("needs `trainer.sync` sync"), std::string::npos) << refusal(bad);
}

}  // namespace
}  // namespace parafit
