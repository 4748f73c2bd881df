// Checks the fit and its statistics against independent truth: for a polynomial, the nonlinear
// solver must reproduce the closed-form (weighted) least-squares estimates and standard errors,
// computed here by a Householder QR of the design matrix, not through normal equations.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <numbers>

#include "parafit/fit.h"
#include "solve/normal_equations.h"
#include "stats/student_t.h"
#include "support/synthetic.h"

namespace parafit {
namespace {

struct ClosedForm {
  Eigen::VectorXd beta, se;
  double rss = 0, sigma = 0;
};

ClosedForm weighted_ols(const std::vector<double>& x, const std::vector<double>& y,
                        const std::vector<double>* w, int degree) {
  const Eigen::Index n = Eigen::Index(x.size()), p = degree + 1;
  Eigen::MatrixXd X(n, p);
  Eigen::VectorXd Y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double sw = w ? std::sqrt((*w)[std::size_t(i)]) : 1.0;
    for (Eigen::Index j = 0; j < p; ++j) X(i, j) = sw * std::pow(x[std::size_t(i)], double(j));
    Y(i) = sw * y[std::size_t(i)];
  }
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(X);
  ClosedForm cf;
  cf.beta = qr.solve(Y);
  cf.rss = (Y - X * cf.beta).squaredNorm();
  cf.sigma = std::sqrt(cf.rss / double(n - p));
  const Eigen::MatrixXd R = qr.matrixQR().topRows(p).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd Rinv = R.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(p, p));
  cf.se = (Rinv * Rinv.transpose()).diagonal().cwiseSqrt() * cf.sigma;
  return cf;
}

void expect_rel(double got, double want, double tol, const std::string& what) {
  EXPECT_LE(std::abs(got - want), tol * std::abs(want)) << what << ": got " << got << " want " << want;
}

class PolynomialClosedForm : public ::testing::TestWithParam<bool> {};

TEST_P(PolynomialClosedForm, MatchesOrdinaryOrWeightedLeastSquares) {
  const bool weighted = GetParam();
  const auto model = make_builtin_model("poly:3");
  const auto s = testing::make_synthetic(*model, {1.5, -2.0, 0.7, -0.05}, 5000, -1.0, 4.0, 0.3);
  const Dataset data = testing::to_dataset(s, weighted);
  FitSpec spec;
  spec.model = "poly:3";
  if (weighted) spec.weights = "w";
  // A poor start, so the solver has to travel.
  spec.start = {{"b0", 10}, {"b1", 1}, {"b2", -1}, {"b3", 0.5}};
  const FitResult r = fit(data, spec, Context{});
  ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  const ClosedForm cf = weighted_ols(s.x, s.y, weighted ? &s.w : nullptr, 3);
  for (Eigen::Index j = 0; j < 4; ++j) {
    expect_rel(r.statistics.parameters[std::size_t(j)].estimate, cf.beta(j), 1e-9, "estimate");
    expect_rel(r.statistics.parameters[std::size_t(j)].std_error, cf.se(j), 1e-9, "std error");
  }
  expect_rel(r.statistics.rss, cf.rss, 1e-11, "rss");
  expect_rel(r.statistics.sigma, cf.sigma, 1e-11, "sigma");
  EXPECT_EQ(r.statistics.df, 4996.0);
}

INSTANTIATE_TEST_SUITE_P(Stats, PolynomialClosedForm, ::testing::Values(false, true));

