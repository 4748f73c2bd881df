// The built-in families' row loops (model/exponential.cpp, gauss.cpp, sigmoid.cpp,
// michaelis_menten.cpp, poly.cpp), written once on Highway: on every available SIMD target (forced with
// simd::ScopedTarget) f and J have the bits of the SCALAR target and of the scalar formulas
// below, which use simd::exp_scalar in the loops' order of operations (the bits parafit gave
// before the loops moved onto Highway). NaN results must be NaN on both sides (their payloads
// are not compared); everything else, signed zeros included, bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parafit/model.h"
#include "simd/exp_scalar.h"
#include "simd/target.h"

namespace parafit::detail {
namespace {

using simd::exp_scalar;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One row of a family: f and the p entries of J at x.
using RowFormula = std::function<void(const std::vector<double>& theta, double x, double& f, double* J)>;

// The scalar formulas, operation for operation as the row loops write them.
void exp_decay(const std::vector<double>& t, double x, double& f, double* J) {
  const double a = t[0], b = t[1], c = t[2];
  const double e = exp_scalar(-b * x);
  f = a * e + c;
  J[0] = e;
  J[1] = -a * x * e;
  J[2] = 1.0;
}

void exp_growth(const std::vector<double>& t, double x, double& f, double* J) {
  const double e = exp_scalar(t[1] * x);
  f = t[0] * e;
  J[0] = e;
  J[1] = f * x;
}

void asymptotic(const std::vector<double>& t, double x, double& f, double* J) {
  const double range = t[1] - t[0];
  const double rate = exp_scalar(t[2]);
  const double e = exp_scalar(-rate * x);
  f = t[0] + range * e;
  J[0] = 1.0 - e;
  J[1] = e;
  J[2] = -range * rate * x * e;
}

void gauss(const std::vector<double>& t, double x, double& f, double* J) {
  const double a = t[0], mu = t[1], s = t[2], c = t[3];
  const double inv_s = 1.0 / s;
  const double z = (x - mu) * inv_s;
  const double e = exp_scalar(-0.5 * z * z);
  const double u = a * inv_s * e * z;
  f = a * e + c;
  J[0] = e;
  J[1] = u;
  J[2] = u * z;
  J[3] = 1.0;
}

void logistic4(const std::vector<double>& t, double x, double& f, double* J) {
  const double a = t[0], b = t[1], c = t[2], d = t[3];
  const double amd = a - d;
  const double inv_c = 1.0 / c;
  const double u = x * inv_c;
  const double l = u > 0.0 ? std::log(u) : (u == 0.0 ? -kInf : kNaN);
  double z = b * l;
  z = std::fabs(z) > 700.0 ? std::copysign(700.0, z) : z;
  const double q = exp_scalar(z);
  const double w = 1.0 / (1.0 + q);
  const double s = q * w;
  f = d + amd * w;
  const double ws = w * s;
  J[0] = w;
  J[1] = -amd * ws * (l == -kInf ? 0.0 : l);
  J[2] = amd * b * inv_c * ws;
  J[3] = s;
}

void gompertz(const std::vector<double>& t, double x, double& f, double* J) {
  const double a = t[0], b = t[1], c = t[2];
  const double g = exp_scalar(-c * x);
  const double h = exp_scalar(-b * g);
  const double gh = g * h;
  f = a * h;
  J[0] = h;
  J[1] = -a * gh;
  J[2] = a * b * x * gh;
}

void michaelis_menten(const std::vector<double>& t, double x, double& f, double* J) {
  const double r = 1.0 / (t[1] + x);
  const double sat = x * r;
  f = t[0] * sat;
  J[0] = sat;
  J[1] = -t[0] * sat * r;
}

void poly(const std::vector<double>& t, double x, double& f, double* J) {
  const int degree = static_cast<int>(t.size()) - 1;
  f = t[static_cast<std::size_t>(degree)];
  for (int j = degree - 1; j >= 0; --j) f = f * x + t[static_cast<std::size_t>(j)];
  J[0] = 1.0;
  for (int j = 1; j <= degree; ++j) J[j] = J[j - 1] * x;
}

struct FamilyCase {
  std::string name;
  RowFormula formula;
  std::vector<std::vector<double>> thetas;
  double x_lo, x_hi;
};

// Parameters that also push the exponentials into overflow, underflow and the subnormals.
std::vector<FamilyCase> families() {
  return {
      {"exp-decay", exp_decay, {{2.5, 1.3, 0.5}, {-1.5, 1.2, 0.4}, {5.0, -90.0, -2.0}, {1.0, 150.0, 0.0}},
       -8.0, 8.0},
      {"exp-growth", exp_growth, {{1.0, 1.0}, {-0.7, -0.5}, {3.0, 100.0}, {1e-300, -95.0}}, -8.0, 8.0},
      {"asymptotic", asymptotic, {{10.0, 2.0, -1.0}, {-1.0, 3.0, 0.5}, {5.0, 5.5, 4.6}}, -10.0, 10.0},
      {"gauss", gauss, {{3.0, 5.0, 1.5, 0.5}, {-2.0, 1.0, 0.3, 1.0}, {1.0, 0.0, 0.02, -1.0}}, -5.0, 15.0},
      {"logistic4", logistic4,
       {{10.0, 1.5, 5.0, 1.0}, {0.2, 3.0, 2.0, 8.0}, {1.0, -1.0, 3.0, 0.0}, {4.0, 400.0, 2.0, 1.0}},
       -1.0, 20.0},
      {"gompertz", gompertz, {{10.0, 5.0, 0.5}, {2.0, 0.5, 2.0}, {-3.0, 2.0, 90.0}}, -10.0, 15.0},
      {"michaelis-menten", michaelis_menten, {{2.0, 0.5}, {-1.0, 3.0}, {1e300, 1e-300}}, -1.0, 20.0},
      {"poly:0", poly, {{1.5}}, -3.0, 3.0},
      {"poly:1", poly, {{1.5, -2.0}}, -3.0, 3.0},
      {"poly:5", poly, {{0.5, -1.0, 0.3, 0.2, -0.05, 0.01}, {1e300, 1e10, -1e200, 3.0, 0.0, -1e-300}}, -3.0, 3.0},
  };
}

// Random x over the range, with the awkward values mixed in: zero of both signs, NaN, +-inf,
// huge and tiny magnitudes.
std::vector<double> awkward_xs(std::size_t n, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  const double specials[] = {0.0,   -0.0,   kNaN,  kInf,   -kInf,  1e300, -1e300,
                             1e-310, -1e-310, 745.0, -745.0, 709.8, -709.8};
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = i % 17 == 3 ? specials[(i / 17) % std::size(specials)] : u(rng);
  return x;
}

struct Evaluation {
  std::vector<double> f_only, f, J;
};

// evaluate() with and without J on rows [offset, offset + n) of x, on `target`: the offset
// misaligns the pointers, n runs whole vectors and the zero-padded tail. One element more than
// written: it must be left alone.
Evaluation evaluate_on(const simd::TargetInfo& target, const Model& m, const std::vector<double>& theta,
                       const std::vector<double>& x, std::size_t offset, std::size_t n) {
  const simd::ScopedTarget force(target);
  Evaluation e;
  e.f_only.assign(n + 1, -7.0);
  e.f.assign(n + 1, -7.0);
  e.J.assign(n * theta.size() + 1, -7.0);
  const double* in[] = {x.data() + offset};
  m.evaluate(theta.data(), RowBlock{n, in}, e.f_only.data(), nullptr, 0);
  m.evaluate(theta.data(), RowBlock{n, in}, e.f.data(), e.J.data(), n);
  return e;
}

// The scalar formulas, laid out as evaluate_on's result.
Evaluation evaluate_scalar(const RowFormula& formula, const std::vector<double>& theta,
                           const std::vector<double>& x, std::size_t offset, std::size_t n) {
  const std::size_t p = theta.size();
  Evaluation e;
  e.f_only.assign(n + 1, -7.0);
  e.f.assign(n + 1, -7.0);
  e.J.assign(n * p + 1, -7.0);
  std::vector<double> row(p);
  for (std::size_t i = 0; i < n; ++i) {
    formula(theta, x[offset + i], e.f[i], row.data());
    for (std::size_t j = 0; j < p; ++j) e.J[j * n + i] = row[j];
    e.f_only[i] = e.f[i];
  }
  return e;
}

bool same(double a, double b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

::testing::AssertionResult same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) {
      std::ostringstream out;
      out << "element " << i << ": " << std::setprecision(17) << a[i] << " vs " << b[i];
      return ::testing::AssertionFailure() << out.str();
    }
  return ::testing::AssertionSuccess();
}

void expect_same(const Evaluation& want, const Evaluation& got, const std::string& what) {
  EXPECT_TRUE(same_bits(want.f_only, got.f_only)) << what << ": f without J";
  EXPECT_TRUE(same_bits(want.f, got.f)) << what << ": f with J";
  EXPECT_TRUE(same_bits(want.J, got.J)) << what << ": J";
}

TEST(FamilyTargets, EveryTargetGivesTheBitsOfTheScalarFormulasAndOfTheScalarTarget) {
  const simd::TargetInfo scalar = simd::find_target("scalar");
  std::uint64_t seed = 1;
  for (const FamilyCase& c : families()) {
    const auto m = make_builtin_model(c.name);
    const std::vector<double> x = awkward_xs(1100, c.x_lo, c.x_hi, ++seed);
    for (const auto& theta : c.thetas) {
      ASSERT_EQ(theta.size(), m->num_parameters()) << c.name;
      for (const std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5},
                                    std::size_t{7}, std::size_t{9}, std::size_t{13}, std::size_t{256},
                                    std::size_t{1093}}) {
          if (offset + n > x.size()) continue;
          std::ostringstream where;
          where << c.name << " theta[0]=" << theta[0] << " n=" << n << " offset=" << offset;
          const Evaluation want = evaluate_scalar(c.formula, theta, x, offset, n);
          const Evaluation on_scalar = evaluate_on(scalar, *m, theta, x, offset, n);
          expect_same(want, on_scalar, where.str() + " SCALAR vs formulas");
          for (const simd::TargetInfo& t : simd::available_targets())
            expect_same(on_scalar, evaluate_on(t, *m, theta, x, offset, n), where.str() + " " + t.name);
        }
      }
    }
  }
}

