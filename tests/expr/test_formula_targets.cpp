// The formula tape and the log/power family on every SIMD target: each available target, forced
// with simd::ScopedTarget, gives the bits of the SCALAR target (and of the scalar twins exp_scalar
// and log_scalar) for values and derivatives, over row counts that are no multiple of any lane
// count.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "expr/formula_test_util.h"
#include "expr/kernels.h"
#include "parafit/model.h"
#include "simd/exp_scalar.h"
#include "simd/log_scalar.h"
#include "simd/target.h"

namespace parafit {
namespace {

using formula_test::Columns;
using formula_test::Evaluation;

bool same_bits(double a, double b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

::testing::AssertionResult same_bits(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " and " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!same_bits(got[i], want[i]))
      return ::testing::AssertionFailure() << "element " << i << ": " << std::hexfloat << got[i] << " against "
                                           << want[i];
  return ::testing::AssertionSuccess();
}

// 1031 rows (prime): whole vectors and a tail on every target. x covers negatives, zeros, ties
// with the parameters (min/max/abs at their switch points), large and tiny magnitudes.
Columns columns(std::size_t rows = 1031) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  Columns c;
  for (std::size_t i = 0; i < rows; ++i) {
    double x = u(rng);
    if (i % 17 == 0) x = 0.0;
    if (i % 19 == 0) x = 0.5;  // = parameter a below: ties
    if (i % 23 == 0) x = -0.0;
    if (i % 29 == 0) x = 700.0 + x;
    c["x"].push_back(x);
    c["z"].push_back(std::exp(u(rng) * 3.0));  // positive
  }
  return c;
}

// Formulas covering every operation with a vector loop: + - * / min max neg square abs exp log
// and the chain rule's one- and two-term forms, with rows and registers on either side.
const std::vector<std::string> kFormulas = {
    "a*x + b - c/x",
    "x/a - b*x*x + c",
    "(a - x)/(b + z) + x*z/c",
    "min(x, a) + max(b, x)*c + min(a*z, b) - max(c, a*x)",
    "abs(x - a)*b + abs(c)*x - (-x*a) + (x*b)^2",
    "a*exp(-b*z) + c*exp(x/10)",
    "a*log(z) + log(b*z + c) - log(x)",
    "exp(a*log(z))*b + c*log(abs(x)+1) - min(exp(x), z)",
    "sin(a*x) + b*sqrt(z) + c^x + z^a",  // library calls between vector loops
};

const std::vector<double> kTheta = {0.5, 1.25, -0.75};

// A formula compiled under a forced target runs that target's loops: each target hands the tape
// its own copy (so the comparisons below compare different code, not one copy with itself).
TEST(FormulaTargets, EachTargetHasItsOwnLoops) {
  std::vector<expr::ValueKernel> seen;
  std::vector<expr::DerivKernel> seen_chain;
  for (const simd::TargetInfo& t : simd::available_targets()) {
    simd::ScopedTarget forced(t);
    const expr::ValueKernel k = expr::value_kernel(expr::Op::kDiv, true, false, true, true);
    const expr::DerivKernel c = expr::deriv_kernel(true, false, true, true, true);
    ASSERT_NE(k, nullptr);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), k), 0) << t.name;
    EXPECT_EQ(std::count(seen_chain.begin(), seen_chain.end(), c), 0) << t.name;
    seen.push_back(k);
    seen_chain.push_back(c);
  }
  // Registers only, and library functions, have one target-independent loop.
  const simd::TargetInfo scalar = simd::available_targets().back();
  const expr::ValueKernel best = expr::value_kernel(expr::Op::kSin, true, false, true, false);
  simd::ScopedTarget forced(scalar);
  EXPECT_EQ(expr::value_kernel(expr::Op::kSin, true, false, true, false), best);
}

TEST(FormulaTargets, EveryTargetGivesTheBitsOfTheScalarTarget) {
  const Columns cols = columns();
  for (const std::string& text : kFormulas) {
    Evaluation want;
    Evaluation want_f;
    {
      simd::ScopedTarget scalar("scalar");
      const CompiledFormula cf = compile_formula({text, {"x", "z"}, {}, {}});
      want = formula_test::evaluate(cf, cols, kTheta, 300);
      want_f = formula_test::evaluate(cf, cols, kTheta, 300, false);
    }
    EXPECT_TRUE(same_bits(want_f.f, want.f)) << text;
    for (const simd::TargetInfo& t : simd::available_targets()) {
      simd::ScopedTarget forced(t);
      const CompiledFormula cf = compile_formula({text, {"x", "z"}, {}, {}});
      for (const std::size_t block : {1u, 7u, 300u, 1031u}) {
        const Evaluation e = formula_test::evaluate(cf, cols, kTheta, block);
        EXPECT_TRUE(same_bits(e.f, want.f)) << t.name << " '" << text << "' f, blocks of " << block;
        EXPECT_TRUE(same_bits(e.J, want.J)) << t.name << " '" << text << "' J, blocks of " << block;
      }
      const Evaluation v = formula_test::evaluate(cf, cols, kTheta, 300, false);
      EXPECT_TRUE(same_bits(v.f, want.f)) << t.name << " '" << text << "' f without J";
    }
  }
}

