// The lanes' damped steps (batch/lane_step.h) against solve/damped_step.cpp, lane by lane and bit
// for bit, on every SIMD target: random positive semi-definite systems of 1 to 6 parameters with
// parameters held at a bound, steps clamped into bounds, and systems that are not positive
// definite (refused steps).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "batch/lane_step.h"
#include "simd/target.h"
#include "solve/damped_step.h"

namespace parafit::detail {
namespace {

struct Fit {
  std::size_t q = 0;
  std::vector<double> H, g, scale2, theta, lower, upper;
  std::unique_ptr<bool[]> held;
  double lambda = 0;
  DampedStepInput input() const {
    return {q, H.data(), g.data(), scale2.data(), held.get(), lambda, theta.data(), lower.data(), upper.data()};
  }
};

Fit random_fit(std::size_t q, std::mt19937_64& rng, int kind) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit(0, 1);
  Fit f;
  f.q = q;
  // H = J^T J of a random 8 x q Jacobian with columns of very different scales (kind 1: rank one,
  // positive semi-definite only; kind 2: indefinite, not a Gram matrix).
  std::vector<double> J(8 * q);
  for (std::size_t c = 0; c < q; ++c) {
    const double scale = std::pow(10.0, 3 * unit(rng) - 1.5);
    for (std::size_t r = 0; r < 8; ++r) J[r * q + c] = normal(rng) * scale;
  }
  if (kind == 1)
    for (std::size_t r = 0; r < 8; ++r) {
      J[r * q] = normal(rng);
      for (std::size_t c = 1; c < q; ++c) J[r * q + c] = J[r * q] * double(c + 1);
    }
  f.H.assign(q * q, 0.0);
  for (std::size_t a = 0; a < q; ++a)
    for (std::size_t b = 0; b < q; ++b)
      for (std::size_t r = 0; r < 8; ++r) f.H[a * q + b] += J[r * q + a] * J[r * q + b];
  if (kind == 2)
    for (std::size_t a = 0; a < q; ++a) f.H[a * q + a] = -f.H[a * q + a];
  f.held.reset(new bool[q]);
  for (std::size_t a = 0; a < q; ++a) {
    f.g.push_back(normal(rng) * std::sqrt(std::abs(f.H[a * q + a])));
    f.scale2.push_back(std::abs(f.H[a * q + a]) * (1 + unit(rng)));
    f.theta.push_back(normal(rng));
    const bool boxed = unit(rng) < 0.3;
    f.lower.push_back(boxed ? f.theta.back() - 0.01 : -std::numeric_limits<double>::infinity());
    f.upper.push_back(boxed ? f.theta.back() + 0.01 : std::numeric_limits<double>::infinity());
    f.held[a] = unit(rng) < 0.15;
  }
  f.lambda = kind == 2 ? 1e-9 : std::pow(10.0, 8 * unit(rng) - 6);
  return f;
}

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(LaneStep, EveryLaneHasDampedStepsBitsOnEveryTarget) {
  std::mt19937_64 rng(17);
  std::size_t solved = 0, refused = 0;
  for (const simd::TargetInfo& target : simd::available_targets()) {
    const simd::ScopedTarget scoped(target);
    for (std::size_t q = 1; q <= kMaxLaneStepParameters; ++q)
      for (int round = 0; round < 40; ++round) {
        LaneStepInput in;
        LaneStepOutput out;
        std::vector<Fit> fits;
        for (std::size_t l = 0; l < kFitLanes; ++l) {
          fits.push_back(random_fit(q, rng, round % 5 == 3 ? 1 : round % 5 == 4 ? 2 : 0));
          in.set(l, fits.back().input());
        }
        lane_damped_steps(q, in, out);
        for (std::size_t l = 0; l < kFitLanes; ++l) {
          std::vector<double> work(damped_step_work(q)), trial(q), lane_trial(q);
          const DampedStep want = damped_step(fits[l].input(), trial.data(), work);
          const DampedStep got = out.get(l, q, lane_trial.data());
          ASSERT_EQ(got.solved, want.solved) << target.name << " q " << q << " lane " << l;
          if (!want.solved) {
            ++refused;
            continue;
          }
          ++solved;
          EXPECT_TRUE(same(got.predicted, want.predicted)) << target.name << " q " << q;
          EXPECT_TRUE(same(got.scaled_step, want.scaled_step)) << target.name << " q " << q;
          EXPECT_TRUE(same(got.scaled_theta, want.scaled_theta)) << target.name << " q " << q;
          for (std::size_t a = 0; a < q; ++a) EXPECT_TRUE(same(lane_trial[a], trial[a])) << target.name << " q " << q;
        }
      }
  }
  // Both outcomes were exercised.
  EXPECT_GT(solved, 1000u);
  EXPECT_GT(refused, 50u);
}

}  // namespace
}  // namespace parafit::detail
