// The SIMD home (src/simd): every target this machine runs is found and can be forced, and the
// vector math gives the same bits on each — against exp_scalar and std::fma, which are independent
// of the target.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/test_simd_targets.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/exp-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void ExpArray(const double* x, double* out, std::size_t n) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(out, Exp(d, load(x))); });
}

template <class T>
void FmaArray(const T* a, const T* b, const T* c, T* out, std::size_t n) {
  const hn::ScalableTag<T> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(out, MulAddExact(load(a), load(b), load(c))); });
}
void FmaArrayF(const float* a, const float* b, const float* c, float* out, std::size_t n) { FmaArray(a, b, c, out, n); }
void FmaArrayD(const double* a, const double* b, const double* c, double* out, std::size_t n) { FmaArray(a, b, c, out, n); }

// A kSumLanes-lane sum of x, lane i mod kSumLanes, combined (l0 + l1) + (l2 + l3).
double LaneSum(const double* x, std::size_t n) {
  const SumTag d;
  const std::size_t L = hn::Lanes(d);
  hn::Vec<SumTag> acc[kSumRegs];
  for (std::size_t r = 0; r < kSumRegs; ++r) acc[r] = hn::Zero(d);
  for (std::size_t i = 0; i + kSumLanes <= n; i += kSumLanes)
    for (std::size_t r = 0; r < kSumRegs; ++r) acc[r] = hn::Add(acc[r], hn::LoadU(d, x + i + r * L));
  HWY_ALIGN double lanes[kSumLanes];
  for (std::size_t r = 0; r < kSumRegs; ++r) hn::StoreU(acc[r], d, lanes + r * L);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "parafit/error.h"
#include "simd/exp_scalar.h"
#include "simd/target.h"

namespace parafit::simd {
HWY_EXPORT(ExpArray);
HWY_EXPORT(FmaArrayF);
HWY_EXPORT(FmaArrayD);
HWY_EXPORT(LaneSum);
namespace {

template <class T>
bool same_bits(T a, T b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>>(a) ==
                                             std::bit_cast<std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>>(b);
}

TEST(SimdTargets, TheBestAvailableTargetIsActiveAndEachCanBeForced) {
  const std::vector<TargetInfo> all = available_targets();
  ASSERT_FALSE(all.empty());
  // The fallback without SIMD is always there, and worst (SCALAR with GCC 12, EMU128 with clang).
  EXPECT_TRUE(all.back().name == "SCALAR" || all.back().name == "EMU128") << all.back().name;
  EXPECT_EQ(active_target().name, all.front().name);
  for (const TargetInfo& t : all) {
    ScopedTarget forced(t);
    EXPECT_EQ(active_target().name, t.name);
  }
  EXPECT_EQ(active_target().name, all.front().name);  // restored
  EXPECT_EQ(find_target("baseline").name, all.back().name);
  EXPECT_EQ(find_target("scalar").name, all.back().name);
#if HWY_ARCH_X86
  if (all.front().name == "AVX3") {
    EXPECT_EQ(find_target("avx512").name, "AVX3");
    EXPECT_EQ(all.front().double_lanes, 8u);
  }
#endif
}

TEST(SimdTargets, AnUnknownTargetIsAUsageErrorNamingTheAvailableOnes) {
  try {
    find_target("avx1024");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.is_usage());
    EXPECT_NE(std::string(e.what()).find("'avx1024' is not available"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(available_targets().back().name), std::string::npos) << e.what();
  }
}

std::vector<double> exp_inputs() {
  std::vector<double> x = {0.0, -0.0, 1.0, -1.0, 0.5, 709.78, 709.79, -745.1, -745.2, -708.4, -720.0, 746.0,
                           800.0, -800.0, 1e-300, -1e-300,
                           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min()};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-750.0, 750.0), narrow(-3.0, 3.0);
  for (int i = 0; i < 4000; ++i) x.push_back(i % 2 ? wide(rng) : narrow(rng));
  x.push_back(0.25);  // an odd count: the tail path runs too
  return x;
}

TEST(SimdTargets, ExpHasTheBitsOfExpScalarOnEveryTarget) {
  const std::vector<double> x = exp_inputs();
  for (const TargetInfo& t : available_targets()) {
    ScopedTarget forced(t);
    std::vector<double> out(x.size(), -1.0);
    HWY_DYNAMIC_DISPATCH(ExpArray)(x.data(), out.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_TRUE(same_bits(out[i], exp_scalar(x[i]))) << t.name << " exp(" << x[i] << ") = " << out[i]
                                                       << ", exp_scalar " << exp_scalar(x[i]);
  }
}

template <class T, class Fn>
void check_fma(Fn fn) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<T> u(-2, 2);
  const std::size_t n = 1003;
  std::vector<T> a(n), b(n), c(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = u(rng);
    b[i] = u(rng);
    c[i] = -a[i] * b[i];  // a*b - round(a*b): the FMA's exact low part, which Mul+Add loses
  }
  for (const TargetInfo& t : available_targets()) {
    ScopedTarget forced(t);
    std::vector<T> out(n);
    fn(a.data(), b.data(), c.data(), out.data(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(same_bits(out[i], std::fma(a[i], b[i], c[i]))) << t.name << " " << i;
  }
}

TEST(SimdTargets, MulAddExactRoundsOnceOnEveryTarget) {
  check_fma<float>([](auto... args) { HWY_DYNAMIC_DISPATCH(FmaArrayF)(args...); });
  check_fma<double>([](auto... args) { HWY_DYNAMIC_DISPATCH(FmaArrayD)(args...); });
}

TEST(SimdTargets, SumsOverRowsUseTheSameLanesOnEveryTarget) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1e3, 1e3);
  std::vector<double> x(4096);
  for (double& v : x) v = u(rng);
  double lanes[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < x.size(); ++i) lanes[i % 4] += x[i];
  const double expect = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (const TargetInfo& t : available_targets()) {
    ScopedTarget forced(t);
    EXPECT_TRUE(same_bits(HWY_DYNAMIC_DISPATCH(LaneSum)(x.data(), x.size()), expect)) << t.name;
  }
}

}  // namespace
}  // namespace parafit::simd
#endif  // HWY_ONCE