// The values against hand-written scalar code with the rules of parafit/jet.h and the scalar twins
// of the vector exp and log: the SCALAR target is not the only witness.
TEST(FormulaTargets, ValuesAndDerivativesHaveTheBitsOfTheScalarRules) {
  const Columns cols = columns();
  const double a = kTheta[0], b = kTheta[1], c = kTheta[2];
  for (const simd::TargetInfo& t : simd::available_targets()) {
    simd::ScopedTarget forced(t);
    const CompiledFormula cf = compile_formula({"a*exp(-b*z) + log(z)/c", {"z"}, {}, {}});
    const Evaluation e = formula_test::evaluate(cf, cols, kTheta);
    const std::size_t n = cols.at("z").size();
    for (std::size_t i = 0; i < n; ++i) {
      const double z = cols.at("z")[i];
      const double ex = simd::exp_scalar(-b * z);
      const double l = simd::log_scalar(z);
      const double q = l / c;
      ASSERT_TRUE(same_bits(e.f[i], a * ex + q)) << t.name << " row " << i;
      ASSERT_TRUE(same_bits(e.J[i], ex)) << t.name << " row " << i;
      // d/db: d(-b*z)/db = -z, times exp's partial (its value), times a.
      ASSERT_TRUE(same_bits(e.J[n + i], a * (ex * -z))) << t.name << " row " << i;
      // d/dc of l/c: div_rule's db = -(l/c) * (1/c).
      ASSERT_TRUE(same_bits(e.J[2 * n + i], -q * (1.0 / c))) << t.name << " row " << i;
    }
  }
}

// log and power on every target: the scalar twins' bits, and a formula of the same function
// rounds like the built-in model.
TEST(FormulaTargets, LogAndPowerFamiliesHaveTheSameBitsOnEveryTarget) {
  Columns cols = columns();
  std::vector<double>& x = cols["x"];  // includes 0 and negatives: NaN rows
  x.push_back(std::numeric_limits<double>::denorm_min());
  x.push_back(1.0);
  cols["z"].push_back(1.0);
  cols["z"].push_back(1.0);
  const std::size_t n = x.size();
  const double a = 1.7, b = -0.6;
  for (const simd::TargetInfo& t : simd::available_targets()) {
    simd::ScopedTarget forced(t);
    for (const std::string name : {"log", "power"}) {
      const auto m = make_builtin_model(name);
      std::vector<double> f(n), J(2 * n), f_only(n);
      const double* in[] = {x.data()};
      const double theta[] = {a, b};
      m->evaluate(theta, RowBlock{n, in}, f.data(), J.data(), n);
      m->evaluate(theta, RowBlock{n, in}, f_only.data(), nullptr, n);
      for (std::size_t i = 0; i < n; ++i) {
        const double l = x[i] > 0.0 ? simd::log_scalar(x[i]) : std::numeric_limits<double>::quiet_NaN();
        if (name == "log") {
          ASSERT_TRUE(same_bits(f[i], a + b * l)) << t.name << " " << name << " row " << i;
          ASSERT_TRUE(same_bits(J[i], (l - l) + 1.0)) << t.name << " " << name << " row " << i;
          ASSERT_TRUE(same_bits(J[n + i], l)) << t.name << " " << name << " row " << i;
        } else {
          const double p = simd::exp_scalar(b * l);
          ASSERT_TRUE(same_bits(f[i], a * p)) << t.name << " " << name << " row " << i;
          ASSERT_TRUE(same_bits(J[i], p)) << t.name << " " << name << " row " << i;
          ASSERT_TRUE(same_bits(J[n + i], (a * p) * l)) << t.name << " " << name << " row " << i;
        }
        ASSERT_TRUE(same_bits(f_only[i], f[i])) << t.name << " " << name << " row " << i;
      }
    }
    // The formulas of the same functions, on positive x.
    const Columns pos = {{"z", cols.at("z")}};
    const double theta[] = {a, b};
    const double* in[] = {pos.at("z").data()};
    std::vector<double> f(n), J(2 * n);
    make_builtin_model("log")->evaluate(theta, RowBlock{n, in}, f.data(), J.data(), n);
    const Evaluation fl = formula_test::evaluate(compile_formula({"a + b*log(z)", {"z"}, {}, {}}), pos, {a, b});
    EXPECT_TRUE(same_bits(fl.f, f)) << t.name;
    EXPECT_TRUE(same_bits(fl.J, J)) << t.name;
    make_builtin_model("power")->evaluate(theta, RowBlock{n, in}, f.data(), J.data(), n);
    const Evaluation fp = formula_test::evaluate(compile_formula({"a*exp(b*log(z))", {"z"}, {}, {}}), pos, {a, b});
    EXPECT_TRUE(same_bits(fp.f, f)) << t.name;
  }
}

}  // namespace
}  // namespace parafit
