// detail::vexp, the vectorisable exp of the model row loops, against std::exp and a long double
// reference; and the promise that makes it usable: the baseline and AVX2 copies of every
// exp-based model's row loops give bitwise identical f and J.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model/fast_exp.h"
#include "parafit/model.h"

namespace parafit::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Distance in representable doubles between two non-negative results (0, subnormals and inf
// included: their bit patterns are ordered like their values).
std::int64_t ulp_distance(double a, double b) {
  const auto ia = std::bit_cast<std::int64_t>(a);
  const auto ib = std::bit_cast<std::int64_t>(b);
  return ia > ib ? ia - ib : ib - ia;
}

// Error of `got` against the exact value, in ulps of the exact value's binade. The reference is
// expl in long double (64-bit significand on x86-64), 11 bits more than needed here.
double ulp_error(double got, long double exact) {
  int e = 0;
  std::frexp(static_cast<double>(exact), &e);
  const long double ulp = std::ldexp(1.0L, std::max(e - 53, -1074));
  return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / ulp);
}

// Worst case of vexp for a normal result, in ulps of the result; the worst is r < 0, where the
// result is below 1 and its ulp half as large. The rounding of r = x - n*ln2 (|r| < 1/2, so at
// most 2^-55) adds 0.25; of the last steps 1 + (r + r^2*h), the final addition 0.5, the inner one
// (|r + r^2*h| < 1/2) 0.25, and r^2*h (< 1/16, three roundings) 0.14; the truncated series 0.04.
// Scaling by 2^n is exact. Total 1.18; glibc's exp is within about 0.51 ulp, so the two are less
// than 2 ulps apart: at most one double.
constexpr double kVexpMaxUlpError = 1.2;

TEST(ModelFastExp, WithinOneUlpOfStdExp) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> wide(-708.3, 709.78);  // normal results
  std::uniform_real_distribution<double> narrow(-2.0, 2.0);
  std::uniform_real_distribution<double> tiny_exp(-60.0, -1.0);  // |x| from 1e-26 to 0.37
  const bool have_reference = std::numeric_limits<long double>::digits >= 64;
  double worst = 0.0;
  for (int i = 0; i < 3'000'000; ++i) {
    double x = 0;
    switch (i % 3) {
      case 0: x = wide(rng); break;
      case 1: x = narrow(rng); break;
      default: x = (i % 2 ? 1.0 : -1.0) * std::exp2(tiny_exp(rng)); break;
    }
    const double v = vexp(x);
    ASSERT_LE(ulp_distance(v, std::exp(x)), 1) << "x=" << x;
    if (have_reference) {
      const double err = ulp_error(v, std::exp(static_cast<long double>(x)));
      worst = std::max(worst, err);
      ASSERT_LE(err, kVexpMaxUlpError) << "x=" << x;
    }
  }
  RecordProperty("worst_ulp_error", std::to_string(worst));  // 0.98 on x86-64
}

TEST(ModelFastExp, ExactWhereExpIsExact) {
  EXPECT_EQ(vexp(0.0), 1.0);
  EXPECT_EQ(vexp(-0.0), 1.0);
  EXPECT_EQ(vexp(std::numeric_limits<double>::denorm_min()), 1.0);
  EXPECT_EQ(vexp(-std::numeric_limits<double>::denorm_min()), 1.0);
  EXPECT_EQ(vexp(1e-300), 1.0);
}

TEST(ModelFastExp, SpecialValues) {
  EXPECT_TRUE(std::isnan(vexp(kNaN)));
  EXPECT_TRUE(std::isnan(vexp(-kNaN)));
  EXPECT_EQ(vexp(kInf), kInf);
  EXPECT_EQ(vexp(-kInf), 0.0);
  EXPECT_FALSE(std::signbit(vexp(-kInf)));
  EXPECT_EQ(vexp(710.0), kInf);
  EXPECT_EQ(vexp(1e300), kInf);
  EXPECT_EQ(vexp(std::numeric_limits<double>::max()), kInf);
  EXPECT_EQ(vexp(-746.0), 0.0);
  EXPECT_EQ(vexp(-1e300), 0.0);
  EXPECT_EQ(vexp(-std::numeric_limits<double>::max()), 0.0);
}