TEST(FitStatistics, RSquaredInformationCriteriaAndIntervalsAsRDefinesThem) {
  const auto model = make_builtin_model("poly:1");
  const auto s = testing::make_synthetic(*model, {2.0, 0.5}, 400, 0.0, 10.0, 1.0);
  FitSpec spec;
  spec.model = "poly:1";
  const FitResult r = fit(testing::to_dataset(s), spec, Context{});
  ASSERT_TRUE(r.summary.IsSolutionUsable());
  const auto& st = r.statistics;
  // Closed forms for simple linear regression.
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < s.x.size(); ++i) mx += s.x[i], my += s.y[i];
  const double n = double(s.x.size());
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    sxx += (s.x[i] - mx) * (s.x[i] - mx);
    sxy += (s.x[i] - mx) * (s.y[i] - my);
    syy += (s.y[i] - my) * (s.y[i] - my);
  }
  const double r2 = sxy * sxy / (sxx * syy);
  expect_rel(st.r_squared, r2, 1e-10, "R^2");
  expect_rel(st.adj_r_squared, 1 - (1 - r2) * (n - 1) / (n - 2), 1e-10, "adjusted R^2");
  const double rss = syy - sxy * sxy / sxx;
  expect_rel(st.rss, rss, 1e-9, "rss");
  const double ll = -n / 2 * (std::log(2 * std::numbers::pi) + 1 - std::log(n) + std::log(rss));
  expect_rel(st.log_likelihood, ll, 1e-10, "logLik");
  expect_rel(st.aic, -2 * ll + 2 * 3, 1e-10, "AIC");
  expect_rel(st.bic, -2 * ll + std::log(n) * 3, 1e-10, "BIC");
  expect_rel(st.rmse, std::sqrt(rss / n), 1e-9, "RMSE");
  // Wald interval with t_{0.975, 398} = 1.965942324 (R: qt(0.975, 398)).
  const auto& b1 = st.parameters[1];
  expect_rel(b1.ci_upper - b1.estimate, 1.965942324 * b1.std_error, 1e-9, "CI half-width");
  expect_rel(b1.t_value, b1.estimate / b1.std_error, 1e-15, "t value");
  EXPECT_NEAR(st.correlation(0, 0), 1.0, 1e-12);
  expect_rel(st.correlation(0, 1), -mx / std::sqrt(sxx / n + mx * mx), 1e-9, "correlation");
}

TEST(StudentT, MatchesReferenceValues) {
  // Values from R: qt(0.975, df) and 2*pt(-t, df).
  EXPECT_NEAR(detail::student_t_quantile(0.975, 1), 12.70620473617471, 1e-9);
  EXPECT_NEAR(detail::student_t_quantile(0.975, 10), 2.228138851986274, 1e-12);
  EXPECT_NEAR(detail::student_t_quantile(0.995, 5), 4.032142983557536, 1e-11);
  // z + (z^3 + z) / (4 df), the first Cornish-Fisher term, is exact to 1e-12 here.
  EXPECT_NEAR(detail::student_t_quantile(0.975, 1e7), 1.9599642218, 1e-8);
  EXPECT_NEAR(detail::student_t_two_sided_p(2.0, 10), 0.07338803477074, 1e-12);
  EXPECT_NEAR(detail::student_t_two_sided_p(0.0, 10), 1.0, 1e-15);
  EXPECT_NEAR(detail::student_t_two_sided_p(-1.0, 3), 0.39100221895577, 1e-12);
  EXPECT_LT(detail::student_t_two_sided_p(50.0, 1000), 1e-200);
}

TEST(FitStatistics, WeightedLogLikelihoodIncludesTheWeights) {
  const auto model = make_builtin_model("poly:1");
  const auto s = testing::make_synthetic(*model, {1.0, 1.0}, 300, 0.0, 5.0, 0.5);
  FitSpec spec;
  spec.model = "poly:1";
  spec.weights = "w";
  const FitResult r = fit(testing::to_dataset(s, true), spec, Context{});
  double sum_log_w = 0;
  for (double w : s.w) sum_log_w += std::log(w);
  const double n = double(s.x.size());
  const double rss = r.statistics.rss;
  const double ll = -n / 2 * (std::log(2 * std::numbers::pi) + 1 - std::log(n) - sum_log_w / n + std::log(rss));
  expect_rel(r.statistics.log_likelihood, ll, 1e-12, "weighted logLik");
}

