// Global fits against the same problem solved densely (one LM over all unknowns, a model that
// reads each row's group), and bits across thread counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "parafit/global_fit.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/model.h"
#include "parafit/statistics.h"
#include "parafit/thread_communicator.h"

namespace parafit {
namespace {

// The global problem as one ordinary model: inputs (x, group), parameters [shared..., group 0's
// local..., group 1's local...], each row evaluated by the base model with its group's values.
class Stacked final : public Model {
 public:
  Stacked(const Model& base, std::vector<std::size_t> shared, std::size_t groups,
          std::vector<std::pair<std::size_t, double>> fixed = {})
      : base_(base), shared_(std::move(shared)), fixed_(std::move(fixed)) {
    for (std::size_t j = 0; j < base.num_parameters(); ++j)
      if (std::find(shared_.begin(), shared_.end(), j) == shared_.end() &&
          std::none_of(fixed_.begin(), fixed_.end(), [j](const auto& f) { return f.first == j; }))
        local_.push_back(j);
    for (std::size_t j : shared_) names_.push_back(base.parameter_names()[j]);
    for (std::size_t g = 0; g < groups; ++g)
      for (std::size_t j : local_) names_.push_back(base.parameter_names()[j] + std::to_string(g));
  }
  std::string name() const override { return "stacked"; }
  std::string formula() const override { return "stacked"; }
  const std::vector<std::string>& parameter_names() const override { return names_; }
  std::size_t num_inputs() const override { return 2; }
  void evaluate(const double* theta, const RowBlock& block, double* f, double* J, std::size_t ldj) const override {
    const std::size_t p = base_.num_parameters(), k = shared_.size(), m = local_.size();
    if (J != nullptr)
      for (std::size_t j = 0; j < names_.size(); ++j)
        for (std::size_t i = 0; i < block.size; ++i) J[j * ldj + i] = 0;
    std::vector<double> params(p), jac(p);
    for (std::size_t i = 0; i < block.size; ++i) {
      const auto g = std::size_t(block.inputs[1][i]);
      for (const auto& [j, value] : fixed_) params[j] = value;
      for (std::size_t a = 0; a < k; ++a) params[shared_[a]] = theta[a];
      for (std::size_t b = 0; b < m; ++b) params[local_[b]] = theta[k + g * m + b];
      const double* in[] = {block.inputs[0] + i};
      base_.evaluate(params.data(), RowBlock{1, in}, f + i, J != nullptr ? jac.data() : nullptr, 1);
      if (J == nullptr) continue;
      for (std::size_t a = 0; a < k; ++a) J[a * ldj + i] = jac[shared_[a]];
      for (std::size_t b = 0; b < m; ++b) J[(k + g * m + b) * ldj + i] = jac[local_[b]];
    }
  }
  std::vector<double> initial_values(std::span<const std::span<const double>>, std::span<const double>) const override {
    return {};
  }

 private:
  const Model& base_;
  std::vector<std::size_t> shared_, local_;
  std::vector<std::pair<std::size_t, double>> fixed_;
  std::vector<std::string> names_;
};

// Exponential decays a_g exp(-b x) + c_g: b shared, the amplitude and offset per group.
BatchData decays(std::size_t groups, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> amp(2, 6), off(-1, 1), ux(0, 6);
  std::normal_distribution<double> noise(0, 0.05);
  BatchData d;
  d.inputs.resize(1);
  for (std::size_t g = 0; g < groups; ++g) {
    const double a = amp(rng), c = off(rng);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = ux(rng);
      d.inputs[0].push_back(x);
      d.y.push_back(a * std::exp(-0.7 * x) + c + noise(rng));
    }
    d.offsets.push_back(d.y.size());
  }
  return d;
}

// The dense solution: one LM over all unknowns of the stacked model, started at `start`, with its
// statistics (standard errors, covariance).
struct Dense {
  LevenbergMarquardtSummary summary;
  FitStatistics statistics;
};
Dense dense_fit(const Model& model, const BatchData& d, const std::vector<std::size_t>& shared,
                const std::vector<double>& start, const std::vector<std::pair<std::size_t, double>>& fixed = {},
                const std::vector<ParameterBounds>& bounds = {}) {
  const std::size_t G = d.fits();
  const Stacked stacked(model, shared, G, fixed);
  std::vector<double> group(d.y.size());
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t i = d.offsets[g]; i < d.offsets[g + 1]; ++i) group[i] = double(g);
  Problem problem;
  problem.model = &stacked;
  problem.inputs = {d.inputs[0], group};
  problem.y = d.y;
  problem.weights = d.weights;
  problem.bounds = bounds;
  LevenbergMarquardtOptions o;
  o.function_tolerance = 0;  // as the global fit in these tests: both stop on the gradient
  Context one;
  one.threads = 1;
  LevenbergMarquardt lm(problem, o, one);
  Dense out;
  out.summary = lm.Minimize(start);
  if (out.summary.IsSolutionUsable()) out.statistics = compute_statistics(problem, out.summary, one);
  return out;
}