// ln(DBL_MAX) = 709.782712893384: the largest finite result and the first infinite one.
TEST(ModelFastExp, OverflowThreshold) {
  const double ln_max = std::log(std::numeric_limits<double>::max());
  EXPECT_TRUE(std::isfinite(vexp(709.78)));
  EXPECT_LE(ulp_distance(vexp(709.78), std::exp(709.78)), 1);
  double x = ln_max;
  for (int i = 0; i < 200; ++i) x = std::nextafter(x, 0.0);
  for (int i = 0; i < 400; ++i, x = std::nextafter(x, kInf)) {
    // Counting inf as the double after DBL_MAX, one step either way is still allowed.
    EXPECT_LE(ulp_distance(vexp(x), std::exp(x)), 1) << "x=" << x;
  }
  EXPECT_EQ(vexp(std::nextafter(ln_max, kInf) + 1e-12), kInf);
}

// Gradual underflow: below x = -708.4 the result is subnormal and must lose precision the way
// std::exp does (one rounding to the subnormal grid), reaching 0 just below x = -745.13.
TEST(ModelFastExp, SubnormalResults) {
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> sub(-745.3, -708.3);
  for (int i = 0; i < 200'000; ++i) {
    const double x = sub(rng);
    ASSERT_LE(ulp_distance(vexp(x), std::exp(x)), 1) << "x=" << x;
  }
  for (double x : {-708.5, -720.0, -740.0, -745.0, -745.1}) {
    EXPECT_GT(vexp(x), 0.0) << x;
    EXPECT_LE(ulp_distance(vexp(x), std::exp(x)), 1) << x;
  }
  EXPECT_EQ(vexp(-745.2), 0.0);
}

// ---- The two copies of the model row loops ----

struct ModelCase {
  std::string name;
  std::vector<std::vector<double>> thetas;
  double x_lo, x_hi;
};

// Every built-in family whose loops call vexp, with parameters that also push the exponentials
// into overflow, underflow and the subnormals.
std::vector<ModelCase> exp_models() {
  return {
      {"exp-decay", {{2.5, 1.3, 0.5}, {-1.5, 1.2, 0.4}, {5.0, -90.0, -2.0}, {1.0, 150.0, 0.0}},
       -8.0, 8.0},
      {"exp-growth", {{1.0, 1.0}, {-0.7, -0.5}, {3.0, 100.0}, {1e-300, -95.0}}, -8.0, 8.0},
      {"asymptotic", {{10.0, 2.0, -1.0}, {-1.0, 3.0, 0.5}, {5.0, 5.5, 4.6}}, -10.0, 10.0},
      {"gauss", {{3.0, 5.0, 1.5, 0.5}, {-2.0, 1.0, 0.3, 1.0}, {1.0, 0.0, 0.02, -1.0}}, -5.0, 15.0},
      {"logistic4",
       {{10.0, 1.5, 5.0, 1.0}, {0.2, 3.0, 2.0, 8.0}, {1.0, -1.0, 3.0, 0.0}, {4.0, 400.0, 2.0, 1.0}},
       -1.0, 20.0},
      {"gompertz", {{10.0, 5.0, 0.5}, {2.0, 0.5, 2.0}, {-3.0, 2.0, 90.0}}, -10.0, 15.0},
      {"power", {{2.0, 0.5}, {-1.0, -1.3}, {0.3, 2.2}, {1.0, 300.0}, {1.0, -300.0}}, -1.0, 20.0},
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
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = i % 17 == 3 ? specials[(i / 17) % std::size(specials)] : u(rng);
  }
  return x;
}

struct Evaluation {
  std::vector<double> f_only, f, J;
};

// evaluate() with and without J, on rows [offset, offset + n) of x: the offset misaligns the
// pointers, and n exercises the vector body, the vector epilogue and the scalar tail.
Evaluation evaluate_with(LoopIsa isa, const Model& m, const std::vector<double>& theta,
                         const std::vector<double>& x, std::size_t offset, std::size_t n) {
  const ScopedLoopIsa force(isa);
  Evaluation e;  // one element more than written: both copies must leave it alone
  e.f_only.assign(n + 1, 0.0);
  e.f.assign(n + 1, 0.0);
  e.J.assign(n * theta.size() + 1, 0.0);
  const double* in[] = {x.data() + offset};
  m.evaluate(theta.data(), RowBlock{n, in}, e.f_only.data(), nullptr, 0);
  m.evaluate(theta.data(), RowBlock{n, in}, e.f.data(), e.J.data(), n);
  return e;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Index of the first element whose bits differ, for the failure message.
std::string first_difference(const std::vector<double>& a, const std::vector<double>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) {
      std::ostringstream out;
      out << "element " << i << ": " << std::setprecision(17) << a[i] << " vs " << b[i];
      return out.str();
    }
  }
  return "sizes differ";
}

