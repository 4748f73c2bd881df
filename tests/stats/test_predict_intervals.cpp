// predict's intervals (PredictOptions): for a polynomial, a linear model, the delta method is
// exact, so the confidence band of the mean and the prediction band of a new observation must
// equal ordinary (and weighted) least squares' textbook formulas, computed here with Eigen from
// the design matrix: yhat +- t s sqrt(x0^T (X^T W X)^-1 x0) and yhat +- t s sqrt(1/w0 + x0^T
// (X^T W X)^-1 x0).
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/model_file.h"
#include "stats/student_t.h"

namespace parafit {
namespace {

struct Poly2Data {
  Dataset data;
  std::vector<double> x, y, w;
};

Poly2Data make_data(bool weighted) {
  Poly2Data d;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> ux(-2.0, 3.0), uw(0.5, 3.0);
  std::normal_distribution<double> noise(0.0, 0.3);
  for (int i = 0; i < 40; ++i) {
    const double x = ux(rng), w = weighted ? uw(rng) : 1.0;
    d.x.push_back(x);
    d.w.push_back(w);
    d.y.push_back(1.0 - 0.5 * x + 0.25 * x * x + noise(rng) / std::sqrt(w));
  }
  d.data.add_column("x", d.x);
  d.data.add_column("y", d.y);
  d.data.add_column("w", d.w);
  return d;
}

void expect_textbook_bands(bool weighted, double level) {
  const Poly2Data d = make_data(weighted);
  FitSpec spec;
  spec.model = "poly:2";
  if (weighted) spec.weights = "w";
  const FitResult r = fit(d.data, spec);
  ASSERT_TRUE(r.summary.IsSolutionUsable());
  const SavedModel saved = saved_model_from(r);

  // The textbook: beta = (X^T W X)^-1 X^T W y, s^2 = RSS / (n - 3).
  const Eigen::Index n = Eigen::Index(d.x.size());
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n), w(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double x = d.x[std::size_t(i)];
    X.row(i) << 1.0, x, x * x;
    y(i) = d.y[std::size_t(i)];
    w(i) = d.w[std::size_t(i)];
  }
  const Eigen::MatrixXd XtWX = X.transpose() * w.asDiagonal() * X;
  const Eigen::VectorXd beta = XtWX.ldlt().solve(X.transpose() * w.asDiagonal() * y);
  const Eigen::VectorXd res = y - X * beta;
  const double s2 = res.dot(w.asDiagonal() * res) / double(n - 3);
  const Eigen::MatrixXd inv = XtWX.inverse();
  const double t = detail::student_t_quantile(0.5 + level / 2.0, double(n - 3));

  Dataset grid;
  std::vector<double> gx, gw;
  for (double x = -3.0; x <= 4.0; x += 0.25) {
    gx.push_back(x);
    gw.push_back(0.5 + 0.1 * (x + 3.0));
  }
  grid.add_column("x", gx);
  PredictOptions conf;
  conf.level = level;
  PredictOptions pred = conf;
  pred.interval = IntervalKind::kPrediction;
  if (weighted) pred.weights = gw;
  const Predictions pc = predict(saved, grid, {}, conf), pp = predict(saved, grid, {}, pred);
  ASSERT_EQ(pc.level, level);
  for (std::size_t i = 0; i < gx.size(); ++i) {
    const Eigen::Vector3d x0(1.0, gx[i], gx[i] * gx[i]);
    const double fit = x0.dot(beta), q = x0.dot(inv * x0);
    const double se_fit = std::sqrt(s2 * q), w0 = weighted ? gw[i] : 1.0;
    const double se_pred = std::sqrt(s2 * (1.0 / w0 + q));
    EXPECT_NEAR(pc.fit[i], fit, 1e-9 * std::max(1.0, std::abs(fit)));
    EXPECT_NEAR(pc.se_fit[i], se_fit, 1e-9 * se_fit);
    EXPECT_NEAR(pc.lower[i], fit - t * se_fit, 1e-9 * std::max(1.0, std::abs(fit)));
    EXPECT_NEAR(pc.upper[i], fit + t * se_fit, 1e-9 * std::max(1.0, std::abs(fit)));
    EXPECT_NEAR(pp.se_pred[i], se_pred, 1e-9 * se_pred);
    EXPECT_NEAR(pp.lower[i], fit - t * se_pred, 1e-9 * std::max(1.0, std::abs(fit)));
    EXPECT_NEAR(pp.upper[i], fit + t * se_pred, 1e-9 * std::max(1.0, std::abs(fit)));
    EXPECT_EQ(pp.se_fit[i], pc.se_fit[i]);
  }
  EXPECT_TRUE(pc.se_pred.empty());
}

TEST(PredictIntervals, PolynomialBandsAreOlsTextbookBands) { expect_textbook_bands(false, 0.95); }
TEST(PredictIntervals, WeightedBandsAreWlsTextbookBands) { expect_textbook_bands(true, 0.95); }
TEST(PredictIntervals, AnotherLevel) { expect_textbook_bands(false, 0.8); }

TEST(PredictIntervals, BadOptionsAreUsageErrors) {
  const Poly2Data d = make_data(false);
  FitSpec spec;
  spec.model = "poly:2";
  const SavedModel saved = saved_model_from(fit(d.data, spec));
  PredictOptions o;
  o.level = 1.5;
  EXPECT_THROW(predict(saved, d.data, {}, o), Error);
  o.level = 0.9;
  o.interval = IntervalKind::kPrediction;
  std::vector<double> w(d.x.size(), 1.0);
  w[7] = 0.0;
  o.weights = w;
  try {
    predict(saved, d.data, {}, o);
    FAIL() << "a zero weight was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("data row 8"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Error::Kind::kUsage);
  }
  std::vector<double> short_w(3, 1.0);
  o.weights = short_w;
  EXPECT_THROW(predict(saved, d.data, {}, o), Error);
}

}  // namespace
}  // namespace parafit