TEST(GlobalFit, EqualsTheDenseFitOfAllUnknowns) {
  const auto model = make_builtin_model("exp-decay");  // a, b, c
  const std::size_t G = 5, n = 40;
  const BatchData d = decays(G, n, 3);
  GlobalFitSpec spec;
  spec.shared = {1};
  spec.solver.function_tolerance = 0;  // both solvers stop on the gradient, at the same minimum
  const GlobalFitResult r = fit_global(*model, d, spec);
  ASSERT_TRUE(r.converged()) << r.message;
  EXPECT_NEAR(r.shared_estimates[0], 0.7, 0.05);

  std::vector<double> start = {r.shared_estimates[0] * 1.1};
  for (double v : r.local_estimates) start.push_back(v * 0.9);
  const Dense dn = dense_fit(*model, d, spec.shared, start);
  const LevenbergMarquardtSummary& dense = dn.summary;
  ASSERT_TRUE(dense.IsSolutionUsable()) << dense.message;
  const FitStatistics& st = dn.statistics;
  const auto close = [](double a, double b, double tol) { return std::abs(a - b) <= tol * std::max(1.0, std::abs(b)); };
  EXPECT_TRUE(close(r.shared_estimates[0], dense.parameters[0], 1e-9)) << r.shared_estimates[0] << " " << dense.parameters[0];
  EXPECT_TRUE(close(r.shared_std_errors[0], st.parameters[0].std_error, 1e-9))
      << r.shared_std_errors[0] << " " << st.parameters[0].std_error;
  for (std::size_t j = 0; j < r.local_estimates.size(); ++j) {
    EXPECT_TRUE(close(r.local_estimates[j], dense.parameters[1 + j], 1e-9)) << j;
    EXPECT_TRUE(close(r.local_std_errors[j], st.parameters[1 + j].std_error, 1e-9))
        << j << ": " << r.local_std_errors[j] << " " << st.parameters[1 + j].std_error;
  }
  EXPECT_NEAR(r.rss, st.rss, 1e-12 * st.rss);
  EXPECT_EQ(r.df, st.df);
  EXPECT_NEAR(r.shared_covariance(0, 0), st.covariance(0, 0), 1e-9 * st.covariance(0, 0));
  // fit's statistics of the same fit: R², AIC, BIC, the log-likelihood.
  EXPECT_NEAR(r.tss, st.tss, 1e-12 * st.tss);
  EXPECT_NEAR(r.r_squared, st.r_squared, 1e-12);
  EXPECT_NEAR(r.adj_r_squared, st.adj_r_squared, 1e-12);
  EXPECT_NEAR(r.log_likelihood, st.log_likelihood, 1e-9 * std::abs(st.log_likelihood));
  EXPECT_NEAR(r.aic, st.aic, 1e-9 * std::abs(st.aic));
  EXPECT_NEAR(r.bic, st.bic, 1e-9 * std::abs(st.bic));
}