TEST(ModelFastExp, DispatchPicksAvx2WhereTheCpuHasIt) {
  EXPECT_EQ(active_loop_isa(), cpu_has_avx2() ? LoopIsa::avx2 : LoopIsa::baseline);
  {
    const ScopedLoopIsa force(LoopIsa::baseline);
    EXPECT_EQ(active_loop_isa(), LoopIsa::baseline);
    {
      const ScopedLoopIsa inner(LoopIsa::avx2);
      // Forcing AVX2 where it is missing falls back instead of faulting.
      EXPECT_EQ(active_loop_isa(), cpu_has_avx2() ? LoopIsa::avx2 : LoopIsa::baseline);
    }
    EXPECT_EQ(active_loop_isa(), LoopIsa::baseline);
  }
  EXPECT_EQ(active_loop_isa(), cpu_has_avx2() ? LoopIsa::avx2 : LoopIsa::baseline);
}

// The reason vexp replaced std::exp on every path: whichever copy of the loops runs, and so on
// whichever machine, a model gives the same bits, and a fit the same result.
TEST(ModelFastExp, Avx2AndBaselineLoopsGiveIdenticalBits) {
  if (!cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2: only the baseline loops can run";
  std::uint64_t seed = 1;
  for (const ModelCase& c : exp_models()) {
    SCOPED_TRACE(c.name);
    const auto m = make_builtin_model(c.name);
    const std::vector<double> x = awkward_xs(1100, c.x_lo, c.x_hi, ++seed);
    for (const auto& theta : c.thetas) {
      ASSERT_EQ(theta.size(), m->num_parameters());
      for (const std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5},
                                    std::size_t{7}, std::size_t{13}, std::size_t{256},
                                    std::size_t{1093}}) {
          if (offset + n > x.size()) continue;
          const Evaluation base = evaluate_with(LoopIsa::baseline, *m, theta, x, offset, n);
          const Evaluation avx2 = evaluate_with(LoopIsa::avx2, *m, theta, x, offset, n);
          EXPECT_TRUE(same_bits(base.f_only, avx2.f_only))
              << "f without J, n=" << n << " offset=" << offset << ", "
              << first_difference(base.f_only, avx2.f_only);
          EXPECT_TRUE(same_bits(base.f, avx2.f)) << "f with J, n=" << n << " offset=" << offset
                                                 << ", " << first_difference(base.f, avx2.f);
          EXPECT_TRUE(same_bits(base.J, avx2.J)) << "J, n=" << n << " offset=" << offset << ", "
                                                 << first_difference(base.J, avx2.J);
        }
      }
    }
  }
}

// exp-growth at a = b = 1 is vexp itself, as compiled into the library: both copies agree bit
// for bit with std::exp's special values and stay within an ulp of it on the edge inputs.
TEST(ModelFastExp, LibraryVexpInBothCopies) {
  const auto m = make_builtin_model("exp-growth");
  std::vector<double> x = {0.0,    -0.0,   kNaN,   kInf,   -kInf, 710.0, -746.0,
                           709.78, -708.5, -745.0, -745.2, 1e-300, 0.5,  -0.5};
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> wide(-745.3, 709.78);
  for (int i = 0; i < 4000; ++i) x.push_back(wide(rng));
  for (const LoopIsa isa : {LoopIsa::baseline, LoopIsa::avx2}) {
    if (isa == LoopIsa::avx2 && !cpu_has_avx2()) continue;
    const Evaluation e = evaluate_with(isa, *m, {1.0, 1.0}, x, 0, x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double want = std::exp(x[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(e.f_only[i])) << "x=" << x[i];
      } else {
        EXPECT_LE(ulp_distance(e.f_only[i], want), 1) << "x=" << x[i];
      }
    }
  }
}

}  // namespace
}  // namespace parafit::detail
