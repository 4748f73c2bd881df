// Robust fits (FitSpec::loss): against scipy.optimize.least_squares on data with 5% gross outliers
// (tests/data/robust: the reference values and the script that made them), the squared loss's bits
// untouched, Huber with a scale beyond every residual equal to least squares, the same bits on any
// thread count and SIMD target, and the sandwich covariance against its formula computed here.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parafit/fit.h"
#include "parafit/loss.h"
#include "parafit/table.h"
#include "simd/target.h"

namespace parafit {
namespace {

const std::string kDir = PARAFIT_ROBUST_DATA_DIR;

Dataset outliers() { return read_table(kDir + "/outliers.csv"); }

nlohmann::json reference() {
  std::ifstream in(kDir + "/reference.json");
  return nlohmann::json::parse(in);
}

FitSpec spec_for(const std::string& loss) {
  FitSpec spec;
  spec.model = "exp-decay";
  spec.start = {{"a", 4.0}, {"b", 0.5}, {"c", 1.5}};
  spec.loss = parse_loss(loss);
  return spec;
}

TEST(RobustFit, EveryLossMatchesScipyLeastSquares) {
  const Dataset data = outliers();
  const nlohmann::json ref = reference();
  const double delta = ref["delta"];
  ASSERT_EQ(data.rows(), 200u);
  for (const std::string name : {"squared", "huber", "soft-l1", "cauchy", "arctan", "tukey"}) {
    SCOPED_TRACE(name);
    const std::string loss = name == "squared" ? name : name + ":" + std::to_string(delta);
    const FitResult r = fit(data, spec_for(loss));
    ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.message;
    const nlohmann::json& want = ref["fits"][name];
    const char* names[] = {"a", "b", "c"};
    for (std::size_t j = 0; j < 3; ++j) {
      const double w = want[names[j]];
      EXPECT_NEAR(r.summary.parameters[j], w, 1e-6 * std::abs(w)) << names[j];
    }
    // The cost minimised: sum rho (scipy's cost is half of it, in the same units).
    const double cost = want["cost"];
    EXPECT_NEAR(r.statistics.loss_cost, cost, 1e-9 * cost);
    EXPECT_EQ(r.statistics.loss, loss == "squared" ? "squared" : parse_loss(loss).name());
  }
}

TEST(RobustFit, RobustLossesResistTheOutliers) {
  // The data's truth is a = 5, b = 0.4, c = 1: least squares misses it by several of the robust
  // fits' standard errors, every robust loss lands within three of them.
  const Dataset data = outliers();
  const FitResult ls = fit(data, spec_for("squared"));
  for (const std::string loss : {"huber:0.2", "soft-l1:0.2", "cauchy:0.2", "arctan:0.2", "tukey:0.2"}) {
    const FitResult r = fit(data, spec_for(loss));
    const double truth[] = {5.0, 0.4, 1.0};
    for (std::size_t j = 0; j < 3; ++j) {
      const double se = r.statistics.parameters[j].std_error;
      EXPECT_LT(std::abs(r.summary.parameters[j] - truth[j]), 3 * se) << loss << " parameter " << j;
    }
    EXPECT_GT(std::abs(ls.summary.parameters[1] - 0.4), 4 * r.statistics.parameters[1].std_error) << loss;
  }
}

TEST(RobustFit, HuberBeyondEveryResidualIsLeastSquares) {
  // With delta beyond every residual each row has rho = s and rho' = 1: the same normal equations
  // as least squares (the cost summed in another order), so the same fit to rounding.
  const Dataset data = outliers();
  const FitResult ls = fit(data, spec_for("squared")), hub = fit(data, spec_for("huber:1000"));
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(hub.summary.parameters[j], ls.summary.parameters[j], 1e-10);
  EXPECT_NEAR(hub.statistics.loss_cost, ls.statistics.rss, 1e-10 * ls.statistics.rss);
  EXPECT_NEAR(hub.statistics.rss, ls.statistics.rss, 1e-10 * ls.statistics.rss);
}

TEST(RobustFit, SameBitsOnAnyThreadCountAndSimdTarget) {
  const Dataset data = outliers();
  std::vector<FitResult> runs;
  for (const int threads : {1, 2, 7}) {
    Context ctx;
    ctx.threads = threads;
    ctx.chunk_rows = 16;  // several chunks, so that threads share the rows
    runs.push_back(fit(data, spec_for("cauchy:0.2"), ctx));
  }
  for (const simd::TargetInfo& target : simd::available_targets()) {
    const simd::ScopedTarget scoped(target);
    Context ctx;
    ctx.chunk_rows = 16;
    runs.push_back(fit(data, spec_for("cauchy:0.2"), ctx));
  }
  for (std::size_t t = 1; t < runs.size(); ++t) {
    EXPECT_EQ(0, std::memcmp(runs[0].summary.parameters.data(), runs[t].summary.parameters.data(), 3 * 8)) << t;
    EXPECT_EQ(0, std::memcmp(runs[0].statistics.covariance.data(), runs[t].statistics.covariance.data(), 9 * 8)) << t;
    EXPECT_EQ(runs[0].statistics.loss_cost, runs[t].statistics.loss_cost) << t;
  }
}

TEST(RobustFit, SandwichCovarianceFollowsItsFormula) {
  // A^-1 B A^-1 N/df with A = sum (rho' + 2 s rho'') J J^T and B = sum s rho'^2 J J^T at the
  // estimates, computed here row by row from the model's Jacobian (exp-decay: J = (e, -a x e, 1)).
  const Dataset data = outliers();
  for (const std::string loss : {"huber:0.2", "soft-l1:0.2", "tukey:0.2"}) {
    const FitResult r = fit(data, spec_for(loss));
    const Loss l = parse_loss(loss);
    const double a = r.summary.parameters[0], b = r.summary.parameters[1], c = r.summary.parameters[2];
    const auto x = data.column("x"), y = data.column("y");
    Eigen::Matrix3d A = Eigen::Matrix3d::Zero(), B = Eigen::Matrix3d::Zero();
    for (std::size_t i = 0; i < data.rows(); ++i) {
      const double e = std::exp(-b * x[i]);
      const Eigen::Vector3d J(e, -a * x[i] * e, 1.0);
      const double res = y[i] - (a * e + c), s = res * res;
      const LossValue v = evaluate_loss(l, s);
      A += (v.d1 + 2 * s * v.d2) * J * J.transpose();
      B += s * v.d1 * v.d1 * J * J.transpose();
    }
    const double n = double(data.rows());
    const Eigen::Matrix3d cov = A.inverse() * B * A.inverse() * (n / (n - 3));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        EXPECT_NEAR(r.statistics.covariance(i, j), cov(i, j), 1e-8 * std::sqrt(cov(i, i) * cov(j, j))) << loss;
    EXPECT_EQ(r.statistics.covariance_kind, "sandwich");
    EXPECT_TRUE(std::isnan(r.statistics.aic));
  }
}

TEST(RobustFit, WeightsEnterTheLossAsWRSquared) {
  // rho(w r^2): weights 4 on every row are residuals twice as large, the same as delta / 2 with
  // unit weights up to the factor 4 in the cost.
  Dataset data = outliers();
  data.add_column("w", std::vector<double>(data.rows(), 4.0));
  FitSpec weighted = spec_for("huber:0.2");
  weighted.weights = "w";
  const FitResult rw = fit(data, weighted), rh = fit(data, spec_for("huber:0.1"));
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(rw.summary.parameters[j], rh.summary.parameters[j], 1e-9);
  EXPECT_NEAR(rw.statistics.loss_cost, 4 * rh.statistics.loss_cost, 1e-9 * rw.statistics.loss_cost);
}

}  // namespace
}  // namespace parafit