TEST(GlobalFit, AFixedParameterIsHeldInEveryGroup) {
  const auto model = make_builtin_model("exp-decay");  // a, b, c
  const std::size_t G = 4, n = 40;
  const BatchData d = decays(G, n, 11);
  GlobalFitSpec spec;
  spec.shared = {1};
  spec.fix = {{2, 0.25}};  // c held at 0.25 in every group: a per group, b shared
  spec.solver.function_tolerance = 0;
  const GlobalFitResult r = fit_global(*model, d, spec);
  ASSERT_TRUE(r.converged()) << r.message;
  EXPECT_EQ(r.local, (std::vector<std::size_t>{0}));
  ASSERT_EQ(r.local_estimates.size(), G);
  EXPECT_EQ(r.df, double(G * n) - 1.0 - double(G));

  std::vector<double> start = {r.shared_estimates[0] * 1.1};
  for (double v : r.local_estimates) start.push_back(v * 0.9);
  const Dense dn = dense_fit(*model, d, spec.shared, start, spec.fix);
  ASSERT_TRUE(dn.summary.IsSolutionUsable()) << dn.summary.message;
  const auto close = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); };
  EXPECT_TRUE(close(r.shared_estimates[0], dn.summary.parameters[0]));
  EXPECT_TRUE(close(r.shared_std_errors[0], dn.statistics.parameters[0].std_error));
  for (std::size_t g = 0; g < G; ++g) {
    EXPECT_TRUE(close(r.local_estimates[g], dn.summary.parameters[1 + g])) << g;
    EXPECT_TRUE(close(r.local_std_errors[g], dn.statistics.parameters[1 + g].std_error)) << g;
  }
  EXPECT_NEAR(r.rss, dn.statistics.rss, 1e-12 * dn.statistics.rss);
  // Holding c changes the fit: the free-c fit reaches a lower RSS.
  GlobalFitSpec free_c = spec;
  free_c.fix.clear();
  EXPECT_LT(fit_global(*model, d, free_c).rss, r.rss);
}

TEST(GlobalFit, BoundsAsFitHasThem) {
  // b (shared) bounded below its unconstrained value, and c (per group) bounded at 0 where some
  // groups' offsets are negative: those end on their bounds, without standard errors.
  const auto model = make_builtin_model("exp-decay");  // a, b, c
  const std::size_t G = 6, n = 40;
  const BatchData d = decays(G, n, 5);
  GlobalFitSpec spec;
  spec.shared = {1};
  spec.bounds = {{}, {0.1, 0.65}, {0.0, 10.0}};
  spec.solver.function_tolerance = 0;
  const GlobalFitResult r = fit_global(*model, d, spec);
  ASSERT_TRUE(r.converged()) << r.message;
  EXPECT_EQ(r.shared_estimates[0], 0.65);
  EXPECT_TRUE(r.shared_at_bound[0]);
  EXPECT_TRUE(std::isnan(r.shared_std_errors[0]));
  std::size_t held = 0;
  for (std::size_t g = 0; g < G; ++g) {
    EXPECT_GE(r.local_estimates[g * 2 + 1], 0.0);
    if (r.local_at_bound[g * 2 + 1]) {
      ++held;
      EXPECT_EQ(r.local_estimates[g * 2 + 1], 0.0);
      EXPECT_TRUE(std::isnan(r.local_std_errors[g * 2 + 1]));
    }
  }
  EXPECT_GE(held, 1u);
  EXPECT_EQ(r.df, double(G * n) - (1.0 + 2.0 * G) + 1.0 + double(held));

  // The dense fit with the same boxes: the stacked model's parameters [b, a0, c0, a1, c1, ...].
  std::vector<ParameterBounds> boxes = {spec.bounds[1]};
  std::vector<double> start = {0.6};
  for (std::size_t g = 0; g < G; ++g) {
    boxes.push_back(spec.bounds[0]);
    boxes.push_back(spec.bounds[2]);
    start.push_back(r.local_estimates[g * 2] * 0.9);
    start.push_back(0.5);
  }
  const Dense dn = dense_fit(*model, d, spec.shared, start, {}, boxes);
  ASSERT_TRUE(dn.summary.IsSolutionUsable()) << dn.summary.message;
  const auto close = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); };
  EXPECT_TRUE(close(r.shared_estimates[0], dn.summary.parameters[0]));
  for (std::size_t j = 0; j < r.local_estimates.size(); ++j) {
    EXPECT_TRUE(close(r.local_estimates[j], dn.summary.parameters[1 + j])) << j;
    const double se = dn.statistics.parameters[1 + j].std_error;
    if (std::isnan(se)) EXPECT_TRUE(std::isnan(r.local_std_errors[j])) << j;
    else EXPECT_TRUE(close(r.local_std_errors[j], se)) << j << ": " << r.local_std_errors[j] << " " << se;
  }
  EXPECT_EQ(r.df, dn.statistics.df);
  EXPECT_NEAR(r.aic, dn.statistics.aic, 1e-9 * std::abs(dn.statistics.aic));
}

