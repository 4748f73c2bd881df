// Jacobians of formulas: against central finite differences for every operator and function,
// against hand-written derivatives, over blocks of odd sizes, and under concurrent use.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <thread>

#include "expr/formula_test_util.h"

namespace parafit {
namespace {

using formula_test::close;
using formula_test::Columns;
using formula_test::evaluate;

struct FdCase {
  std::string formula;
  std::vector<double> theta;
};

// gtest prints the formula, not the bytes of the case.
void PrintTo(const FdCase& c, std::ostream* os) { *os << c.formula; }

class FormulaDerivative : public ::testing::TestWithParam<FdCase> {};

// Central differences with a step relative to the parameter: error O(h^2) ~ 1e-10 relative, far
// below the 1e-6 tolerance, and far above rounding (1e-16 / 1e-5).
TEST_P(FormulaDerivative, MatchesCentralDifferences) {
  const FdCase& c = GetParam();
  const CompiledFormula cf = compile_formula({c.formula, {"x", "z"}, {}, {}});
  ASSERT_EQ(cf.model->num_parameters(), c.theta.size());
  Columns cols;
  for (const std::string& in : cf.inputs) cols[in] = {};
  for (int i = 0; i < 23; ++i) {
    const double x = 0.15 + 0.11 * i;
    for (auto& [name, v] : cols) v.push_back(name == "x" ? x : 1.3 - 0.05 * i);
  }
  if (cols.empty()) cols["x"] = std::vector<double>(23, 0.0);
  const auto e = evaluate(cf, cols, c.theta);
  const std::size_t rows = cols.begin()->second.size();
  for (std::size_t j = 0; j < c.theta.size(); ++j) {
    const double h = 1e-5 * std::max(1.0, std::abs(c.theta[j]));
    std::vector<double> up = c.theta, down = c.theta;
    up[j] += h;
    down[j] -= h;
    const auto fu = evaluate(cf, cols, up, 1u << 30, false).f;
    const auto fd = evaluate(cf, cols, down, 1u << 30, false).f;
    for (std::size_t i = 0; i < rows; ++i) {
      const double numeric = (fu[i] - fd[i]) / (2 * h);
      EXPECT_TRUE(close(e.J[j * rows + i], numeric, 1e-6))
          << c.formula << ": d/d" << cf.model->parameter_names()[j] << " at row " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    FormulaAll, FormulaDerivative,
    ::testing::Values(
        FdCase{"a*exp(-b*x) + c", {2.5, 1.3, 0.5}}, FdCase{"a + b*x - c/x", {1.0, 2.0, 3.0}},
        FdCase{"a*x/(b + x)", {2.0, 0.7}}, FdCase{"(a - x)/(b*x)", {2.0, 0.7}},
        FdCase{"-a*x^2 + b^3 - c^-1.5", {1.1, 0.8, 1.7}}, FdCase{"a^b * x^c", {1.4, 0.6, 1.3}},
        FdCase{"a^x", {1.4}}, FdCase{"x^a", {1.4}}, FdCase{"a**b**c", {1.2, 1.1, 0.9}},
        FdCase{"exp(a*x) + log(b*x) + log10(c*x) + log2(d*x)", {0.3, 1.2, 2.0, 0.5}},
        FdCase{"sqrt(a*x) + cbrt(b*x) + abs(c*x - 1)", {1.2, 0.4, 0.9}},
        FdCase{"sin(a*x) + cos(b*x) + tan(c*x)", {0.5, 1.2, 0.3}},
        FdCase{"asin(a*x) + acos(b*x) + atan(c*x)", {0.2, 0.25, 3.0}},
        FdCase{"sinh(a*x) + cosh(b*x) + tanh(c*x)", {0.5, 1.2, 0.3}},
        FdCase{"erf(a*x - 1) + erfc(b*x)", {0.9, 0.4}},
        FdCase{"atan2(a*x, b) + atan2(c, x) + atan2(d, x*a)", {0.9, 0.4, 1.1, -0.3}},
        FdCase{"pow(a*x, b) + pow(c, x)", {0.9, 1.4, 1.5}},
        FdCase{"min(a*x, b) + max(c, x*x) + hypot(a, x*d)", {0.9, 1.1, 0.6, 0.7}},
        FdCase{"b1*(1-exp(-b2*x))", {240.0, 5.5e-4}},
        FdCase{"vmax*x^n/(k^n + x^n)", {12.0, 3.5, 1.8}},
        FdCase{"b1 - b2*x*exp(-b3*z)", {1.0, 2.0, 0.5}},
        // Shared subexpressions and parameters that appear several times.
        FdCase{"exp(-b*x)*a + exp(-b*x)*c + a*a*b", {1.3, 0.7, 2.0}},
        // Uniform parts (no column): derivatives come from the scalar program.
        FdCase{"exp(a)*sin(b) + a*b*x", {0.4, 1.3}}, FdCase{"a*b + c", {0.4, 1.3, 2.0}},
        // The value's buffer is also a Jacobian column (d exp(x+a)/da = exp(x+a)): f and J both get it.
        FdCase{"exp(x + a)", {0.3}}, FdCase{"exp(x + a) + exp(z - b)*c", {0.3, 0.2, 1.5}},
        // A Jacobian column that is an input column (d(a*x)/da = x) or a parameter (d(a*b)/da = b).
        FdCase{"a*x + a*b", {0.3, 0.7}}));

// Hand-written derivatives, exact to rounding.
TEST(FormulaDerivative, AnalyticExpDecay) {
  const CompiledFormula cf = compile_formula({"a*exp(-b*x) + c", {"x"}, {}, {}});
  const std::vector<double> x = {0.0, 0.3, 1.7, 4.9};
  const std::vector<double> t = {2.5, 1.3, 0.5};
  const auto e = evaluate(cf, {{"x", x}}, t);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ex = std::exp(-t[1] * x[i]);
    EXPECT_TRUE(close(e.J[i], ex));
    EXPECT_TRUE(close(e.J[4 + i], -t[0] * x[i] * ex));
    EXPECT_EQ(e.J[8 + i], 1.0);
  }
}

TEST(FormulaDerivative, AnalyticHill) {
  const CompiledFormula cf = compile_formula({"vmax*x^n/(k^n + x^n)", {"x"}, {}, {}});
  const std::vector<double> x = {0.5, 2.0, 7.5};
  const double vmax = 12.0, n = 1.8, k = 3.5;
  const auto e = evaluate(cf, {{"x", x}}, {vmax, n, k});  // order of first appearance: vmax, n, k
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xn = std::pow(x[i], n), kn = std::pow(k, n), d = kn + xn;
    EXPECT_TRUE(close(e.J[i], xn / d, 1e-13));
    // d/dn [xn/(kn+xn)] = (xn ln x (kn+xn) - xn (kn ln k + xn ln x)) / d^2 = xn kn (ln x - ln k) / d^2
    EXPECT_TRUE(close(e.J[3 + i], vmax * xn * kn * (std::log(x[i]) - std::log(k)) / (d * d), 1e-13));
    EXPECT_TRUE(close(e.J[6 + i], -vmax * xn * n * std::pow(k, n - 1) / (d * d), 1e-13));
  }
}

TEST(FormulaDerivative, AnalyticAtan2AndHypot) {
  const CompiledFormula cf = compile_formula({"atan2(a, x) + hypot(b, x)", {"x"}, {}, {}});
  const std::vector<double> x = {-1.0, 0.5, 3.0};
  const double a = 0.7, b = -1.2;
  const auto e = evaluate(cf, {{"x", x}}, {a, b});
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(close(e.J[i], x[i] / (a * a + x[i] * x[i]), 1e-15));
    EXPECT_TRUE(close(e.J[3 + i], b / std::hypot(b, x[i]), 1e-15));
  }
}

// Any block size gives the same bits as one row at a time: the chunking inside evaluate() and
// the caller's blocks must not matter.
TEST(FormulaDerivative, OddBlockSizesSameBits) {
  const CompiledFormula cf = compile_formula({"a*exp(-b*x) + c*sin(x*d) + log(z)*b", {"x", "z"}, {}, {}});
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.1, 5.0);
  Columns cols;
  for (int i = 0; i < 1031; ++i) {
    cols["x"].push_back(u(rng));
    cols["z"].push_back(u(rng));
  }
  const std::vector<double> t = {2.5, 1.3, 0.5, 0.7};
  const auto one = evaluate(cf, cols, t, 1);
  for (std::size_t block : {2u, 7u, 255u, 256u, 257u, 513u, 1000u, 1031u, 5000u}) {
    const auto e = evaluate(cf, cols, t, block);
    EXPECT_EQ(0, std::memcmp(e.f.data(), one.f.data(), e.f.size() * sizeof(double))) << block;
    EXPECT_EQ(0, std::memcmp(e.J.data(), one.J.data(), e.J.size() * sizeof(double))) << block;
    // The value does not depend on whether J is wanted.
    const auto v = evaluate(cf, cols, t, block, false);
    EXPECT_EQ(0, std::memcmp(v.f.data(), one.f.data(), v.f.size() * sizeof(double))) << block;
  }
  EXPECT_TRUE(close(one.f[1030], t[0] * std::exp(-t[1] * cols["x"][1030]) + t[2] * std::sin(cols["x"][1030] * t[3]) +
                                     std::log(cols["z"][1030]) * t[1]));
}

