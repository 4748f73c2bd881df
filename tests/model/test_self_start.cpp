// Model::initial_values of every built-in family on synthetic noisy data, the cases where a start
// is impossible, and the shared self-start helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "model/model_test_util.h"
#include "model/self_start.h"
#include "parafit/error.h"
#include "parafit/model.h"

namespace parafit {
namespace {

using model_test::reference;

struct Data {
  std::vector<double> x, y;
};

// y = f(x; theta) + N(0, sd^2) from the reference formula, x uniform on [lo, hi] (or log-uniform)
// in random order.
Data synthesize(const std::string& model, const std::vector<double>& theta, std::size_t n,
                double lo, double hi, double sd, bool log_x = false, std::uint64_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ux(log_x ? std::log(lo) : lo, log_x ? std::log(hi) : hi);
  std::normal_distribution<double> noise(0.0, sd);
  const auto f = reference(model);
  Data d;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = ux(rng);
    const double x = log_x ? std::exp(u) : u;
    d.x.push_back(x);
    d.y.push_back(f(x, theta) + (sd > 0.0 ? noise(rng) : 0.0));
  }
  return d;
}

std::vector<double> start(const Model& m, const Data& d) {
  const std::span<const double> col(d.x);
  const std::span<const double> inputs[] = {col};
  return m.initial_values(inputs, d.y);
}

std::string start_error(const std::string& model, const Data& d) {
  try {
    start(*make_builtin_model(model), d);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no exception>";
}

struct StartCase {
  std::string model;
  std::vector<double> theta;
  double lo, hi, sd;
  bool log_x;
  std::vector<double> tolerance;  // relative, per parameter; absolute where the truth is 0
};

// Realistic curves with a few percent noise; each start must land within the tolerance of the
// truth (well inside the solver's basin).
std::vector<StartCase> start_cases() {
  return {
      {"exp-decay", {5.0, 0.7, 1.5}, 0.0, 8.0, 0.05, false, {0.2, 0.2, 0.2}},
      {"exp-decay", {-4.0, 0.4, 6.0}, 0.0, 12.0, 0.1, false, {0.2, 0.2, 0.2}},
      // x far from 0: a is the value at x = 0, far outside the data (amplitude 3 at x = 1000).
      {"exp-decay", {3.0 * std::exp(10.0), 0.01, 100.0}, 1000.0, 1200.0, 0.05, false,
       {0.3, 0.05, 0.01}},
      {"exp-growth", {2.0, 0.3}, 0.0, 10.0, 0.5, false, {0.2, 0.2}},
      {"exp-growth", {-50.0, -0.5}, -1.0, 6.0, 1.0, false, {0.2, 0.2}},
      {"log", {1.0, 2.0}, 0.5, 50.0, 0.1, false, {0.05, 0.05}},
      {"power", {3.0, 0.6}, 0.1, 100.0, 0.2, false, {0.2, 0.2}},
      {"power", {-2.0, -1.5}, 0.5, 20.0, 0.02, false, {0.2, 0.2}},
      {"logistic4", {100.0, 2.0, 10.0, 5.0}, 0.5, 200.0, 2.0, true, {0.2, 0.3, 0.2, 0.3}},
      {"logistic4", {2.0, 1.2, 50.0, 30.0}, 1.0, 2000.0, 0.5, true, {0.3, 0.3, 0.3, 0.2}},
      {"gauss", {5.0, 3.0, 0.8, 1.0}, -5.0, 10.0, 0.1, false, {0.2, 0.1, 0.2, 0.2}},
      {"gauss", {-2.0, 40.0, 1.5, 10.0}, 0.0, 100.0, 0.05, false, {0.2, 0.05, 0.2, 0.05}},
      {"michaelis-menten", {10.0, 2.0}, 0.0, 20.0, 0.2, false, {0.2, 0.3}},
      {"michaelis-menten", {0.5, 30.0}, 0.5, 100.0, 0.005, false, {0.2, 0.3}},
      {"gompertz", {50.0, 8.0, 0.5}, 0.0, 15.0, 1.0, false, {0.2, 0.3, 0.2}},
      {"gompertz", {1.0, 20.0, 1.5}, -1.0, 6.0, 0.02, false, {0.2, 0.3, 0.2}},
      {"asymptotic", {10.0, 2.0, std::log(0.5)}, 0.0, 10.0, 0.1, false, {0.2, 0.2, 0.25}},
      {"asymptotic", {-3.0, 4.0, std::log(2.0)}, 0.0, 4.0, 0.05, false, {0.2, 0.2, 0.25}},
  };
}

TEST(SelfStart, LandsNearTheTruthOnNoisyData) {
  for (const StartCase& c : start_cases()) {
    const auto m = make_builtin_model(c.model);
    const Data d = synthesize(c.model, c.theta, 4000, c.lo, c.hi, c.sd, c.log_x);
    const std::vector<double> s = start(*m, d);
    ASSERT_EQ(s.size(), c.theta.size()) << c.model;
    for (std::size_t j = 0; j < s.size(); ++j) {
      // lrc is a log: judge it absolutely.
      const bool absolute = c.theta[j] == 0.0 || m->parameter_names()[j] == "lrc";
      const double tol = c.tolerance[j] * (absolute ? 1.0 : std::fabs(c.theta[j]));
      EXPECT_NEAR(s[j], c.theta[j], tol)
          << c.model << " " << m->parameter_names()[j] << " (truth " << c.theta[j] << ")";
    }
  }
}

TEST(SelfStart, IsDeterministic) {
  for (const StartCase& c : start_cases()) {
    const auto m = make_builtin_model(c.model);
    const Data d = synthesize(c.model, c.theta, 3000, c.lo, c.hi, c.sd, c.log_x);
    EXPECT_EQ(start(*m, d), start(*m, d)) << c.model;
  }
}

TEST(SelfStart, UsesASubsampleOfLargeDataButSkipsMissingRows) {
  // 200k rows, the first half of y missing: the start must come from the finite half.
  Data d = synthesize("exp-decay", {5.0, 0.7, 1.5}, 200000, 0.0, 8.0, 0.05);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < d.y.size() / 2; ++i) d.y[i] = nan;
  d.x[d.x.size() - 1] = std::numeric_limits<double>::infinity();
  const auto s = start(*make_builtin_model("exp-decay"), d);
  EXPECT_NEAR(s[0], 5.0, 1.0);
  EXPECT_NEAR(s[1], 0.7, 0.14);
  EXPECT_NEAR(s[2], 1.5, 0.3);
}

TEST(SelfStart, MostlyMissingRowsStillGiveAStart) {
  Data d = synthesize("exp-decay", {5.0, 0.7, 1.5}, 100000, 0.0, 8.0, 0.05);
  for (std::size_t i = 0; i < d.y.size(); ++i) {
    if (i % 97 != 0) d.y[i] = std::numeric_limits<double>::quiet_NaN();
  }
  const auto s = start(*make_builtin_model("exp-decay"), d);
  EXPECT_NEAR(s[1], 0.7, 0.14);
}

// poly's start is the exact least-squares solution, not an approximation.
TEST(SelfStart, PolynomialIsExactOnNoiseFreeData) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> coef(-3.0, 3.0);
  for (int k = 0; k <= 4; ++k) {
    std::vector<double> theta(k + 1);
    for (double& t : theta) t = coef(rng);
    std::string name = "poly:";
    name += std::to_string(k);
    for (const auto& [lo, hi] : {std::pair{-2.0, 5.0}, std::pair{10.0, 12.0}}) {
      const Data d = synthesize(name, theta, 3000, lo, hi, 0.0);
      const auto s = start(*make_builtin_model(name), d);
      ASSERT_EQ(s.size(), theta.size());
      // Coefficients of x far from 0 are ill-conditioned by nature; allow for it.
      const double scale = std::pow(std::max(std::fabs(lo), std::fabs(hi)), k);
      for (int j = 0; j <= k; ++j) {
        EXPECT_NEAR(s[j], theta[j], 1e-8 * scale) << name << " b" << j << " on [" << lo << ", "
                                                  << hi << "]";
      }
    }
  }
}

