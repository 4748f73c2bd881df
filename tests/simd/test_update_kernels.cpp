// The optimizers' update kernels and the shared array operations give, on every SIMD target, the
// bits of the scalar formulas of parafit/optimizer.h written out here in their order.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "optim/update_kernels.h"
#include "simd/array_ops.h"
#include "simd/target.h"

namespace parafit {
namespace {

std::vector<double> random_vector(std::size_t n, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

void expect_same_bits(const std::vector<double>& a, const std::vector<double>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(std::bit_cast<std::uint64_t>(a[i]), std::bit_cast<std::uint64_t>(b[i])) << what << " element " << i;
}

constexpr std::size_t kN = 1037;  // no lane count divides it: the tail runs too

TEST(UpdateKernels, AdamHasTheScalarFormulasBitsOnEveryTarget) {
  detail::AdamStep c{0.9, 0.999, 0.1, 0.001, 1e-3 / (1 - 0.9 * 0.9), std::sqrt(1 - 0.999 * 0.999), 1e-8, 0.01,
                     1 - 1e-3 * 0.01};
  const auto g = random_vector(kN, 1, -1, 1);
  for (detail::AdamDecay decay : {detail::AdamDecay::kNone, detail::AdamDecay::kL2, detail::AdamDecay::kDecoupled}) {
    std::vector<double> p = random_vector(kN, 2, -1, 1), m = random_vector(kN, 3, -0.1, 0.1),
                        v = random_vector(kN, 4, 0, 0.01);
    std::vector<double> pe = p, me = m, ve = v;
    for (std::size_t i = 0; i < kN; ++i) {
      double pi = pe[i];
      if (decay == detail::AdamDecay::kDecoupled) pi = pi * c.decay;
      const double gi = decay == detail::AdamDecay::kL2 ? g[i] + c.lambda * pi : g[i];
      me[i] = c.b1 * me[i] + c.c1 * gi;
      ve[i] = c.b2 * ve[i] + c.c2 * gi * gi;
      pe[i] = pi - c.step_size * me[i] / (std::sqrt(ve[i]) / c.bias_correction2_sqrt + c.eps);
    }
    for (const simd::TargetInfo& t : simd::available_targets()) {
      simd::ScopedTarget forced(t);
      std::vector<double> pt = p, mt = m, vt = v;
      detail::adam_update(decay, kN, pt.data(), mt.data(), vt.data(), g.data(), c);
      expect_same_bits(pt, pe, t.name + " p");
      expect_same_bits(mt, me, t.name + " m");
      expect_same_bits(vt, ve, t.name + " v");
    }
  }
}

TEST(UpdateKernels, SgdHasTheScalarFormulasBitsOnEveryTarget) {
  const auto g = random_vector(kN, 5, -1, 1);
  const auto p0 = random_vector(kN, 6, -1, 1), b0 = random_vector(kN, 7, -1, 1);
  const double lr = 0.05, lambda = 1e-3, keep = 0.9, take = 0.95, mu = 0.9;
  for (const simd::TargetInfo& t : simd::available_targets()) {
    simd::ScopedTarget forced(t);
    for (double lam : {0.0, lambda}) {
      std::vector<double> pe = p0, pt = p0;
      for (std::size_t i = 0; i < kN; ++i) pe[i] = lam == 0 ? pe[i] - lr * g[i] : pe[i] - lr * (g[i] + lam * pe[i]);
      detail::sgd_update(kN, pt.data(), g.data(), lr, lam);
      expect_same_bits(pt, pe, t.name + " sgd");
    }
    for (bool nesterov : {false, true}) {
      std::vector<double> pe = p0, be = b0, pt = p0, bt = b0;
      for (std::size_t i = 0; i < kN; ++i) {
        const double gt = g[i] + lambda * pe[i];
        be[i] = keep * be[i] + take * gt;
        pe[i] = nesterov ? pe[i] - lr * (gt + mu * be[i]) : pe[i] - lr * be[i];
      }
      detail::sgd_momentum_update(nesterov, kN, pt.data(), bt.data(), g.data(), lr, lambda, keep, take, mu);
      expect_same_bits(pt, pe, t.name + " momentum p");
      expect_same_bits(bt, be, t.name + " momentum b");
    }
  }
}

TEST(ArrayOps, AddAndScaleOnEveryTarget) {
  const auto a0 = random_vector(kN, 8, -1e3, 1e3), b = random_vector(kN, 9, -1e-3, 1e-3);
  std::vector<double> sum = a0, scaled = a0;
  for (std::size_t i = 0; i < kN; ++i) {
    sum[i] = a0[i] + b[i];
    scaled[i] = a0[i] * 0.1;
  }
  for (const simd::TargetInfo& t : simd::available_targets()) {
    simd::ScopedTarget forced(t);
    std::vector<double> a = a0;
    simd::add_arrays(kN, a.data(), b.data());
    expect_same_bits(a, sum, t.name + " add");
    a = a0;
    EXPECT_TRUE(simd::scale_and_check_finite(kN, a.data(), 0.1)) << t.name;
    expect_same_bits(a, scaled, t.name + " scale");
    // One overflow, or one NaN, anywhere (the tail included) is reported.
    for (std::size_t where : {std::size_t{0}, kN / 2, kN - 1}) {
      for (double bad : {1e308, std::numeric_limits<double>::quiet_NaN()}) {
        a = a0;
        a[where] = bad;
        EXPECT_FALSE(simd::scale_and_check_finite(kN, a.data(), 10.0)) << t.name << " at " << where;
      }
    }
  }
}

// The strata tree's order written out: node [lo, hi) = node [lo, mid) + node [mid, hi).
double tree_node(const std::vector<double>& rows, std::size_t stride, std::size_t i, std::size_t lo, std::size_t hi) {
  if (hi - lo == 1) return rows[lo * stride + i];
  const std::size_t mid = lo + (hi - lo) / 2;
  return tree_node(rows, stride, i, lo, mid) + tree_node(rows, stride, i, mid, hi);
}

TEST(ArrayOps, TreeSumIsTheStrataTreeOnEveryTarget) {
  // Magnitudes from 1e-15 to 1e15, so that the order of the additions shows in the bits.
  constexpr std::size_t kStride = kN + 3;
  std::mt19937_64 rng(12);
  std::vector<double> rows(simd::kTreeSumRows * kStride);
  for (double& x : rows) x = (std::uniform_real_distribution<double>(-0.5, 0.5)(rng)) * std::pow(10.0, double(rng() % 31) - 15.0);
  for (std::size_t count = 1; count <= simd::kTreeSumRows; ++count) {
    std::vector<double> expected(kN);
    for (std::size_t i = 0; i < kN; ++i) expected[i] = tree_node(rows, kStride, i, 0, count);
    for (const simd::TargetInfo& t : simd::available_targets()) {
      simd::ScopedTarget forced(t);
      std::vector<double> out(kN);
      simd::tree_sum(count, rows.data(), kStride, kN, out.data());
      expect_same_bits(out, expected, t.name + " tree of " + std::to_string(count));
    }
  }
}

}  // namespace
}  // namespace parafit
