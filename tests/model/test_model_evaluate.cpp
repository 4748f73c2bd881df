// Model::evaluate of every built-in family: values against a direct scalar formula, the analytic
// Jacobian against central finite differences, the block layout contract, and NaN outside the
// domain.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "model/model_test_util.h"
#include "parafit/model.h"

namespace parafit {
namespace {

using model_test::eval;
using model_test::reference;

struct Case {
  std::string model;
  std::vector<std::vector<double>> thetas;
  double x_lo, x_hi;
};

std::vector<Case> cases() {
  return {
      {"exp-decay", {{2.0, 0.3, 1.0}, {-1.5, 1.2, 0.4}, {5.0, -0.1, -2.0}}, 0.0, 10.0},
      {"exp-growth", {{1.5, 0.2}, {-0.7, -0.5}, {3.0, 0.05}}, -2.0, 10.0},
      {"log", {{1.0, 2.0}, {-3.0, 0.5}}, 0.1, 20.0},
      {"power", {{2.0, 0.5}, {-1.0, -1.3}, {0.3, 2.2}}, 0.1, 20.0},
      {"logistic4",
       {{10.0, 1.5, 5.0, 1.0}, {0.2, 3.0, 2.0, 8.0}, {1.0, -1.0, 3.0, 0.0}},
       0.1,
       20.0},
      {"gauss", {{3.0, 5.0, 1.5, 0.5}, {-2.0, 1.0, 0.3, 1.0}, {1.0, 0.0, 4.0, -1.0}}, -5.0, 15.0},
      {"michaelis-menten", {{10.0, 2.0}, {3.0, 0.5}, {-2.0, 7.0}}, 0.0, 20.0},
      {"gompertz", {{10.0, 5.0, 0.5}, {2.0, 0.5, 2.0}, {-3.0, 2.0, 0.3}}, -2.0, 15.0},
      {"asymptotic", {{10.0, 2.0, -1.0}, {-1.0, 3.0, 0.5}, {5.0, 5.5, -3.0}}, 0.0, 10.0},
      {"poly:0", {{1.5}, {-3.0}}, -3.0, 3.0},
      {"poly:1", {{1.5, -2.0}, {0.0, 0.7}}, -3.0, 3.0},
      {"poly:2", {{1.5, -2.0, 0.5}, {-1.0, 0.3, -0.8}}, -3.0, 3.0},
      {"poly:3", {{1.5, -2.0, 0.5, 0.25}, {0.1, 0.0, 1.0, -0.3}}, -3.0, 3.0},
      {"poly:4", {{1.5, -2.0, 0.5, 0.25, -0.1}, {2.0, 1.0, -1.0, 0.5, 0.05}}, -3.0, 3.0},
  };
}

// Deterministic, unsorted, spread over [lo, hi] (golden-ratio sequence).
std::vector<double> xs(std::size_t n, double lo, double hi) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = std::fmod(0.5 + 0.6180339887498949 * static_cast<double>(i), 1.0);
    x[i] = lo + (hi - lo) * u;
  }
  return x;
}

TEST(BuiltinModelEvaluate, ValuesMatchDirectFormula) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.model);
    const auto m = make_builtin_model(c.model);
    const auto ref = reference(c.model);
    ASSERT_TRUE(ref);
    const std::vector<double> x = xs(257, c.x_lo, c.x_hi);
    for (const auto& theta : c.thetas) {
      ASSERT_EQ(theta.size(), m->num_parameters());
      std::vector<double> J;
      const std::vector<double> f_only = eval(*m, theta, x);
      const std::vector<double> f_with_j = eval(*m, theta, x, &J);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double want = ref(x[i], theta);
        EXPECT_NEAR(f_only[i], want, 1e-12 * std::max(1.0, std::fabs(want))) << "x=" << x[i];
        // The value must not depend on whether the Jacobian is wanted.
        EXPECT_EQ(f_only[i], f_with_j[i]) << "x=" << x[i];
      }
    }
  }
}

// Central differences with a relative step; each parameter gets its own step.
TEST(BuiltinModelJacobian, MatchesCentralDifferences) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.model);
    const auto m = make_builtin_model(c.model);
    const std::size_t p = m->num_parameters();
    for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{300}}) {
      const std::vector<double> x = xs(n, c.x_lo, c.x_hi);
      for (const auto& theta : c.thetas) {
        std::vector<double> J;
        eval(*m, theta, x, &J);
        for (std::size_t j = 0; j < p; ++j) {
          const double h = 1e-5 * std::max(1.0, std::fabs(theta[j]));
          std::vector<double> up = theta;
          std::vector<double> down = theta;
          up[j] += h;
          down[j] -= h;
          const std::vector<double> f_up = eval(*m, up, x);
          const std::vector<double> f_down = eval(*m, down, x);
          double col_max = 0.0;
          for (std::size_t i = 0; i < n; ++i) col_max = std::max(col_max, std::fabs(J[j * n + i]));
          for (std::size_t i = 0; i < n; ++i) {
            const double fd = (f_up[i] - f_down[i]) / (2.0 * h);
            const double an = J[j * n + i];
            ASSERT_TRUE(std::isfinite(an)) << "param " << j << " x=" << x[i];
            EXPECT_NEAR(an, fd, 1e-6 * std::fabs(an) + 1e-8 * (1.0 + col_max))
                << "param " << m->parameter_names()[j] << " x=" << x[i] << " n=" << n;
          }
        }
      }
    }
  }
}