// exp-growth at a = b = 1 is simd's Exp itself, as compiled into the library: on every target it
// agrees with std::exp's special values and stays within an ulp of it on the edge inputs.
TEST(FamilyTargets, LibraryExpOnEveryTargetIsWithinAnUlpOfStdExp) {
  const auto m = make_builtin_model("exp-growth");
  std::vector<double> x = {0.0,    -0.0,   kNaN,   kInf,   -kInf, 710.0, -746.0,
                           709.78, -708.5, -745.0, -745.2, 1e-300, 0.5,  -0.5};
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> wide(-745.3, 709.78);
  for (int i = 0; i < 4000; ++i) x.push_back(wide(rng));
  for (const simd::TargetInfo& t : simd::available_targets()) {
    const Evaluation e = evaluate_on(t, *m, {1.0, 1.0}, x, 0, x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double want = std::exp(x[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(e.f_only[i])) << t.name << " x=" << x[i];
      } else {
        const auto ia = std::bit_cast<std::int64_t>(e.f_only[i]);
        const auto ib = std::bit_cast<std::int64_t>(want);
        EXPECT_LE(ia > ib ? ia - ib : ib - ia, 1) << t.name << " x=" << x[i];
      }
    }
  }
}

}  // namespace
}  // namespace parafit::detail