TEST(SelfStart, PolynomialIsTheLeastSquaresFitOnNoisyData) {
  // For a straight line the least-squares solution is known in closed form.
  const Data d = synthesize("poly:1", {1.0, 2.0}, 5000, 0.0, 10.0, 0.5);
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    mx += d.x[i];
    my += d.y[i];
  }
  mx /= static_cast<double>(d.x.size());
  my /= static_cast<double>(d.y.size());
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    sxx += (d.x[i] - mx) * (d.x[i] - mx);
    sxy += (d.x[i] - mx) * (d.y[i] - my);
  }
  const double slope = sxy / sxx;
  const auto s = start(*make_builtin_model("poly:1"), d);
  EXPECT_NEAR(s[1], slope, 1e-10);
  EXPECT_NEAR(s[0], my - slope * mx, 1e-10);
}

TEST(SelfStart, HighDegreePolynomialReproducesTheCurve) {
  std::vector<double> theta(21);
  for (int j = 0; j <= 20; ++j) theta[j] = (j % 3 == 0 ? 1.0 : -0.5) / (1.0 + j);
  const Data d = synthesize("poly:20", theta, 5000, -1.0, 1.0, 0.0);
  const auto m = make_builtin_model("poly:20");
  const auto s = start(*m, d);
  const auto f = model_test::eval(*m, s, d.x);
  for (std::size_t i = 0; i < d.x.size(); ++i) EXPECT_NEAR(f[i], d.y[i], 1e-7);
}

