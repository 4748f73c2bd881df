#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "parafit/exact_sum.h"

namespace parafit {
namespace {

double exact_of(const std::vector<double>& values) {
  ExactSum s(1);
  for (double v : values) s.add(0, v);
  return s.round(0);
}

TEST(ExactSum, SumsThatFloatingPointGetsWrong) {
  // 1e100 + 1 - 1e100 is 0 in floating point; exactly it is 1.
  EXPECT_EQ(exact_of({1e100, 1.0, -1e100}), 1.0);
  // The doubles 0.1, 0.2 and 0.3 are not the decimals: their exact sum is 2^-55 + 2^-56 ... as
  // computed with long double below, where every partial sum is exact (64-bit mantissa).
  EXPECT_EQ(exact_of({0.1, 0.2, -0.3}), double((long double)0.1 + (long double)0.2 - (long double)0.3));
  // Catastrophic cancellation across the whole exponent range.
  EXPECT_EQ(exact_of({1e308, 1e-300, -1e308}), 1e-300);
  EXPECT_EQ(exact_of({std::numeric_limits<double>::denorm_min(), 1.0, -1.0}),
            std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(exact_of({}), 0.0);
  EXPECT_EQ(exact_of({-3.5, -0.25}), -3.75);
}

TEST(ExactSum, ResultDoesNotDependOnOrderOrGrouping) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> mant(-1.0, 1.0);
  std::uniform_int_distribution<int> expo(-60, 60);
  std::vector<double> v(5000);
  for (auto& x : v) x = std::ldexp(mant(rng), expo(rng));
  const double forward = exact_of(v);
  std::reverse(v.begin(), v.end());
  EXPECT_EQ(exact_of(v), forward);
  std::shuffle(v.begin(), v.end(), rng);
  EXPECT_EQ(exact_of(v), forward);
  // Split into three accumulators and merge in different orders.
  ExactSum a(1), b(1), c(1);
  for (std::size_t i = 0; i < v.size(); ++i) (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(0, v[i]);
  ExactSum ab = a;
  ab.merge(b);
  ab.merge(c);
  ExactSum cb = c;
  cb.merge(b);
  cb.merge(a);
  EXPECT_EQ(ab.round(0), forward);
  EXPECT_EQ(cb.round(0), forward);
}

TEST(ExactSum, RoundsCorrectlyToNearest) {
  // 1 + 2^-53 is a tie between 1 and 1+2^-52: ties go to even (1). Adding a tiny bit more makes
  // it round up, which only a correctly rounded (sticky-bit) conversion gets right.
  EXPECT_EQ(exact_of({1.0, 0x1p-53}), 1.0);
  EXPECT_EQ(exact_of({1.0, 0x1p-53, 0x1p-200}), 1.0 + 0x1p-52);
  EXPECT_EQ(exact_of({-1.0, -0x1p-53, -0x1p-200}), -(1.0 + 0x1p-52));
}

TEST(ExactSum, RawLimbSumEqualsMerge) {
  // What an all-reduce does: normalise each, add limbs as integers.
  ExactSum a(2), b(2);
  a.add(std::vector<double>{1e20, -7.25});
  b.add(std::vector<double>{-1e20, 1e-10});
  ExactSum merged = a;
  merged.merge(b);
  a.normalize();
  b.normalize();
  for (std::size_t i = 0; i < a.limbs().size(); ++i) a.limbs()[i] += b.limbs()[i];
  EXPECT_EQ(a.round(0), merged.round(0));
  EXPECT_EQ(a.round(1), merged.round(1));
  EXPECT_EQ(merged.round(0), 0.0);
  EXPECT_EQ(merged.round(1), -7.25 + 1e-10);
}

TEST(ExactSum, NonFiniteValuesPropagate) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(exact_of({1.0, inf}), inf);
  EXPECT_EQ(exact_of({-inf, 1.0}), -inf);
  EXPECT_TRUE(std::isnan(exact_of({inf, -inf})));
  EXPECT_TRUE(std::isnan(exact_of({1.0, std::nan("")})));
}

}  // namespace
}  // namespace parafit
