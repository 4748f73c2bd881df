#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/levenberg_marquardt.h"
#include "support/synthetic.h"

namespace parafit {
namespace {

// 20,000 rows of y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2), x ~ U[0, 5].
const testing::Synthetic& decay_data() {
  static const auto s = testing::make_synthetic(*make_builtin_model("exp-decay"), {2.5, 1.3, 0.5},
                                                20000, 0.0, 5.0, 0.05);
  return s;
}

FitResult fit_exp_decay(const FitSpec& extra, int threads = 2) {
  const auto& s = decay_data();
  FitSpec spec = extra;
  spec.model = "exp-decay";
  Context ctx;
  ctx.threads = threads;
  return fit(testing::to_dataset(s), spec, ctx);
}

TEST(LevenbergMarquardt, RecoversExpDecayFromAPoorStart) {
  FitSpec spec;
  spec.start = {{"a", 1}, {"b", 1}, {"c", 0}};
  const FitResult r = fit_exp_decay(spec);
  ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  const auto& p = r.statistics.parameters;
  // Within 5 standard errors of the truth.
  EXPECT_NEAR(p[0].estimate, 2.5, 5 * p[0].std_error);
  EXPECT_NEAR(p[1].estimate, 1.3, 5 * p[1].std_error);
  EXPECT_NEAR(p[2].estimate, 0.5, 5 * p[2].std_error);
  EXPECT_LT(r.statistics.sigma, 0.052);
  EXPECT_GT(r.statistics.sigma, 0.048);
  // The RSS history never increases: only decreasing steps are accepted.
  for (std::size_t i = 1; i < r.summary.rss_history.size(); ++i)
    EXPECT_LE(r.summary.rss_history[i], r.summary.rss_history[i - 1]);
  EXPECT_LT(r.summary.iterations, 30);
}

TEST(LevenbergMarquardt, TheTraceSaysWhatEachIterationDid) {
  // on_iteration: once per iteration, the cost of the RSS history, the accepted steps counted,
  // the parameters of the point kept (the last one the estimates), and a gradient that falls.
  std::vector<LmIteration> seen;
  std::vector<std::vector<std::string>> names;  // copied during the call: the span is valid only then
  FitSpec spec;
  spec.start = {{"a", 1}, {"b", 1}, {"c", 0}};
  spec.solver.on_iteration = [&](const LmIteration& it) {
    seen.push_back(it);
    names.emplace_back(it.names.begin(), it.names.end());
  };
  const FitResult r = fit_exp_decay(spec);
  ASSERT_TRUE(r.summary.IsSolutionUsable());
  ASSERT_EQ(int(seen.size()), r.summary.iterations);
  int accepted = 0;
  for (std::size_t k = 0; k < seen.size(); ++k) {
    EXPECT_EQ(seen[k].iteration, int(k) + 1);
    EXPECT_EQ(seen[k].run, 1);
    // (An iteration stopped by the parameter tolerance takes no step and adds no RSS to the history.)
    const auto& history = r.summary.rss_history;
    EXPECT_EQ(seen[k].cost, k + 1 < history.size() ? history[k + 1] : history.back());
    EXPECT_GT(seen[k].lambda, 0.0);
    accepted += seen[k].accepted;
    ASSERT_EQ(names[k].size(), 3u);
    EXPECT_EQ(names[k][1], "b");
  }
  EXPECT_EQ(accepted, r.summary.accepted_iterations);
  EXPECT_EQ(seen.back().parameters, r.summary.parameters);
  EXPECT_LT(seen.back().gradient_norm, 1e-6 * seen.front().gradient_norm);
}

TEST(LevenbergMarquardt, SelfStartNeedsNoStartValues) {
  const FitResult r = fit_exp_decay(FitSpec{});
  ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  EXPECT_TRUE(r.self_started[0] && r.self_started[1] && r.self_started[2]);
  EXPECT_NEAR(r.statistics.parameters[1].estimate, 1.3, 0.01);
}

TEST(LevenbergMarquardt, GradientAtTheSolutionIsOrthogonalToTheJacobian) {
  const FitResult r = fit_exp_decay(FitSpec{});
  // Check stationarity independently with central finite differences of the RSS.
  const auto model = make_builtin_model("exp-decay");
  const auto& s = decay_data();
  auto rss = [&](std::vector<double> th) {
    std::vector<double> f(s.x.size());
    const double* in[] = {s.x.data()};
    model->evaluate(th.data(), RowBlock{s.x.size(), in}, f.data(), nullptr, 0);
    long double acc = 0;
    for (std::size_t i = 0; i < f.size(); ++i) acc += (long double)(s.y[i] - f[i]) * (s.y[i] - f[i]);
    return double(acc);
  };
  const std::vector<double> th = r.summary.parameters;
  for (std::size_t j = 0; j < 3; ++j) {
    const double h = 1e-4 * r.statistics.parameters[j].std_error;
    auto up = th, dn = th;
    up[j] += h;
    dn[j] -= h;
    // Moving by 1e-4 standard errors changes the RSS by about (1e-4)^2 * sigma^2: the first-order
    // term must be small against that scale.
    const double slope = (rss(up) - rss(dn)) / (2 * h);
    EXPECT_LT(std::abs(slope * h), 1e-6 * r.statistics.sigma * r.statistics.sigma) << j;
  }
}

TEST(LevenbergMarquardt, FixedParameterIsHeldAndHasNoStandardError) {
  FitSpec spec;
  spec.fix = {{"b", 1.25}};
  const FitResult r = fit_exp_decay(spec);
  ASSERT_TRUE(r.summary.IsSolutionUsable());
  EXPECT_EQ(r.summary.parameters[1], 1.25);
  EXPECT_TRUE(r.statistics.parameters[1].fixed);
  EXPECT_TRUE(std::isnan(r.statistics.parameters[1].std_error));
  EXPECT_FALSE(std::isnan(r.statistics.parameters[0].std_error));
  EXPECT_EQ(r.statistics.df, 20000.0 - 2.0);
}

TEST(LevenbergMarquardt, BoundsAreRespectedAndActiveBoundIsReported) {
  FitSpec spec;
  spec.bounds = {{"b", ParameterBounds{0.0, 1.0}}};
  spec.start = {{"a", 1}, {"b", 0.5}, {"c", 0}};
  const FitResult r = fit_exp_decay(spec);
  ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  EXPECT_EQ(r.summary.parameters[1], 1.0);
  EXPECT_TRUE(r.statistics.parameters[1].at_bound);
  EXPECT_TRUE(std::isnan(r.statistics.parameters[1].std_error));
  // The other parameters are the best fit with b held at 1: compare with fixing b = 1.
  FitSpec fixed;
  fixed.fix = {{"b", 1.0}};
  const FitResult rf = fit_exp_decay(fixed);
  EXPECT_NEAR(r.summary.parameters[0], rf.summary.parameters[0], 1e-7);
  EXPECT_NEAR(r.summary.parameters[2], rf.summary.parameters[2], 1e-7);
}

TEST(LevenbergMarquardt, InactiveBoundsChangeNothing) {
  FitSpec spec;
  spec.bounds = {{"a", ParameterBounds{0.0, 10.0}}};
  const FitResult bounded = fit_exp_decay(spec);
  const FitResult free = fit_exp_decay(FitSpec{});
  for (std::size_t j = 0; j < 3; ++j)
    EXPECT_NEAR(bounded.summary.parameters[j], free.summary.parameters[j], 1e-9);
  EXPECT_FALSE(bounded.statistics.parameters[0].at_bound);
}

TEST(LevenbergMarquardt, NonConvergenceIsReportedNotHidden) {
  FitSpec spec;
  spec.start = {{"a", 1}, {"b", 1}, {"c", 0}};
  spec.solver.max_iterations = 2;
  const FitResult r = fit_exp_decay(spec);
  EXPECT_FALSE(r.summary.IsSolutionUsable());
  EXPECT_EQ(r.summary.termination, Termination::kMaxIterations);
  EXPECT_EQ(r.summary.iterations, 2);
  EXPECT_NE(r.summary.message.find("maximum"), std::string::npos);
  EXPECT_EQ(r.summary.parameters.size(), 3u);
}

TEST(LevenbergMarquardt, BitwiseIdenticalForAnyThreadCount) {
  const FitResult one = fit_exp_decay(FitSpec{}, 1);
  for (int t : {2, 3, 7}) {
    const FitResult many = fit_exp_decay(FitSpec{}, t);
    EXPECT_EQ(one.summary.iterations, many.summary.iterations);
    EXPECT_EQ(one.summary.final_rss, many.summary.final_rss);
    for (std::size_t j = 0; j < 3; ++j) {
      EXPECT_EQ(one.summary.parameters[j], many.summary.parameters[j]);
      EXPECT_EQ(one.statistics.parameters[j].std_error, many.statistics.parameters[j].std_error);
    }
  }
}

TEST(LevenbergMarquardt, NonFiniteStartIsAClearFailure) {
  const auto model = make_builtin_model("log");
  testing::Synthetic s;
  s.x = {1, 2, 3, -1, 5};
  s.y = {0, 0.7, 1.1, 1.3, 1.6};
  FitSpec spec;
  spec.model = "log";
  spec.start = {{"a", 0}, {"b", 1}};
  const FitResult r = fit(testing::to_dataset(s), spec, Context{});
  EXPECT_EQ(r.summary.termination, Termination::kNonFiniteStart);
  EXPECT_NE(r.summary.message.find("data row 4"), std::string::npos) << r.summary.message;
}

TEST(LevenbergMarquardtOptions, IsValidNamesTheBadOption) {
  LevenbergMarquardtOptions o;
  std::string why;
  EXPECT_TRUE(o.IsValid(&why));
  o.max_iterations = 0;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("max_iterations"), std::string::npos);
  o = {};
  o.gradient_tolerance = -1;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("gradient_tolerance"), std::string::npos);
}

