// detail::vexp, the vectorisable exp behind the exponential models, against std::exp. It is
// tested whichever of the two fast_exp() picks for this build.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "model/fast_exp.h"

namespace parafit::detail {
namespace {

// Distance in units in the last place of `want`.
double ulps(double got, double want) {
  if (got == want) return 0.0;
  const double ulp = std::nextafter(std::fabs(want), std::numeric_limits<double>::infinity()) -
                     std::fabs(want);
  return std::fabs(got - want) / ulp;
}

TEST(ModelFastExp, AgreesWithStdExpToAnUlpOrTwo) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> wide(-708.0, 709.0);
  std::uniform_real_distribution<double> narrow(-5.0, 5.0);
  double worst = 0.0;
  for (int i = 0; i < 2000000; ++i) {
    const double x = i % 2 == 0 ? wide(rng) : narrow(rng);
    const double u = ulps(vexp(x), std::exp(x));
    if (u > worst) worst = u;
    ASSERT_LE(u, 2.0) << "x=" << x;
  }
  EXPECT_LE(worst, 2.0);
}

TEST(ModelFastExp, ExactWhereExpIsExact) {
  EXPECT_EQ(vexp(0.0), 1.0);
  EXPECT_EQ(vexp(-0.0), 1.0);
}

TEST(ModelFastExp, SpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(vexp(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(vexp(inf), inf);
  EXPECT_EQ(vexp(-inf), 0.0);
  EXPECT_EQ(vexp(710.0), inf);
  EXPECT_EQ(vexp(1e300), inf);
  EXPECT_EQ(vexp(-746.0), 0.0);
  EXPECT_EQ(vexp(-1e300), 0.0);
  // Largest finite result and the subnormal range.
  EXPECT_LE(ulps(vexp(709.78), std::exp(709.78)), 2.0);
  EXPECT_TRUE(std::isfinite(vexp(709.78)));
  for (double x : {-708.5, -720.0, -740.0, -745.0}) {
    const double want = std::exp(x);
    EXPECT_NEAR(vexp(x), want, 2.0 * std::numeric_limits<double>::denorm_min()) << x;
    EXPECT_GT(vexp(x), 0.0) << x;
  }
}

TEST(ModelFastExp, FastExpIsOneOfTheTwo) {
  for (double x : {-3.5, 0.25, 17.0}) {
    const double f = fast_exp(x);
    EXPECT_TRUE(f == std::exp(x) || f == vexp(x)) << x;
  }
}

}  // namespace
}  // namespace parafit::detail