TEST(SelfStart, PolynomialNeedsEnoughRows) {
  const Data d = synthesize("poly:3", {1, 2, 3, 4}, 3, 0.0, 1.0, 0.0);
  const std::string e = start_error("poly:3", d);
  EXPECT_NE(e.find("poly:3"), std::string::npos) << e;
  EXPECT_NE(e.find("`start`"), std::string::npos) << e;
  EXPECT_NO_THROW(start(*make_builtin_model("poly:2"), d));
}

TEST(SelfStart, TooFewRowsForAnyFamily) {
  for (const ModelInfo& info : builtin_models()) {
    if (info.name == "poly:k") continue;
    const auto m = make_builtin_model(info.name);
    const std::size_t p = m->num_parameters();
    Data d;
    for (std::size_t i = 0; i + 1 < p; ++i) {
      d.x.push_back(1.0 + static_cast<double>(i));
      d.y.push_back(2.0 + static_cast<double>(i));
    }
    const std::string e = start_error(info.name, d);
    EXPECT_NE(e.find("'" + info.name + "'"), std::string::npos) << e;
    EXPECT_NE(e.find("`start`"), std::string::npos) << e;
  }
}

TEST(SelfStart, NoPositiveXForLogPowerLogistic) {
  Data d;
  for (int i = 0; i < 100; ++i) {
    d.x.push_back(-static_cast<double>(i));
    d.y.push_back(0.5 * i);
  }
  for (const char* name : {"log", "power", "logistic4"}) {
    const std::string e = start_error(name, d);
    EXPECT_NE(e.find(std::string("'") + name + "'"), std::string::npos) << e;
    EXPECT_NE(e.find("x > 0"), std::string::npos) << e;
    EXPECT_NE(e.find("`start`"), std::string::npos) << e;
  }
}

TEST(SelfStart, MismatchedInputIsAnError) {
  const std::vector<double> x = {1, 2, 3, 4};
  const std::vector<double> y = {1, 2, 3};
  const std::span<const double> inputs[] = {x};
  EXPECT_THROW(make_builtin_model("exp-decay")->initial_values(inputs, y), Error);
  EXPECT_THROW(make_builtin_model("poly:1")->initial_values(inputs, y), Error);
  EXPECT_THROW(make_builtin_model("poly:1")->initial_values({}, y), Error);
}

