// Jet<N> and AutoDiffModel: the C++ side of the same derivative rules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <random>

#include "expr/formula_test_util.h"
#include "parafit/autodiff.h"
#include "parafit/jet.h"
#include "parafit/levenberg_marquardt.h"

namespace parafit {
namespace {

using formula_test::close;
using J2 = Jet<2>;

TEST(Jet, ArithmeticFollowsTheProductAndQuotientRules) {
  const J2 x(3.0, 0), y(2.0, 1);  // d/dx, d/dy
  const J2 p = x * y;
  EXPECT_EQ(p.a, 6.0);
  EXPECT_EQ(p.v[0], 2.0);
  EXPECT_EQ(p.v[1], 3.0);
  const J2 q = x / y;
  EXPECT_EQ(q.a, 1.5);
  EXPECT_EQ(q.v[0], 0.5);
  EXPECT_EQ(q.v[1], -0.75);  // -x/y^2
  const J2 s = 2.0 * x - y / 4.0 + 1.0;
  EXPECT_EQ(s.a, 6.5);
  EXPECT_EQ(s.v[0], 2.0);
  EXPECT_EQ(s.v[1], -0.25);
  const J2 r = 1.0 / y;
  EXPECT_EQ(r.v[1], -0.25);
  J2 acc = x;
  acc += y;
  acc *= y;
  acc -= 1.0;
  acc /= x;
  // ((x + y) y - 1) / x at (3, 2): value 3; d/dx = -(9)/9 = -1 ... computed below by hand.
  EXPECT_EQ(acc.a, 3.0);
  EXPECT_TRUE(close(acc.v[0], (2.0 * 3.0 - 9.0) / 9.0));   // (y*x - ((x+y)y-1)) / x^2
  EXPECT_TRUE(close(acc.v[1], (3.0 + 2.0 * 2.0) / 3.0));   // (x + 2y) / x
  EXPECT_EQ((-x).v[0], -1.0);
  EXPECT_TRUE(x > y);
  EXPECT_TRUE(x > 2.5);
  EXPECT_FALSE(1.0 > y);
}

// Every function against a central difference of its value.
TEST(Jet, FunctionsMatchCentralDifferences) {
  using F = Jet<1> (*)(const Jet<1>&);
  struct Case {
    const char* name;
    F f;
    double at;
  };
  const Case cases[] = {
      {"exp", [](const Jet<1>& t) { return exp(t); }, 0.7},     {"log", [](const Jet<1>& t) { return log(t); }, 0.7},
      {"log10", [](const Jet<1>& t) { return log10(t); }, 0.7}, {"log2", [](const Jet<1>& t) { return log2(t); }, 0.7},
      {"sqrt", [](const Jet<1>& t) { return sqrt(t); }, 0.7},   {"cbrt", [](const Jet<1>& t) { return cbrt(t); }, -0.7},
      {"abs", [](const Jet<1>& t) { return abs(t); }, -0.7},    {"sin", [](const Jet<1>& t) { return sin(t); }, 0.7},
      {"cos", [](const Jet<1>& t) { return cos(t); }, 0.7},     {"tan", [](const Jet<1>& t) { return tan(t); }, 0.7},
      {"asin", [](const Jet<1>& t) { return asin(t); }, 0.7},   {"acos", [](const Jet<1>& t) { return acos(t); }, 0.7},
      {"atan", [](const Jet<1>& t) { return atan(t); }, 0.7},   {"sinh", [](const Jet<1>& t) { return sinh(t); }, 0.7},
      {"cosh", [](const Jet<1>& t) { return cosh(t); }, 0.7},   {"tanh", [](const Jet<1>& t) { return tanh(t); }, 0.7},
      {"erf", [](const Jet<1>& t) { return erf(t); }, 0.7},     {"erfc", [](const Jet<1>& t) { return erfc(t); }, 0.7},
      {"pow(t,2.5)", [](const Jet<1>& t) { return pow(t, 2.5); }, 0.7},
      {"pow(2.5,t)", [](const Jet<1>& t) { return pow(2.5, t); }, 0.7},
      {"pow(t,t)", [](const Jet<1>& t) { return pow(t, t); }, 0.7},
      {"atan2(t,0.3)", [](const Jet<1>& t) { return atan2(t, 0.3); }, 0.7},
      {"atan2(0.3,t)", [](const Jet<1>& t) { return atan2(0.3, t); }, 0.7},
      {"hypot(t,0.3)", [](const Jet<1>& t) { return hypot(t, 0.3); }, 0.7},
      {"min(t,t*t)", [](const Jet<1>& t) { return min(t, t * t); }, 0.7},
      {"max(t,t*t)", [](const Jet<1>& t) { return max(t, t * t); }, 0.7},
  };
  for (const Case& c : cases) {
    const Jet<1> r = c.f(Jet<1>(c.at, 0));
    const double h = 1e-6;
    const double numeric = (c.f(Jet<1>(c.at + h)).a - c.f(Jet<1>(c.at - h)).a) / (2 * h);
    EXPECT_TRUE(close(r.v[0], numeric, 1e-7)) << c.name;
  }
}

TEST(Jet, RulesAreTheOnesTheFormulaTapeUses) {
  // Same rule, same bits: a formula's Jacobian equals the Jet's for the same expression.
  const CompiledFormula cf = compile_formula({"a*exp(-b*x) + atan2(a, x)*b^1.5", {"x"}, {}, {}});
  const double x = 0.8, a = 1.7, b = 0.6;
  const auto e = formula_test::evaluate(cf, {{"x", {x}}}, {a, b});
  const J2 ja(a, 0), jb(b, 1);
  const J2 r = ja * exp(-jb * x) + atan2(ja, x) * pow(jb, 1.5);
  EXPECT_TRUE(close(e.f[0], r.a, 1e-15));
  EXPECT_TRUE(close(e.J[0], r.v[0], 1e-15));
  EXPECT_TRUE(close(e.J[1], r.v[1], 1e-15));
}

TEST(Jet, UndefinedGivesNaNNotAnException) {
  const Jet<1> r = log(Jet<1>(-1.0, 0));
  EXPECT_TRUE(std::isnan(r.a));
  EXPECT_TRUE(isnan(r));
  EXPECT_FALSE(isfinite(sqrt(Jet<1>(0.0, 0))));  // infinite slope at 0
  // 0^b with b > 0: the exponent's derivative is 0 (the limit), not NaN.
  const J2 z = pow(J2(0.0, 0), J2(2.0, 1));
  EXPECT_EQ(z.a, 0.0);
  EXPECT_EQ(z.v[1], 0.0);
}

struct Hill {
  template <typename T>
  T operator()(const T* theta, const double* x) const {
    using std::pow;
    const T sn = pow(x[0], theta[2]);
    return theta[0] * sn / (pow(theta[1], theta[2]) + sn);
  }
};

struct TwoInputs {
  template <typename T>
  T operator()(const T* t, const double* x) const {
    using std::exp;
    return t[0] - t[1] * x[0] * exp(-t[2] * x[1]);
  }
};

TEST(AutoDiff, HillMatchesTheSameFormula) {
  const AutoDiffModel<Hill, 3> model(Hill{}, {"vmax", "k", "n"}, "hill", "vmax*x^n/(k^n + x^n)");
  EXPECT_EQ(model.name(), "hill");
  EXPECT_EQ(model.formula(), "vmax*x^n/(k^n + x^n)");
  EXPECT_EQ(model.num_parameters(), 3u);
  EXPECT_EQ(model.num_inputs(), 1u);
  const CompiledFormula cf = compile_formula({"vmax*x^n/(k^n + x^n)", {"x"}, {"vmax", "k", "n"}, {}});
  const std::vector<double> x = {0.2, 1.0, 3.5, 9.0, 40.0};
  const std::vector<double> t = {12.0, 3.5, 1.8};
  const auto want = formula_test::evaluate(cf, {{"x", x}}, t);
  std::vector<double> f(5), J(15);
  const double* in[] = {x.data()};
  model.evaluate(t.data(), RowBlock{5, in}, f.data(), J.data(), 5);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_TRUE(close(f[i], want.f[i], 1e-15));
  for (std::size_t i = 0; i < 15; ++i) EXPECT_TRUE(close(J[i], want.J[i], 1e-13)) << i;
  // Values alone (T = double) are the same bits as with the Jacobian.
  std::vector<double> f2(5);
  model.evaluate(t.data(), RowBlock{5, in}, f2.data(), nullptr, 0);
  EXPECT_EQ(0, std::memcmp(f.data(), f2.data(), 5 * sizeof(double)));
}

TEST(AutoDiff, SeveralInputsAndLeadingDimension) {
  const AutoDiffModel<TwoInputs, 3, 2> model(TwoInputs{}, {"b1", "b2", "b3"}, "two", "b1 - b2*x1*exp(-b3*x2)");
  EXPECT_EQ(model.num_inputs(), 2u);
  const double x1[] = {1.0, 2.0}, x2[] = {0.5, 0.25};
  const double* in[] = {x1, x2};
  const double t[] = {1.0, 2.0, 0.3};
  double f[2];
  std::vector<double> J(12, -7.0);
  model.evaluate(t, RowBlock{2, in}, f, J.data(), 4);
  for (std::size_t i = 0; i < 2; ++i) {
    const double e = std::exp(-t[2] * x2[i]);
    EXPECT_TRUE(close(f[i], t[0] - t[1] * x1[i] * e));
    EXPECT_EQ(J[i], 1.0);
    EXPECT_TRUE(close(J[4 + i], -x1[i] * e));
    EXPECT_TRUE(close(J[8 + i], t[1] * x1[i] * x2[i] * e));
  }
  EXPECT_EQ(J[2], -7.0);  // rows past the block are untouched
}

TEST(AutoDiff, WrongNumberOfNamesAndNoSelfStart) {
  EXPECT_THROW((AutoDiffModel<Hill, 3>(Hill{}, {"a", "b"}, "hill", "")), Error);
  const AutoDiffModel<Hill, 3> model(Hill{}, {"vmax", "k", "n"}, "hill", "");
  try {
    model.initial_values({}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model 'hill' has no self-start: give a start value for every parameter (vmax, k, n)");
  }
}

TEST(AutoDiff, FitsWithLevenbergMarquardt) {
  const AutoDiffModel<Hill, 3> model(Hill{}, {"vmax", "k", "n"}, "hill", "");
  const double truth[] = {12.0, 3.5, 1.8};
  std::vector<double> s, v;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 0.01);
  for (int i = 0; i < 300; ++i) {
    const double si = 0.1 * std::pow(10.0, 2.5 * i / 299.0);
    s.push_back(si);
    v.push_back(Hill{}(truth, &si) + noise(rng));
  }
  Problem problem;
  problem.model = &model;
  problem.inputs = {s};
  problem.y = v;
  LevenbergMarquardt solver(problem);
  const auto summary = solver.Minimize(std::vector<double>{5.0, 1.0, 1.0});
  ASSERT_TRUE(summary.IsSolutionUsable()) << summary.message;
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(summary.parameters[std::size_t(j)], truth[j], 0.01 * truth[j]);
}

}  // namespace
}  // namespace parafit
