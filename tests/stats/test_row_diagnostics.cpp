// row_diagnostics against weighted least squares' closed forms for a straight line: leverages are
// the diagonal of W^1/2 X (X^T W X)^-1 X^T W^1/2 (summing to 2), standardised residuals
// sqrt(w) r / (s sqrt(1 - h)) as R's rstandard, fitted values and residuals X beta and y - X beta.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "parafit/diagnostics.h"
#include "parafit/fit.h"

namespace parafit {
namespace {

TEST(RowDiagnostics, StraightLineMatchesWeightedLeastSquares) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> ux(0.0, 10.0), uw(0.2, 2.0);
  std::normal_distribution<double> noise(0.0, 0.5);
  std::vector<double> x, y, w;
  for (int i = 0; i < 50; ++i) {
    x.push_back(ux(rng));
    w.push_back(i == 7 ? 0.0 : uw(rng));  // one row out of the fit
    y.push_back(3.0 - 0.7 * x.back() + noise(rng));
  }
  x.push_back(40.0);  // a high-leverage point
  y.push_back(-25.0);
  w.push_back(1.0);
  Dataset data;
  data.add_column("x", x);
  data.add_column("y", y);
  data.add_column("w", w);
  FitSpec spec;
  spec.model = "poly:1";
  spec.weights = "w";
  const FitResult r = fit(data, spec);
  const RowDiagnostics d = row_diagnostics(data, r);
  ASSERT_TRUE(d.available);
  ASSERT_EQ(d.leverage.size(), x.size());

  const Eigen::Index n = Eigen::Index(x.size());
  Eigen::MatrixXd X(n, 2);
  Eigen::VectorXd Y(n), W(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    X.row(i) << 1.0, x[std::size_t(i)];
    Y(i) = y[std::size_t(i)];
    W(i) = w[std::size_t(i)];
  }
  const Eigen::MatrixXd inv = (X.transpose() * W.asDiagonal() * X).inverse();
  const Eigen::VectorXd beta = inv * X.transpose() * W.asDiagonal() * Y;
  const Eigen::VectorXd res = Y - X * beta;
  const double s = std::sqrt(res.dot(W.asDiagonal() * res) / double(n - 1 - 2));  // n - 1 rows count
  double sum_h = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::size_t k = std::size_t(i);
    const double h = W(i) * X.row(i).dot(inv * X.row(i).transpose());
    sum_h += d.leverage[k];
    EXPECT_NEAR(d.leverage[k], h, 1e-12);
    EXPECT_NEAR(d.fitted[k], X.row(i).dot(beta), 1e-9);
    EXPECT_NEAR(d.residual[k], res(i), 1e-9);
    EXPECT_EQ(d.response[k], y[k]);
    if (W(i) == 0) {
      EXPECT_TRUE(std::isnan(d.standardized[k]));
      EXPECT_EQ(d.leverage[k], 0.0);
    } else {
      EXPECT_NEAR(d.standardized[k], std::sqrt(W(i)) * res(i) / (s * std::sqrt(1 - h)), 1e-9);
    }
  }
  EXPECT_NEAR(sum_h, 2.0, 1e-12);
  EXPECT_GT(d.leverage.back(), 0.5);  // the far point
}

}  // namespace
}  // namespace parafit