// Degenerate but legal data must give finite numbers, not an exception or NaN.
TEST(SelfStart, DegenerateDataGiveFiniteStarts) {
  Data flat;
  Data same_x;
  for (int i = 0; i < 50; ++i) {
    flat.x.push_back(1.0 + i);
    flat.y.push_back(3.0);
    same_x.x.push_back(2.0);
    same_x.y.push_back(1.0 + (i % 5));
  }
  for (const ModelInfo& info : builtin_models()) {
    const std::string name = info.name == "poly:k" ? "poly:2" : info.name;
    const auto m = make_builtin_model(name);
    for (const Data* d : {&flat, &same_x}) {
      std::vector<double> s;
      ASSERT_NO_THROW(s = start(*m, *d)) << name;
      for (double v : s) EXPECT_TRUE(std::isfinite(v)) << name;
    }
  }
}

TEST(SelfStartHelpers, SubsampleIsEvenlySpacedSortedAndFinite) {
  std::vector<double> x(100000);
  std::vector<double> y(100000);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<double>((i * 7919) % 100000);  // a permutation of 0..99999
    y[i] = i % 10 == 3 ? std::numeric_limits<double>::quiet_NaN() : 2.0 * x[i];
  }
  const detail::Sample s = detail::sorted_subsample("test", x, y, 3, 1000);
  EXPECT_GT(s.size(), 800u);
  EXPECT_LE(s.size(), 1000u);
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_TRUE(std::isfinite(s.y[i]));
    EXPECT_EQ(s.y[i], 2.0 * s.x[i]);
    if (i > 0) {
      EXPECT_LE(s.x[i - 1], s.x[i]);
    }
  }
  // Spread over the whole range, not the first rows.
  EXPECT_LT(s.x.front(), 1000.0);
  EXPECT_GT(s.x.back(), 99000.0);
}

TEST(SelfStartHelpers, QuantileBinsAverageEqualCounts) {
  detail::Sample s;
  for (int i = 0; i < 10; ++i) {
    s.x.push_back(i);
    s.y.push_back(10.0 * i);
  }
  const detail::Sample b = detail::quantile_bins(s, 5);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_DOUBLE_EQ(b.x[0], 0.5);
  EXPECT_DOUBLE_EQ(b.y[4], 85.0);
  EXPECT_EQ(detail::quantile_bins(s, 50).size(), 10u);
}

TEST(SelfStartHelpers, LinearFits) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  const std::vector<double> y = {3, 5, 7, 9, 11};
  const detail::LineFit line = detail::fit_line(x, y);
  ASSERT_TRUE(line.ok);
  EXPECT_NEAR(line.slope, 2.0, 1e-14);
  EXPECT_NEAR(line.intercept, 1.0, 1e-14);
  EXPECT_FALSE(detail::fit_line(std::vector<double>{2, 2}, std::vector<double>{1, 3}).ok);

  const detail::LinearFit affine = detail::fit_affine(x, y);
  EXPECT_NEAR(affine.scale, 2.0, 1e-14);
  EXPECT_NEAR(affine.offset, 1.0, 1e-14);
  EXPECT_NEAR(affine.rss, 0.0, 1e-20);
  EXPECT_TRUE(std::isinf(detail::fit_affine(std::vector<double>{1, 1, 1}, y).rss));

  const detail::LinearFit scale = detail::fit_scale(x, std::vector<double>{2, 4, 6, 8, 10});
  EXPECT_NEAR(scale.scale, 2.0, 1e-14);
  EXPECT_NEAR(scale.rss, 0.0, 1e-20);
}

TEST(SelfStartHelpers, MinimiseFindsTheMinimum) {
  const double t = detail::minimise_1d([](double v) { return (v - 1.234) * (v - 1.234); }, -10, 10);
  EXPECT_NEAR(t, 1.234, 1e-6);
  // NaN counts as +inf, not as a minimum.
  const double u = detail::minimise_1d(
      [](double v) { return v < 0 ? std::numeric_limits<double>::quiet_NaN() : (v - 2) * (v - 2); },
      -5, 5);
  EXPECT_NEAR(u, 2.0, 1e-6);
  EXPECT_NEAR(detail::minimise_rate([](double r) { return std::pow(std::log(-r / 3.0), 2); }, 0.01,
                                    100.0, true),
              -3.0, 1e-5);
}

}  // namespace
}  // namespace parafit