TEST(GlobalFit, TwoSharedParametersAndWeights) {
  const auto model = make_builtin_model("gauss");  // a, mu, s, c: mu and s shared
  std::mt19937_64 rng(8);
  std::normal_distribution<double> noise(0, 0.02);
  std::uniform_real_distribution<double> uw(0.5, 2.0);
  BatchData d;
  d.inputs.resize(1);
  const std::size_t G = 4, n = 35;
  for (std::size_t g = 0; g < G; ++g) {
    const double a = 1.0 + 0.5 * double(g), c = 0.1 * double(g);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = -3.0 + 6.0 * double(i) / double(n - 1), z = (x - 0.3) / 0.9;
      d.inputs[0].push_back(x);
      d.y.push_back(a * std::exp(-0.5 * z * z) + c + noise(rng));
      d.weights.push_back(uw(rng));
    }
    d.offsets.push_back(d.y.size());
  }
  GlobalFitSpec spec;
  spec.shared = {1, 2};
  spec.solver.function_tolerance = 0;
  const GlobalFitResult r = fit_global(*model, d, spec);
  ASSERT_TRUE(r.converged()) << r.message;
  std::vector<double> start(r.shared_estimates);
  for (double v : r.local_estimates) start.push_back(v * 1.05);
  start[0] *= 1.02;
  const Dense dn = dense_fit(*model, d, spec.shared, start);
  const LevenbergMarquardtSummary& dense = dn.summary;
  ASSERT_TRUE(dense.IsSolutionUsable());
  const FitStatistics& st = dn.statistics;
  for (std::size_t a = 0; a < 2; ++a) {
    EXPECT_NEAR(r.shared_estimates[a], dense.parameters[a], 1e-9 * std::abs(dense.parameters[a]));
    EXPECT_NEAR(r.shared_std_errors[a], st.parameters[a].std_error, 1e-9 * st.parameters[a].std_error);
  }
  for (std::size_t j = 0; j < r.local_estimates.size(); ++j) {
    EXPECT_NEAR(r.local_estimates[j], dense.parameters[2 + j], 1e-9 * std::max(1.0, std::abs(dense.parameters[2 + j])));
    EXPECT_NEAR(r.local_std_errors[j], st.parameters[2 + j].std_error, 1e-9 * st.parameters[2 + j].std_error);
  }
  EXPECT_NEAR(r.shared_covariance(0, 1), st.covariance(0, 1), 1e-9 * std::abs(st.covariance(0, 1)) + 1e-18);
  // Weighted: TSS about the weighted mean, the log-likelihood with the weights' log-sum.
  EXPECT_NEAR(r.tss, st.tss, 1e-12 * st.tss);
  EXPECT_NEAR(r.r_squared, st.r_squared, 1e-12);
  EXPECT_NEAR(r.log_likelihood, st.log_likelihood, 1e-9 * std::abs(st.log_likelihood));
  EXPECT_NEAR(r.aic, st.aic, 1e-9 * std::abs(st.aic));
}

TEST(GlobalFit, BitsDoNotDependOnThreads) {
  const auto model = make_builtin_model("exp-decay");
  const BatchData d = decays(300, 20, 4);
  GlobalFitSpec spec;
  spec.shared = {1};
  std::vector<GlobalFitResult> runs;
  for (const int threads : {1, 2, 7}) {
    Context ctx;
    ctx.threads = threads;
    runs.push_back(fit_global(*model, d, spec, ctx));
  }
  for (std::size_t t = 1; t < runs.size(); ++t) {
    EXPECT_EQ(runs[0].shared_estimates, runs[t].shared_estimates);
    EXPECT_EQ(runs[0].local_estimates, runs[t].local_estimates);
    EXPECT_EQ(runs[0].iterations, runs[t].iterations);
  }
  EXPECT_TRUE(runs[0].converged());
}


class GlobalFitRanks : public ::testing::TestWithParam<bool> {};

