// simd's log: Log of double lanes gives log_scalar's bits on every target, log_scalar is within
// 0.9 ulp of log everywhere (against long double logl, whose own error is ~2^-11 of a double ulp),
// and the special cases are exact.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/test_log.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/log-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void LogArray(const double* x, double* out, std::size_t n) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(out, Log(d, load(x))); });
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <vector>

#include "simd/log_scalar.h"
#include "simd/target.h"

namespace parafit::simd {
HWY_EXPORT(LogArray);
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool same_bits(double a, double b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

// Inputs of every kind: special values, subnormals, around 1 and around sqrt(1/2) (where the
// reduction switches k), random bit patterns over the whole positive range, negatives.
std::vector<double> log_inputs(std::size_t random_count) {
  std::vector<double> x = {1.0, 0.0, -0.0, -1.0, kInf, -kInf, kNaN, std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
                           std::nextafter(1.0, 0.0), std::nextafter(1.0, 2.0), 0x1.6a09e667f3bcdp-1,
                           0x1.6a09e667f3bccp-1, 2.0, 0.5, 10.0, 1e-300, 1e300};
  std::mt19937_64 rng(11);
  for (std::size_t i = 0; i < random_count; ++i) {
    switch (i % 5) {
      case 0: x.push_back(std::bit_cast<double>((rng() >> 1) % 0x7ff0000000000000ULL)); break;
      case 1: {
        const double t = std::ldexp(uniform01(rng), -int(rng() % 60));
        x.push_back(rng() & 1 ? 1.0 + t : 1.0 - t);
        break;
      }
      case 2: x.push_back(0.6 + 0.9 * uniform01(rng)); break;  // around sqrt(1/2) and sqrt(2)
      case 3: x.push_back(std::bit_cast<double>(rng() % 0x0010000000000000ULL)); break;  // subnormal
      default: x.push_back(-std::exp(40.0 * uniform01(rng) - 20.0)); break;              // negative
    }
  }
  x.push_back(3.0);  // an odd count: the tail path runs too
  return x;
}

TEST(SimdLog, SpecialCasesAreExact) {
  EXPECT_TRUE(same_bits(log_scalar(1.0), 0.0));  // +0, not -0
  EXPECT_FALSE(std::signbit(log_scalar(1.0)));
  EXPECT_EQ(log_scalar(0.0), -kInf);
  EXPECT_EQ(log_scalar(-0.0), -kInf);
  EXPECT_TRUE(std::isnan(log_scalar(-1.0)));
  EXPECT_TRUE(std::isnan(log_scalar(-std::numeric_limits<double>::denorm_min())));
  EXPECT_TRUE(std::isnan(log_scalar(-kInf)));
  EXPECT_EQ(log_scalar(kInf), kInf);
  EXPECT_TRUE(std::isnan(log_scalar(kNaN)));
  // Subnormals: log(2^-1074) = -1074 ln 2, correctly rounded here.
  EXPECT_EQ(log_scalar(std::numeric_limits<double>::denorm_min()), std::log(std::numeric_limits<double>::denorm_min()));
  EXPECT_EQ(log_scalar(std::numeric_limits<double>::min()), std::log(std::numeric_limits<double>::min()));
  EXPECT_EQ(log_scalar(2.0), std::log(2.0));
  // Exact powers of two are k*ln2 correctly rounded (the Fast2Sum keeps k*kLn2Lo).
  for (int k = -1074; k <= 1023; ++k) {
    const double x = std::ldexp(1.0, k);
    ASSERT_EQ(log_scalar(x), double(k * std::log(2.0L))) << "2^" << k;
  }
}

TEST(SimdLog, WithinOneUlpOfLogEverywhere) {
  const std::vector<double> x = log_inputs(2'000'000);
  double worst = 0.0;
  double worst_x = 0.0;
  std::size_t differ_from_std = 0;
  std::size_t positive = 0;
  for (const double xi : x) {
    if (!(xi > 0.0) || xi == kInf) continue;
    ++positive;
    const long double ref = std::log(static_cast<long double>(xi));
    const double r = static_cast<double>(ref);
    const double v = log_scalar(xi);
    if (v != std::log(xi)) ++differ_from_std;
    if (r == 0.0) {
      ASSERT_EQ(v, 0.0);
      continue;
    }
    int e = 0;
    std::frexp(r, &e);
    const double ulp = std::ldexp(1.0, e - 53);
    const double err = static_cast<double>(std::fabs(static_cast<long double>(v) - ref)) / ulp;
    if (err > worst) {
      worst = err;
      worst_x = xi;
    }
  }
  std::cout << "[ log_scalar ] " << positive << " positive inputs: largest error " << worst << " ulp at "
            << std::hexfloat << worst_x << std::defaultfloat << "; differs from std::log for " << differ_from_std
            << " (" << 100.0 * double(differ_from_std) / double(positive) << "%)\n";
  // Here about 0.80; the largest found, on 30 million inputs just below sqrt(1/2) (where k = -1
  // cancels most of log m) is 0.873.
  EXPECT_LT(worst, 0.9);
}

TEST(SimdLog, LogHasTheBitsOfLogScalarOnEveryTarget) {
  const std::vector<double> x = log_inputs(20'000);
  for (const TargetInfo& t : available_targets()) {
    ScopedTarget forced(t);
    std::vector<double> out(x.size(), -1.0);
    HWY_DYNAMIC_DISPATCH(LogArray)(x.data(), out.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_TRUE(same_bits(out[i], log_scalar(x[i])))
          << t.name << " log(" << std::hexfloat << x[i] << ") = " << out[i] << ", log_scalar " << log_scalar(x[i]);
  }
}

}  // namespace
}  // namespace parafit::simd
#endif  // HWY_ONCE