TEST(Fit, UserErrorsNameTheParameter) {
  FitSpec spec;
  spec.start = {{"zz", 1}};
  EXPECT_THROW(
      {
        try {
          fit_exp_decay(spec);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("no parameter 'zz'; its parameters are: a, b, c"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      Error);
  FitSpec both;
  both.start = {{"a", 1}};
  both.fix = {{"a", 2}};
  EXPECT_THROW(fit_exp_decay(both), Error);
  FitSpec outside;
  outside.start = {{"a", 20}, {"b", 1}, {"c", 0}};
  outside.bounds = {{"a", ParameterBounds{0, 10}}};
  EXPECT_THROW(fit_exp_decay(outside), Error);
}

TEST(Fit, FewerRowsThanParametersIsAnError) {
  testing::Synthetic s;
  s.x = {1, 2};
  s.y = {1, 2};
  FitSpec spec;
  spec.model = "exp-decay";
  spec.start = {{"a", 1}, {"b", 1}, {"c", 0}};
  try {
    fit(testing::to_dataset(s), spec, Context{});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fewer than the 3 free parameters"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace parafit

namespace parafit {
namespace {

// NIST's BoxBOD, y = b1 (1 - exp(-b2 x)), with its analytic Jacobian. From NIST's first start
// (1, 1) the first steps throw b2 so far that exp(-b2 x) vanishes: a plateau where b2 has no
// influence and LM's tolerances are met without a minimum.
class BoxBod final : public Model {
 public:
  std::string name() const override { return "boxbod"; }
  std::string formula() const override { return "b1*(1-exp(-b2*x))"; }
  const std::vector<std::string>& parameter_names() const override { return names_; }
  void evaluate(const double* t, const RowBlock& block, double* f, double* J, std::size_t ldj) const override {
    for (std::size_t i = 0; i < block.size; ++i) {
      const double x = block.inputs[0][i], e = std::exp(-t[1] * x);
      f[i] = t[0] * (1 - e);
      if (J) {
        J[i] = 1 - e;
        J[ldj + i] = t[0] * x * e;
      }
    }
  }
  std::vector<double> initial_values(std::span<const std::span<const double>>, std::span<const double>) const override {
    return {1, 1};
  }

 private:
  std::vector<std::string> names_{"b1", "b2"};
};

TEST(LevenbergMarquardt, DetectsAPlateauAndRestartsAsAnAnalystWould) {
  const std::vector<double> x = {1, 2, 3, 5, 7, 10}, y = {109, 149, 149, 191, 213, 224};
  BoxBod model;
  Problem problem;
  problem.model = &model;
  problem.inputs = {x};
  problem.y = y;
  const std::vector<double> start = {1, 1};

  LevenbergMarquardtOptions no_restart;
  no_restart.restart_on_failure = false;
  const auto stalled = LevenbergMarquardt(problem, no_restart).Minimize(start);
  EXPECT_EQ(stalled.termination, Termination::kFlatRegion) << stalled.FullReport();
  EXPECT_FALSE(stalled.IsSolutionUsable());
  EXPECT_NE(stalled.message.find("parameter 'b2' has lost its influence"), std::string::npos) << stalled.message;

  const auto solved = LevenbergMarquardt(problem).Minimize(start);
  ASSERT_TRUE(solved.IsSolutionUsable()) << solved.FullReport();
  EXPECT_GE(solved.attempts.size(), 2u);
  // NIST's certified values.
  EXPECT_NEAR(solved.parameters[0], 2.1380940889E+02, 1e-6 * 2.1380940889E+02);
  EXPECT_NEAR(solved.parameters[1], 5.4723748542E-01, 1e-6 * 5.4723748542E-01);
  EXPECT_NEAR(solved.final_rss, 1.1680088766E+03, 1e-8 * 1.1680088766E+03);
}

}  // namespace
}  // namespace parafit