TEST(FormulaDerivative, LeadingDimensionLargerThanBlock) {
  const CompiledFormula cf = compile_formula({"a*x + b", {"x"}, {}, {}});
  const double x[] = {1.0, 2.0, 3.0};
  const double* in[] = {x};
  const double t[] = {2.0, 5.0};
  double f[3];
  std::vector<double> J(20, -1.0);
  cf.model->evaluate(t, RowBlock{3, in}, f, J.data(), 10);
  EXPECT_EQ(J[0], 1.0);
  EXPECT_EQ(J[2], 3.0);
  EXPECT_EQ(J[3], -1.0);  // untouched between the columns
  EXPECT_EQ(J[10], 1.0);
  EXPECT_EQ(J[12], 1.0);
  EXPECT_EQ(J[13], -1.0);
}

TEST(FormulaDerivative, ParameterWithZeroDerivative) {
  // 0*a: a is a parameter of the model, its Jacobian column is exactly 0.
  const CompiledFormula cf = compile_formula({"0*a + b*x", {"x"}, {}, {}});
  const auto e = evaluate(cf, {{"x", {1.0, 2.0}}}, {3.0, 4.0});
  EXPECT_EQ(e.J[0], 0.0);
  EXPECT_EQ(e.J[1], 0.0);
  EXPECT_EQ(e.J[2], 1.0);
  EXPECT_EQ(e.J[3], 2.0);
}

