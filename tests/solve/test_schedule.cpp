// Learning-rate schedules: factors at chosen steps against their closed forms, validation,
// descriptions, and the command-line form with its error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "parafit/error.h"
#include "parafit/optimizer.h"

namespace parafit {
namespace {

using Kind = LearningRateSchedule::Kind;

TEST(LearningRateSchedule, ConstantIsOneEverywhere) {
  const LearningRateSchedule s;
  EXPECT_EQ(s.kind, Kind::kConstant);
  for (const std::uint64_t step : {0ull, 1ull, 99ull, 123456789ull}) EXPECT_EQ(s.factor(step, 10, 100), 1.0);
  // steps_per_epoch and total_steps do not matter to it.
  EXPECT_EQ(s.factor(5, 0, 0), 1.0);
}

TEST(LearningRateSchedule, WarmUpRampsLinearlyFromOneOverWToOne) {
  LearningRateSchedule s;
  s.warmup_steps = 4;
  EXPECT_EQ(s.factor(0, 10, 100), 0.25);
  EXPECT_EQ(s.factor(1, 10, 100), 0.5);
  EXPECT_EQ(s.factor(2, 10, 100), 0.75);
  EXPECT_EQ(s.factor(3, 10, 100), 1.0);
  EXPECT_EQ(s.factor(4, 10, 100), 1.0);
  EXPECT_EQ(s.factor(1000, 10, 100), 1.0);
  s.warmup_steps = 1;  // a one-step warm-up is no warm-up
  EXPECT_EQ(s.factor(0, 10, 100), 1.0);
}

TEST(LearningRateSchedule, StepDecayMultipliesByGammaEveryEEpochs) {
  LearningRateSchedule s;
  s.kind = Kind::kStep;
  s.step_every_epochs = 3;
  s.gamma = 0.1;
  const std::uint64_t per_epoch = 10;
  // Epochs 0-2 (steps 0-29) at 1, epochs 3-5 at 0.1, epochs 6-8 at 0.01.
  EXPECT_EQ(s.factor(0, per_epoch, 1000), 1.0);
  EXPECT_EQ(s.factor(29, per_epoch, 1000), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(30, per_epoch, 1000), 0.1);
  EXPECT_DOUBLE_EQ(s.factor(59, per_epoch, 1000), 0.1);
  EXPECT_DOUBLE_EQ(s.factor(60, per_epoch, 1000), 0.01);
  EXPECT_DOUBLE_EQ(s.factor(95, per_epoch, 1000), 0.001);
  for (std::uint64_t step = 0; step < 200; step += 7)
    EXPECT_NEAR(s.factor(step, per_epoch, 1000), std::pow(0.1, double(step / 30)), 1e-15) << step;
  // Combined with warm-up: the ramp multiplies the decay.
  s.warmup_steps = 40;
  EXPECT_DOUBLE_EQ(s.factor(34, per_epoch, 1000), 35.0 / 40.0 * 0.1);
  EXPECT_THROW(s.factor(3, 0, 1000), Error);
}

TEST(LearningRateSchedule, CosineIsHalfWayDownAtHalfTheRun) {
  LearningRateSchedule s;
  s.kind = Kind::kCosine;
  const std::uint64_t total = 1000;
  EXPECT_EQ(s.factor(0, 7, total), 1.0);
  EXPECT_NEAR(s.factor(500, 7, total), 0.5, 1e-15);
  EXPECT_NEAR(s.factor(250, 7, total), (1 + std::sqrt(0.5)) / 2, 1e-15);
  EXPECT_NEAR(s.factor(750, 7, total), (1 - std::sqrt(0.5)) / 2, 1e-15);
  EXPECT_NEAR(s.factor(999, 7, total), (1 + std::cos(std::numbers::pi * 0.999)) / 2, 1e-15);
  EXPECT_EQ(s.factor(1000, 7, total), 0.0);
  EXPECT_EQ(s.factor(5000, 7, total), 0.0);  // past the end it stays at the floor
  // To a floor: min + (1 - min)(1 + cos(pi p))/2.
  s.min_factor = 0.1;
  EXPECT_NEAR(s.factor(500, 7, total), 0.55, 1e-15);
  EXPECT_NEAR(s.factor(1000, 7, total), 0.1, 1e-15);
  EXPECT_THROW(s.factor(1, 7, 0), Error);
}

TEST(LearningRateSchedule, CosineDecayStartsAfterTheWarmUp) {
  LearningRateSchedule s;
  s.kind = Kind::kCosine;
  s.warmup_steps = 100;
  const std::uint64_t total = 1100;
  EXPECT_EQ(s.factor(0, 50, total), 0.01);
  EXPECT_EQ(s.factor(49, 50, total), 0.5);
  EXPECT_EQ(s.factor(99, 50, total), 1.0);
  EXPECT_EQ(s.factor(100, 50, total), 1.0);
  EXPECT_NEAR(s.factor(600, 50, total), 0.5, 1e-15);
  EXPECT_NEAR(s.factor(350, 50, total), (1 + std::sqrt(0.5)) / 2, 1e-15);
  EXPECT_EQ(s.factor(1100, 50, total), 0.0);
  // A run that is all warm-up: the ramp only.
  EXPECT_EQ(s.factor(49, 50, 80), 0.5);
  EXPECT_EQ(s.factor(150, 50, 80), 1.0);
}

TEST(LearningRateSchedule, IsValidRejectsOutOfRangeFields) {
  std::string why;
  LearningRateSchedule s;
  EXPECT_TRUE(s.IsValid(&why));
  s.kind = Kind::kStep;
  s.step_every_epochs = 0;
  EXPECT_FALSE(s.IsValid(&why));
  EXPECT_NE(why.find("step_every_epochs"), std::string::npos) << why;
  s.step_every_epochs = 2;
  s.gamma = 0.0;
  EXPECT_FALSE(s.IsValid(&why));
  EXPECT_NE(why.find("gamma"), std::string::npos) << why;
  s.gamma = 1.5;
  EXPECT_FALSE(s.IsValid());
  s.gamma = NAN;
  EXPECT_FALSE(s.IsValid());
  EXPECT_THROW(s.factor(0, 1, 1), Error);
  s.gamma = 0.5;
  EXPECT_TRUE(s.IsValid());
  s.kind = Kind::kCosine;
  s.min_factor = -0.1;
  EXPECT_FALSE(s.IsValid(&why));
  EXPECT_NE(why.find("min_factor"), std::string::npos) << why;
  s.min_factor = 1.01;
  EXPECT_FALSE(s.IsValid());
}

TEST(LearningRateSchedule, DescribeSaysWhatItDoes) {
  LearningRateSchedule s;
  EXPECT_EQ(s.describe(), "constant");
  s.warmup_steps = 1;
  EXPECT_EQ(s.describe(), "constant, 1 warm-up step");
  s = parse_schedule("step:30:0.1");
  EXPECT_EQ(s.describe(), "step: x0.1 every 30 epochs");
  s = parse_schedule("cosine");
  s.warmup_steps = 100;
  EXPECT_EQ(s.describe(3907), "cosine to 0 over 3907 steps, 100 warm-up steps");
  s = parse_schedule("cosine:0.01");
  EXPECT_EQ(s.describe(), "cosine to 0.01 over the run");
}

TEST(LearningRateSchedule, ParsesTheCommandLineForms) {
  LearningRateSchedule s = parse_schedule("constant");
  EXPECT_EQ(s.kind, Kind::kConstant);
  s = parse_schedule("step:2:0.5");
  EXPECT_EQ(s.kind, Kind::kStep);
  EXPECT_EQ(s.step_every_epochs, 2u);
  EXPECT_EQ(s.gamma, 0.5);
  s = parse_schedule("cosine");
  EXPECT_EQ(s.kind, Kind::kCosine);
  EXPECT_EQ(s.min_factor, 0.0);
  s = parse_schedule("cosine:1e-2");
  EXPECT_EQ(s.min_factor, 0.01);
  EXPECT_EQ(s.warmup_steps, 0u);
}

void expect_parse_error(const std::string& text, const std::string& needle) {
  try {
    parse_schedule(text);
    ADD_FAILURE() << "'" << text << "' parsed";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("invalid learning-rate schedule '" + text + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_NE(what.find("accepted forms: constant, step:E:G"), std::string::npos) << what;
    EXPECT_NE(what.find("cosine:MIN"), std::string::npos) << what;
  }
}

TEST(LearningRateSchedule, ParseErrorsNameTheBadTokenAndTheAcceptedForms) {
  expect_parse_error("cosin", "unknown schedule 'cosin'");
  expect_parse_error("", "unknown schedule ''");
  expect_parse_error("Constant", "unknown schedule 'Constant'");
  expect_parse_error("constant:1", "'constant' takes no values");
  expect_parse_error("step", "'step' takes two values");
  expect_parse_error("step:3", "'step' takes two values");
  expect_parse_error("step:3:0.1:2", "'step' takes two values");
  expect_parse_error("step:0:0.1", "the epoch count '0' is not a whole number >= 1");
  expect_parse_error("step:1.5:0.1", "the epoch count '1.5'");
  expect_parse_error("step:-2:0.1", "the epoch count '-2'");
  expect_parse_error("step:3:", "the factor '' is not a number in (0, 1]");
  expect_parse_error("step:3:1.5", "the factor '1.5' is not a number in (0, 1]");
  expect_parse_error("step:3:0.1x", "the factor '0.1x'");
  expect_parse_error("step:3:nan", "the factor 'nan'");
  expect_parse_error("cosine:2", "the final factor '2' is not a number in [0, 1]");
  expect_parse_error("cosine:abc", "the final factor 'abc'");
  expect_parse_error("cosine:", "the final factor ''");
  expect_parse_error("cosine:0.1:2", "'cosine' takes at most one value");
}

}  // namespace
}  // namespace parafit