// R's nls convergence criterion, computed the way R computes it: a Householder QR of the
// (weighted) Jacobian, Q^T r split into its first k entries and the rest,
// sqrt(|Q1^T r|^2 / |Q2^T r|^2).
double dense_relative_offset(const Model& model, const testing::Synthetic& s, bool weighted,
                             const std::vector<double>& theta) {
  const std::size_t n = s.x.size(), k = model.num_parameters();
  std::vector<double> f(n), J(n * k);
  const double* in[] = {s.x.data()};
  model.evaluate(theta.data(), RowBlock{n, in}, f.data(), J.data(), n);
  Eigen::MatrixXd A(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(k));
  Eigen::VectorXd r(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const double sw = weighted ? std::sqrt(s.w[i]) : 1.0;
    r(Eigen::Index(i)) = sw * (s.y[i] - f[i]);
    for (std::size_t j = 0; j < k; ++j) A(Eigen::Index(i), Eigen::Index(j)) = sw * J[j * n + i];
  }
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(A);
  const Eigen::VectorXd qtr = qr.householderQ().transpose() * r;
  return std::sqrt(qtr.head(Eigen::Index(k)).squaredNorm() / qtr.tail(Eigen::Index(n - k)).squaredNorm());
}

class RelativeOffset : public ::testing::TestWithParam<bool> {};

// Away from the optimum the criterion is large and the normal-equations route must agree with
// the QR to many digits. (parafit used to print this times sqrt((N - k) / k).)
TEST_P(RelativeOffset, IsRsQrCriterionAwayFromTheOptimum) {
  const bool weighted = GetParam();
  const auto model = make_builtin_model("exp-decay");
  const auto s = testing::make_synthetic(*model, {2.5, 1.3, 0.5}, 3000, 0.0, 5.0, 0.05);
  const std::vector<double> theta = {2.45, 1.32, 0.51};
  Problem problem;
  problem.model = model.get();
  problem.inputs = {s.x};
  problem.y = s.y;
  if (weighted) problem.weights = s.w;
  const std::vector<std::size_t> columns = {0, 1, 2};
  const detail::NormalEquations ne = detail::accumulate_normal_equations(problem, Context{}, theta, columns);
  LevenbergMarquardtSummary summary;
  summary.termination = Termination::kGradientTolerance;
  summary.parameters = theta;
  summary.free_parameters = columns;
  summary.at_bound.assign(3, false);
  summary.final_rss = ne.rss;
  summary.jtwj = ne.H;
  summary.jtwr = ne.g;
  const FitStatistics st = compute_statistics(problem, summary);
  const double want = dense_relative_offset(*model, s, weighted, theta);
  EXPECT_GT(want, 0.1);
  expect_rel(st.relative_offset, want, 1e-10, "relative offset");
}

// At the solution it is tiny, and still R's number (to the digits the data's rounding allows).
TEST_P(RelativeOffset, IsRsQrCriterionAtTheSolution) {
  const bool weighted = GetParam();
  const auto model = make_builtin_model("exp-decay");
  const auto s = testing::make_synthetic(*model, {2.5, 1.3, 0.5}, 3000, 0.0, 5.0, 0.05);
  FitSpec spec;
  spec.model = "exp-decay";
  if (weighted) spec.weights = "w";
  spec.start = {{"a", 1}, {"b", 1}, {"c", 0}};
  const FitResult r = fit(testing::to_dataset(s, weighted), spec, Context{});
  ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  const double want = dense_relative_offset(*model, s, weighted, r.summary.parameters);
  EXPECT_LT(want, 1e-4);
  expect_rel(r.statistics.relative_offset, want, 1e-3, "relative offset at the solution");
}

INSTANTIATE_TEST_SUITE_P(Stats, RelativeOffset, ::testing::Values(false, true));

}  // namespace
}  // namespace parafit