// Plain, and with boxes that hold some groups' offsets at 0 (the held unknowns must agree too).
TEST_P(GlobalFitRanks, GiveOneProcesssBits) {
  const auto model = make_builtin_model("exp-decay");
  const BatchData d = decays(50, 20, 9);
  GlobalFitSpec spec;
  spec.shared = {1};
  if (GetParam()) spec.bounds = {{}, {}, {0.0, 5.0}};
  Context one;
  one.threads = 1;
  const GlobalFitResult alone = fit_global(*model, d, spec, one);
  ASSERT_TRUE(alone.converged()) << alone.message;
  for (const int ranks : {2, 3}) {
    std::vector<GlobalFitResult> results(static_cast<std::size_t>(ranks));
    run_ranks(ranks, [&](Communicator& comm) {
      const auto r = std::size_t(comm.rank()), k = std::size_t(ranks);
      const std::size_t first = 50 * r / k, count = 50 * (r + 1) / k - first;
      Context ctx;
      ctx.threads = 1;
      ctx.communicator = &comm;
      results[r] = fit_global(*model, batch_slice(d, first, count), spec, ctx);
    });
    for (const GlobalFitResult& r : results) {
      EXPECT_EQ(r.shared_estimates, alone.shared_estimates) << ranks;
      EXPECT_EQ(r.local_estimates, alone.local_estimates) << ranks;
      // Bit for bit (NaN, for an unknown at its bound, included).
      const auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
        return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
      };
      EXPECT_TRUE(same(r.shared_std_errors, alone.shared_std_errors)) << ranks;
      EXPECT_TRUE(same(r.local_std_errors, alone.local_std_errors)) << ranks;
      EXPECT_EQ(r.iterations, alone.iterations) << ranks;
      EXPECT_EQ(r.observations, alone.observations);
      EXPECT_EQ(r.group_ids, alone.group_ids);
      EXPECT_EQ(r.rss, alone.rss);
      EXPECT_EQ(r.tss, alone.tss);
      EXPECT_EQ(r.log_likelihood, alone.log_likelihood);
      EXPECT_EQ(r.local_at_bound, alone.local_at_bound);
    }
  }
  if (GetParam()) {
    EXPECT_NE(std::count(alone.local_at_bound.begin(), alone.local_at_bound.end(), true), 0);
  }
}
INSTANTIATE_TEST_SUITE_P(Bounded, GlobalFitRanks, ::testing::Bool());

constexpr double kNaNStart = std::numeric_limits<double>::quiet_NaN();

TEST(GlobalFit, BadSpecsAreErrors) {
  const auto model = make_builtin_model("exp-decay");
  const BatchData d = decays(3, 10, 1);
  GlobalFitSpec spec;
  EXPECT_THROW(fit_global(*model, d, spec), Error);  // nothing shared
  spec.shared = {0, 1, 2};
  EXPECT_THROW(fit_global(*model, d, spec), Error);  // everything shared
  spec.shared = {3};
  EXPECT_THROW(fit_global(*model, d, spec), Error);
  spec.shared = {1};
  spec.start = {1, 2};
  EXPECT_THROW(fit_global(*model, d, spec), Error);
  spec.start.clear();
  const auto message = [&](const GlobalFitSpec& s) {
    try {
      fit_global(*model, d, s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  GlobalFitSpec held = spec;
  held.fix = {{1, 0.5}};
  EXPECT_NE(message(held).find("'b' is both shared and fixed"), std::string::npos) << message(held);
  held.fix = {{0, 1.0}, {2, 0.0}};
  EXPECT_NE(message(held).find("no parameter is left per group"), std::string::npos) << message(held);
  held.fix = {{7, 1.0}};
  EXPECT_NE(message(held).find("out of range"), std::string::npos) << message(held);
  held.fix = {{2, std::nan("")}};
  EXPECT_NE(message(held).find("not finite"), std::string::npos) << message(held);
  GlobalFitSpec boxed = spec;
  boxed.bounds = {{}, {1.0, 0.0}, {}};
  EXPECT_NE(message(boxed).find("bounds of parameter 'b' are empty"), std::string::npos) << message(boxed);
  boxed.bounds = {{}, {0.0, 1.0}, {}};
  boxed.start = {kNaNStart, 2.0, kNaNStart};
  EXPECT_NE(message(boxed).find("start value of parameter 'b' is 2, outside its bounds"), std::string::npos)
      << message(boxed);
  boxed.bounds = {{}, {}, {0.0, 1.0}};
  boxed.start.clear();
  boxed.fix = {{2, 3.0}};
  EXPECT_NE(message(boxed).find("fixed value of parameter 'c' is 3, outside its bounds"), std::string::npos)
      << message(boxed);
  const BatchData tiny = decays(3, 2, 1);  // 6 rows for 1 + 3 x 2 unknowns
  spec.start.clear();
  EXPECT_THROW(fit_global(*model, tiny, spec), Error);
  BatchData lopsided = decays(3, 10, 1);  // enough rows in all, but one group has a single row
  lopsided.y.erase(lopsided.y.begin() + 11, lopsided.y.begin() + 20);
  lopsided.inputs[0].erase(lopsided.inputs[0].begin() + 11, lopsided.inputs[0].begin() + 20);
  lopsided.offsets = {0, 10, 11, 21};
  try {
    fit_global(*model, lopsided, spec);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("group '1' has 1 row(s)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace parafit