// J is written with the leading dimension it is given, and nothing is written past the block.
TEST(BuiltinModelJacobian, HonoursLeadingDimension) {
  constexpr double kSentinel = -12345.678;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.model);
    const auto m = make_builtin_model(c.model);
    const std::size_t p = m->num_parameters();
    const auto& theta = c.thetas.front();
    for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{300}}) {
      const std::vector<double> x = xs(n, c.x_lo, c.x_hi);
      std::vector<double> tight;
      eval(*m, theta, x, &tight);

      const std::size_t ldj = n + 5;
      std::vector<double> f(n + 3, kSentinel);
      std::vector<double> J(ldj * p + 3, kSentinel);
      const double* in[] = {x.data()};
      m->evaluate(theta.data(), RowBlock{n, in}, f.data(), J.data(), ldj);
      for (std::size_t i = n; i < f.size(); ++i) EXPECT_EQ(f[i], kSentinel);
      for (std::size_t j = 0; j < p; ++j) {
        for (std::size_t i = 0; i < ldj; ++i) {
          if (i < n) {
            EXPECT_EQ(J[j * ldj + i], tight[j * n + i]) << "param " << j << " row " << i;
          } else {
            EXPECT_EQ(J[j * ldj + i], kSentinel) << "param " << j << " padding row " << i;
          }
        }
      }
      for (std::size_t k = ldj * p; k < J.size(); ++k) EXPECT_EQ(J[k], kSentinel);
    }
  }
}

TEST(BuiltinModelEvaluate, EmptyBlockIsANoOp) {
  for (const Case& c : cases()) {
    const auto m = make_builtin_model(c.model);
    double f = 7.0;
    double J = 7.0;
    const double* in[] = {nullptr};
    m->evaluate(c.thetas.front().data(), RowBlock{0, in}, &f, &J, 0);
    EXPECT_EQ(f, 7.0) << c.model;
    EXPECT_EQ(J, 7.0) << c.model;
  }
}

TEST(BuiltinModelEvaluate, NaNInputGivesNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const Case& c : cases()) {
    const auto m = make_builtin_model(c.model);
    if (c.model == "poly:0") continue;  // a constant does not look at x
    std::vector<double> J;
    const auto f = eval(*m, c.thetas.front(), {nan, 0.5 * (c.x_lo + c.x_hi)}, &J);
    EXPECT_TRUE(std::isnan(f[0])) << c.model;
    EXPECT_TRUE(std::isfinite(f[1])) << c.model;
  }
}

TEST(BuiltinModelEvaluate, OutsideTheDomainIsNaNNotAnException) {
  struct Outside {
    std::string model;
    std::vector<double> theta;
    std::vector<double> x;
  };
  const std::vector<Outside> outside = {
      {"log", {1.0, 2.0}, {0.0, -1.0, -1e300}},
      {"power", {2.0, 0.5}, {0.0, -2.0}},
      {"power", {2.0, 2.0}, {-3.0}},  // even an integer power: x <= 0 is outside the family
      {"logistic4", {10.0, 1.5, 5.0, 1.0}, {-1.0, -0.01}},
      {"logistic4", {10.0, 1.5, -5.0, 1.0}, {1.0}},
  };
  for (const auto& o : outside) {
    const auto m = make_builtin_model(o.model);
    std::vector<double> J;
    std::vector<double> f;
    ASSERT_NO_THROW(f = eval(*m, o.theta, o.x, &J)) << o.model;
    for (std::size_t i = 0; i < o.x.size(); ++i) {
      EXPECT_TRUE(std::isnan(f[i])) << o.model << " x=" << o.x[i] << " f=" << f[i];
    }
    ASSERT_NO_THROW(f = eval(*m, o.theta, o.x)) << o.model;
    for (std::size_t i = 0; i < o.x.size(); ++i) EXPECT_TRUE(std::isnan(f[i])) << o.model;
  }
}

// Dose 0 is common in dose-response data: logistic4 takes its limit a there, with finite
// derivatives (zero for b, c and d, up to the e^-700 at which (x/c)^b is clamped).
TEST(BuiltinModelEvaluate, Logistic4AtZeroDose) {
  const auto m = make_builtin_model("logistic4");
  const std::vector<double> theta = {10.0, 1.5, 5.0, 1.0};
  std::vector<double> J;
  const auto f = eval(*m, theta, {0.0}, &J);
  EXPECT_DOUBLE_EQ(f[0], 10.0);
  EXPECT_DOUBLE_EQ(J[0], 1.0);
  EXPECT_NEAR(J[1], 0.0, 1e-300);
  EXPECT_NEAR(J[2], 0.0, 1e-300);
  EXPECT_NEAR(J[3], 0.0, 1e-300);
}

// Extreme arguments saturate instead of producing NaN: exp-decay far along x, logistic4 far
// beyond its midpoint.
TEST(BuiltinModelEvaluate, SaturatesWithoutNaN) {
  std::vector<double> J;
  auto decay = make_builtin_model("exp-decay");
  auto f = eval(*decay, {2.0, 1.0, 3.0}, {1e4, 800.0}, &J);
  EXPECT_EQ(f[0], 3.0);
  EXPECT_EQ(f[1], 3.0);
  for (double v : J) EXPECT_TRUE(std::isfinite(v));

  auto logistic = make_builtin_model("logistic4");
  f = eval(*logistic, {10.0, 4.0, 1.0, 2.0}, {1e200, 1e-200}, &J);
  EXPECT_DOUBLE_EQ(f[0], 2.0);
  EXPECT_DOUBLE_EQ(f[1], 10.0);
  for (double v : J) EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace parafit