TEST(FormulaDerivative, ThousandParameters) {
  std::string text = "b0";
  for (int j = 1; j < 1000; ++j) text += "+b" + std::to_string(j) + "*x^" + std::to_string(j % 5);
  const CompiledFormula cf = compile_formula({text, {"x"}, {}, {}});
  ASSERT_EQ(cf.model->num_parameters(), 1000u);
  const std::vector<double> x = {0.5, 1.5};
  const auto e = evaluate(cf, {{"x", x}}, std::vector<double>(1000, 0.001));
  for (std::size_t j = 0; j < 1000; ++j)
    for (std::size_t i = 0; i < 2; ++i)
      EXPECT_TRUE(close(e.J[j * 2 + i], j == 0 ? 1.0 : std::pow(x[i], double(j % 5)))) << j;
}

// The solver calls evaluate() on one model from several threads at once.
TEST(FormulaDerivative, ConcurrentEvaluationMatchesSerialBitwise) {
  const CompiledFormula cf =
      compile_formula({"a*exp(-b*x) + c*atan2(x, d) + pow(x, b)*a", {"x"}, {}, {}});
  const std::size_t rows = 20000;
  std::vector<double> x(rows);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 5.0);
  for (double& v : x) v = u(rng);
  const std::vector<double> t = {2.5, 1.3, 0.5, 0.7};
  const auto serial = evaluate(cf, {{"x", x}}, t, 256);

  constexpr int kThreads = 4;
  std::vector<formula_test::Evaluation> results(kThreads);
  std::vector<std::thread> pool;
  for (int k = 0; k < kThreads; ++k) {
    pool.emplace_back([&, k] {
      // Each thread runs the whole data several times with a different block size.
      for (int rep = 0; rep < 5; ++rep) results[std::size_t(k)] = evaluate(cf, {{"x", x}}, t, 100 + 67 * std::size_t(k));
    });
  }
  for (auto& th : pool) th.join();
  for (int k = 0; k < kThreads; ++k) {
    EXPECT_EQ(0, std::memcmp(results[std::size_t(k)].f.data(), serial.f.data(), rows * sizeof(double))) << k;
    EXPECT_EQ(0, std::memcmp(results[std::size_t(k)].J.data(), serial.J.data(), 4 * rows * sizeof(double))) << k;
  }
}

// Several different models on one thread share its scratch memory; each must still be right.
TEST(FormulaDerivative, InterleavedModelsOnOneThread) {
  const CompiledFormula small = compile_formula({"a*x", {"x"}, {}, {}});
  const CompiledFormula big = compile_formula({"a*exp(-b*x)*sin(c*x)*cos(d*x) + e^(a*x) + tanh(b*c*x*d)", {"x"}, {}, {}});
  const std::vector<double> x = {0.5, 1.0, 2.0};
  const auto s1 = evaluate(small, {{"x", x}}, {2.0});
  const auto b1 = evaluate(big, {{"x", x}}, {0.5, 0.4, 0.3, 0.2});
  const auto s2 = evaluate(small, {{"x", x}}, {2.0});
  const auto b2 = evaluate(big, {{"x", x}}, {0.5, 0.4, 0.3, 0.2});
  EXPECT_EQ(s1.f, s2.f);
  EXPECT_EQ(s1.J, s2.J);
  EXPECT_EQ(b1.f, b2.f);
  EXPECT_EQ(b1.J, b2.J);
  EXPECT_EQ(s1.f[2], 4.0);
}

}  // namespace
}  // namespace parafit
