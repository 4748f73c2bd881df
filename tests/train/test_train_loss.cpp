// Training with a robust loss (TrainSpec::loss): the gradient kernels against finite differences of
// the loss kernels, the losses reported in the response's units (an MLP trains on a standardised
// response), L-BFGS on a curve against scipy's least_squares minimiser (tests/data/robust), the
// determinism contract (threads, ranks, tensor slices, pipeline stages), and the checkpoint
// fingerprint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/loss.h"
#include "parafit/table.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "parallel/strata_engine.h"
#include "train/mlp_init.h"
#include "train/mlp_objective.h"
#include "train_test_data.h"

namespace parafit {
namespace {

const char* const kLosses[] = {"huber:0.3", "soft-l1:0.3", "cauchy:0.3", "arctan:0.3", "tukey:0.8"};

// w3_data with 5% of the responses thrown off by +-4.
Dataset w3_with_outliers(std::size_t rows) {
  Dataset d = test::w3_data(rows);
  std::vector<double> y(d.column("y").begin(), d.column("y").end());
  for (std::size_t i = 0; i < rows; i += 20) y[i] += (i / 20) % 2 == 0 ? 4.0 : -4.0;
  Dataset out;
  for (const std::string& name : d.names())
    if (name != "y") out.add_column(name, std::vector<double>(d.column(name).begin(), d.column(name).end()));
  out.add_column("y", std::move(y));
  return out;
}

TrainSpec mlp_spec(const std::string& loss) {
  TrainSpec s;
  s.model.name = "mlp:12,8";
  s.model.precision = Precision::kFloat64;
  s.optimizer.name = "adam";
  s.optimizer.learning_rate = 3e-3;
  s.trainer.batch = 64;
  s.trainer.epochs = 2;
  s.trainer.seed = 3;
  s.loss = parse_loss(loss);
  return s;
}

TEST(TrainLoss, MlpGradientMatchesFiniteDifferencesOfTheRobustLoss) {
  const Dataset data = w3_with_outliers(600);
  MlpModel m;
  m.inputs = {"x0", "x1", "x2", "x3", "x4"};
  m.response = "y";
  m.widths = {5, 6, 4, 1};
  m.precision = Precision::kFloat64;
  m.activation = Activation::kTanh;
  m.input_mean = {0.1, -0.2, 0, 0.3, 0};
  m.input_scale = {0.5, 0.6, 0.7, 0.8, 0.9};
  m.y_mean = 0.2;
  m.y_scale = 1.3;
  std::vector<double> theta = detail::init_mlp_weights(m.widths, m.activation, 3);
  for (std::size_t j = 0; j < theta.size(); ++j) theta[j] += 0.01 * double(int(j % 7) - 3);
  LocalCommunicator comm;
  const detail::StrataPlan plan = detail::plan_strata(data.rows(), 4);
  detail::StrataEngine engine(plan, detail::split_strata(plan, comm, 0, data.rows(), 1, 0.0), comm, 2, 64, 1);
  for (const char* name : kLosses) {
    SCOPED_TRACE(name);
    const Loss loss = parse_loss(name);
    const auto objective = detail::make_mlp_objective(m, data, 2, loss);
    const std::vector<double> g = engine.reduce(engine.fold_all(objective->gradient(), theta, false));
    const auto sum_of = [&](const detail::RowKernel& k, const std::vector<double>& at) {
      return engine.reduce(engine.fold_all(k, at, false))[0];
    };
    // The loss kernel sums rho(r^2) in the standardised units; times y_scale^2 it is the sum of
    // rho over the response's residuals, computed here from the model's own predictions.
    MlpModel at = m;
    at.parameters = theta;
    const std::vector<double> f = at.predict(data);
    const auto y = data.column("y");
    double rho = 0, sse = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      const double r = f[i] - y[i];
      rho += evaluate_loss(loss, r * r).rho;
      sse += r * r;
    }
    EXPECT_NEAR(sum_of(objective->loss(), theta) * objective->loss_scale(), rho, 1e-10 * rho);
    EXPECT_NEAR(sum_of(objective->squared_error(), theta) * objective->loss_scale(), sse, 1e-10 * sse);
    // The gradient kernel's value column is the loss kernel's sum.
    EXPECT_EQ(g.back(), sum_of(objective->loss(), theta));
    for (std::size_t j = 0; j < theta.size(); j += 3) {
      std::vector<double> plus = theta, minus = theta;
      const double h = 1e-6 * std::max(1.0, std::abs(theta[j]));
      plus[j] += h;
      minus[j] -= h;
      // The kernels give the gradient of half the loss, as for squared error.
      const double fd = (sum_of(objective->loss(), plus) - sum_of(objective->loss(), minus)) / (2 * h) / 2;
      EXPECT_NEAR(g[j], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "parameter " << j;
    }
  }
}

TEST(TrainLoss, ReportedLossesAreInTheResponsesUnits) {
  const Dataset data = w3_with_outliers(2000);
  const TrainResult r = train(data, mlp_spec("huber:0.3"));
  ASSERT_TRUE(r.mlp);
  const std::vector<double> f = r.mlp->predict(data);
  const auto y = data.column("y");
  const Loss loss = parse_loss("huber:0.3");
  double rho = 0, sse = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double e = f[i] - y[i];
    rho += evaluate_loss(loss, e * e).rho;
    sse += e * e;
  }
  const double n = double(f.size());
  EXPECT_NEAR(r.summary.final_train_loss, rho / n, 1e-9 * rho / n);
  EXPECT_NEAR(r.summary.final_train_mse, sse / n, 1e-9 * sse / n);
  // The outliers' squares dominate the MSE; Huber counts them linearly.
  EXPECT_LT(r.summary.final_train_loss, 0.5 * r.summary.final_train_mse);
}

TEST(TrainLoss, SquaredLossReportsItsMseAsItsLoss) {
  const Dataset data = w3_with_outliers(1000);
  TrainSpec spec = mlp_spec("squared");
  spec.trainer.validation_fraction = 0.2;
  const TrainResult r = train(data, spec);
  EXPECT_EQ(r.summary.final_train_loss, r.summary.final_train_mse);
  EXPECT_EQ(r.summary.final_validation_loss, r.summary.final_validation_mse);
}

TEST(TrainLoss, RobustTrainingResistsOutliers) {
  // Trained with least squares, the net chases the +-4 outliers; with Cauchy it fits the clean
  // function (noise sd 0.01), so its error on the rows without outliers is far smaller.
  const Dataset data = w3_with_outliers(20000);
  TrainSpec spec = mlp_spec("squared");
  spec.model.name = "mlp:32,32";
  spec.trainer.epochs = 8;
  spec.optimizer.schedule = parse_schedule("cosine");
  const auto clean_mse = [&](const TrainResult& r) {
    const std::vector<double> f = r.mlp->predict(data);
    const Dataset truth = test::w3_data(20000);
    const auto y = truth.column("y");
    double sse = 0;
    for (std::size_t i = 0; i < f.size(); ++i) sse += (f[i] - y[i]) * (f[i] - y[i]);
    return sse / double(f.size());
  };
  const double squared = clean_mse(train(data, spec));
  spec.loss = parse_loss("cauchy:0.1");
  const double cauchy = clean_mse(train(data, spec));
  EXPECT_LT(cauchy, 0.5 * squared) << "squared " << squared << ", cauchy " << cauchy;
}

TEST(TrainLoss, LbfgsOnACurveFindsScipysRobustMinimum) {
  // The same minimum as scipy.optimize.least_squares(loss=..., f_scale=0.2) (tests/data/robust):
  // L-BFGS on sum rho reaches it by another road than the fit's IRLS Levenberg-Marquardt.
  const std::string dir = PARAFIT_ROBUST_DATA_DIR;
  const Dataset data = read_table(dir + "/outliers.csv");
  std::ifstream in(dir + "/reference.json");
  const nlohmann::json ref = nlohmann::json::parse(in);
  for (const std::string name : {"huber", "soft-l1", "cauchy", "arctan", "tukey"}) {
    SCOPED_TRACE(name);
    TrainSpec spec;
    spec.model.name = "exp-decay";
    spec.model.start = {{"a", 4.0}, {"b", 0.5}, {"c", 1.5}};
    spec.optimizer.name = "lbfgs";
    spec.loss = parse_loss(name + ":0.2");
    const TrainResult r = train(data, spec);
    ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.message;
    const char* names[] = {"a", "b", "c"};
    for (std::size_t j = 0; j < 3; ++j) {
      const double want = ref["fits"][name][names[j]];
      EXPECT_NEAR(r.parameters[j], want, 2e-6 * std::abs(want)) << names[j];
    }
    // The reference's cost is the sum of rho (tests/data/robust/README.md).
    const double cost = ref["fits"][name]["cost"];
    EXPECT_NEAR(r.summary.final_train_loss * double(data.rows()), cost, 1e-9 * cost);
  }
}

TEST(TrainLoss, SameBitsForAnyThreadsRanksAndAccumulation) {
  const Dataset data = w3_with_outliers(3000);
  for (const Precision precision : {Precision::kFloat32, Precision::kFloat64}) {
    TrainSpec spec = mlp_spec("cauchy:0.3");
    spec.model.precision = precision;
    spec.trainer.validation_fraction = 0.2;
    const TrainResult base = train(data, spec, Context{.threads = 1});
    EXPECT_EQ(train(data, spec, Context{.threads = 2}).mlp->parameters, base.mlp->parameters);
    for (const TrainResult& r : test::train_on_ranks(data, spec, 3)) {
      EXPECT_EQ(r.mlp->parameters, base.mlp->parameters) << to_string(precision);
      EXPECT_EQ(r.summary.final_validation_loss, base.summary.final_validation_loss);
    }
    TrainSpec small = spec, big = spec;
    small.trainer.batch = 32;
    small.trainer.accumulate = 2;
    EXPECT_EQ(train(data, small).mlp->parameters, train(data, big).mlp->parameters) << to_string(precision);
  }
}

TEST(TrainLoss, PipelineStagesAndTensorSlicesKeepTheContract) {
  const Dataset data = w3_with_outliers(1200);
  for (const Precision precision : {Precision::kFloat64, Precision::kFloat32}) {
    TrainSpec spec = mlp_spec("huber:0.3");
    spec.model.name = "mlp:12,10,8";
    spec.model.precision = precision;
    spec.trainer.validation_fraction = 0.1;
    // Pipeline: the bits of the whole network with the micro-batches accumulated.
    TrainSpec whole = spec;
    whole.trainer.batch = 16;
    whole.trainer.accumulate = 2;
    const TrainResult one = train(data, whole, Context{.threads = 1});
    TrainSpec piped = spec;
    piped.trainer.batch = 32;
    piped.trainer.micro_batches = 2;
    piped.trainer.pipeline_stages = 2;
    for (const TrainResult& r : test::train_on_ranks(data, piped, 2)) {
      EXPECT_EQ(r.mlp->parameters, one.mlp->parameters) << to_string(precision);
      EXPECT_EQ(r.summary.final_validation_loss, one.summary.final_validation_loss);
      EXPECT_EQ(r.summary.final_train_mse, one.summary.final_train_mse);
    }
    // Tensor slices: the whole network's weights to rounding.
    const TrainResult unsplit = train(data, spec, Context{.threads = 1});
    TrainSpec sliced = spec;
    sliced.trainer.tensor_parallel = 2;
    const double tolerance = precision == Precision::kFloat64 ? 1e-12 : 1e-5;
    for (const TrainResult& r : test::train_on_ranks(data, sliced, 2)) {
      double scale = 0, diff = 0;
      for (std::size_t j = 0; j < r.mlp->parameters.size(); ++j) {
        scale = std::max(scale, std::abs(unsplit.mlp->parameters[j]));
        diff = std::max(diff, std::abs(r.mlp->parameters[j] - unsplit.mlp->parameters[j]));
      }
      EXPECT_LT(diff / scale, tolerance) << to_string(precision);
      EXPECT_NEAR(r.summary.final_validation_loss, unsplit.summary.final_validation_loss,
                  tolerance * unsplit.summary.final_validation_loss);
    }
  }
}

TEST(TrainLoss, CheckpointsResumeOnlyUnderTheirLoss) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("parafit_train_loss_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const Dataset data = w3_with_outliers(1000);
  TrainSpec spec = mlp_spec("huber:0.3");
  spec.checkpoint.path = (dir / "ck.json").string();
  const TrainResult whole = train(data, spec);
  // Resuming the finished run under its own loss continues it; under another it is refused.
  TrainSpec again = spec;
  again.checkpoint.path.clear();
  again.checkpoint.resume = spec.checkpoint.path;
  again.trainer.epochs = 3;
  EXPECT_NO_THROW(train(data, again));
  again.loss = parse_loss("huber:0.4");
  EXPECT_THROW(train(data, again), Error);
  again.loss = Loss{};
  EXPECT_THROW(train(data, again), Error);
  EXPECT_GT(whole.summary.steps, 0u);
  fs::remove_all(dir);
}

TEST(TrainLoss, RefusesABadScale) {
  TrainSpec spec = mlp_spec("squared");
  spec.loss.kind = LossKind::kHuber;
  spec.loss.delta = 0;
  EXPECT_NE(test::refusal(spec).find("loss"), std::string::npos) << test::refusal(spec);
  spec.loss.delta = std::nan("");
  EXPECT_NE(test::refusal(spec).find("finite number > 0"), std::string::npos) << test::refusal(spec);
}

}  // namespace
}  // namespace parafit
