// simd::exp_scalar — whose bits simd's vector Exp has on every target (tests/simd/
// test_simd_targets.cpp) — against std::exp and a long double reference: within 1.2 ulp, overflow,
// gradual underflow, special values. (The per-target bits of the model row loops that use it are
// tested in tests/model/test_family_targets.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "simd/exp_scalar.h"

namespace parafit::simd {
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

// Worst case of exp_scalar for a normal result, in ulps of the result; the worst is r < 0, where the
// result is below 1 and its ulp half as large. The rounding of r = x - n*ln2 (|r| < 1/2, so at
// most 2^-55) adds 0.25; of the last steps 1 + (r + r^2*h), the final addition 0.5, the inner one
// (|r + r^2*h| < 1/2) 0.25, and r^2*h (< 1/16, three roundings) 0.14; the truncated series 0.04.
// Scaling by 2^n is exact. Total 1.18; glibc's exp is within about 0.51 ulp, so the two are less
// than 2 ulps apart: at most one double.
constexpr double kExpMaxUlpError = 1.2;

TEST(ExpScalar, WithinOneUlpOfStdExp) {
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
    const double v = exp_scalar(x);
    ASSERT_LE(ulp_distance(v, std::exp(x)), 1) << "x=" << x;
    if (have_reference) {
      const double err = ulp_error(v, std::exp(static_cast<long double>(x)));
      worst = std::max(worst, err);
      ASSERT_LE(err, kExpMaxUlpError) << "x=" << x;
    }
  }
  RecordProperty("worst_ulp_error", std::to_string(worst));  // 0.98 on x86-64
}

TEST(ExpScalar, ExactWhereExpIsExact) {
  EXPECT_EQ(exp_scalar(0.0), 1.0);
  EXPECT_EQ(exp_scalar(-0.0), 1.0);
  EXPECT_EQ(exp_scalar(std::numeric_limits<double>::denorm_min()), 1.0);
  EXPECT_EQ(exp_scalar(-std::numeric_limits<double>::denorm_min()), 1.0);
  EXPECT_EQ(exp_scalar(1e-300), 1.0);
}

TEST(ExpScalar, SpecialValues) {
  EXPECT_TRUE(std::isnan(exp_scalar(kNaN)));
  EXPECT_TRUE(std::isnan(exp_scalar(-kNaN)));
  EXPECT_EQ(exp_scalar(kInf), kInf);
  EXPECT_EQ(exp_scalar(-kInf), 0.0);
  EXPECT_FALSE(std::signbit(exp_scalar(-kInf)));
  EXPECT_EQ(exp_scalar(710.0), kInf);
  EXPECT_EQ(exp_scalar(1e300), kInf);
  EXPECT_EQ(exp_scalar(std::numeric_limits<double>::max()), kInf);
  EXPECT_EQ(exp_scalar(-746.0), 0.0);
  EXPECT_EQ(exp_scalar(-1e300), 0.0);
  EXPECT_EQ(exp_scalar(-std::numeric_limits<double>::max()), 0.0);
}

// ln(DBL_MAX) = 709.782712893384: the largest finite result and the first infinite one.
TEST(ExpScalar, OverflowThreshold) {
  const double ln_max = std::log(std::numeric_limits<double>::max());
  EXPECT_TRUE(std::isfinite(exp_scalar(709.78)));
  EXPECT_LE(ulp_distance(exp_scalar(709.78), std::exp(709.78)), 1);
  double x = ln_max;
  for (int i = 0; i < 200; ++i) x = std::nextafter(x, 0.0);
  for (int i = 0; i < 400; ++i, x = std::nextafter(x, kInf)) {
    // Counting inf as the double after DBL_MAX, one step either way is still allowed.
    EXPECT_LE(ulp_distance(exp_scalar(x), std::exp(x)), 1) << "x=" << x;
  }
  EXPECT_EQ(exp_scalar(std::nextafter(ln_max, kInf) + 1e-12), kInf);
}

// Gradual underflow: below x = -708.4 the result is subnormal and must lose precision the way
// std::exp does (one rounding to the subnormal grid), reaching 0 just below x = -745.13.
TEST(ExpScalar, SubnormalResults) {
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> sub(-745.3, -708.3);
  for (int i = 0; i < 200'000; ++i) {
    const double x = sub(rng);
    ASSERT_LE(ulp_distance(exp_scalar(x), std::exp(x)), 1) << "x=" << x;
  }
  for (double x : {-708.5, -720.0, -740.0, -745.0, -745.1}) {
    EXPECT_GT(exp_scalar(x), 0.0) << x;
    EXPECT_LE(ulp_distance(exp_scalar(x), std::exp(x)), 1) << x;
  }
  EXPECT_EQ(exp_scalar(-745.2), 0.0);
}

}  // namespace
}  // namespace parafit::simd
