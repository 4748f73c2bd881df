// The lanes' Poisson sums (batch/lane_kernels.h lane_poisson) against the scalar ones
// (batch/batch_sums.h), lane by lane and bit for bit, on every SIMD target: counts from 0 to
// hundreds against means near and far from them (both branches of the deviance), zero weights,
// and a lane whose mean is not positive at a point in use (a NaN cost).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "batch/batch_sums.h"
#include "batch/deviance.h"
#include "batch/lane_kernels.h"
#include "simd/target.h"

namespace parafit::detail {
namespace {

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(LaneSums, PoissonLanesHaveTheScalarSumsBits) {
  constexpr std::size_t L = kFitLanes, n = 37, q = 3;
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> unit(0, 1);
  std::size_t far = 0, near = 0;
  for (const simd::TargetInfo& target : simd::available_targets()) {
    const simd::ScopedTarget scoped(target);
    for (int round = 0; round < 20; ++round) {
      std::vector<double> y(n * L), f(n * L), w(n * L), J(q * n * L);
      for (std::size_t i = 0; i < n * L; ++i) {
        f[i] = std::exp(6.0 * unit(rng) - 1.0);  // means from 0.4 to 150
        // Counts near the mean (the series) or anywhere (the direct form), some zeros.
        y[i] = unit(rng) < 0.5 ? std::round(f[i] * (1.0 + 0.1 * (unit(rng) - 0.5))) : std::round(200.0 * unit(rng));
        w[i] = unit(rng) < 0.1 ? 0.0 : 0.5 + unit(rng);
        if (y[i] > 0) (std::abs((f[i] - y[i]) / y[i]) < kDevianceSeriesLimit ? near : far)++;
      }
      for (double& v : J) v = unit(rng) - 0.5;
      if (round == 7) f[5 * L + 3] = -1.0;  // lane 3: a non-positive mean at a point in use
      if (round == 7) w[5 * L + 3] = 1.0;
      const double* cols[q] = {J.data(), J.data() + n * L, J.data() + 2 * n * L};
      const std::size_t sums = 1 + q + q * (q + 1) / 2;
      std::vector<double> out(sums * L);
      for (const bool weighted : {false, true}) {
        lane_poisson(n, q, y.data(), f.data(), weighted ? w.data() : nullptr, cols, out.data());
        const std::size_t free[q] = {0, 1, 2};
        for (std::size_t l = 0; l < L; ++l) {
          SmallSums s;
          batch_sums(Estimator::kPoissonMle, FitRows{n, y.data() + l, weighted ? w.data() + l : nullptr, L},
                     f.data() + l, J.data() + l, free, s);
          if (std::isnan(s.cost)) {
            EXPECT_TRUE(std::isnan(out[l])) << target.name << " lane " << l;
            continue;
          }
          EXPECT_TRUE(same(out[l], s.cost)) << target.name << " lane " << l << ": " << out[l] << " " << s.cost;
          for (std::size_t a = 0; a < q; ++a) EXPECT_TRUE(same(out[(1 + a) * L + l], s.g(Eigen::Index(a))));
          std::size_t t = 1 + q;
          for (std::size_t a = 0; a < q; ++a)
            for (std::size_t b = 0; b <= a; ++b, ++t)
              EXPECT_TRUE(same(out[t * L + l], s.H(Eigen::Index(a), Eigen::Index(b)))) << target.name;
        }
      }
    }
  }
  EXPECT_GT(far, 1000u);  // both branches exercised
  EXPECT_GT(near, 1000u);
}

}  // namespace
}  // namespace parafit::detail
