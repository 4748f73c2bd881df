// simd's exp and log of float lanes (the float32 batch fits' kernels): the same bits on every
// target, within 1.5 ulp (exp) and 1 ulp (log) of the exact values (std::exp and std::log in
// double, whose own error is ~2^-29 of a float ulp), and exact special cases: overflow to inf,
// gradual underflow, -inf at 0, NaN below 0 and for NaN.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/test_exp_log_float.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/exp-inl.h"
#include "simd/log-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void ExpFloatArray(const float* x, float* out, std::size_t n) {
  const hn::ScalableTag<float> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(out, Exp(d, load(x))); });
}
void LogFloatArray(const float* x, float* out, std::size_t n) {
  const hn::ScalableTag<float> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(out, Log(d, load(x))); });
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "simd/target.h"

namespace parafit::simd {
HWY_EXPORT(ExpFloatArray);
HWY_EXPORT(LogFloatArray);
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

bool same_bits(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

// |got - exact| in units of the float ulp at exact (the subnormals' spacing below 2^-126).
double ulps(float got, double exact) {
  const double a = std::max(std::abs(exact), double(std::numeric_limits<float>::min()));
  const double ulp = std::ldexp(1.0, std::ilogb(a) - 23);
  return std::abs(double(got) - exact) / ulp;
}

float uniform(std::mt19937_64& rng, float lo, float hi) {
  return lo + (hi - lo) * float(double(rng() >> 11) * 0x1.0p-53);
}

template <class Run>
std::vector<float> on_every_target(const std::vector<float>& x, Run run) {
  std::vector<float> reference;
  for (const TargetInfo& target : available_targets()) {
    const ScopedTarget scoped(target);
    std::vector<float> out(x.size());
    run(x.data(), out.data(), x.size());
    if (reference.empty()) {
      reference = out;
      continue;
    }
    for (std::size_t i = 0; i < x.size(); ++i)
      EXPECT_TRUE(same_bits(out[i], reference[i])) << target.name << " at x = " << x[i];
  }
  return reference;
}

TEST(ExpFloat, SameBitsOnEveryTargetAndWithinOneAndAHalfUlp) {
  std::vector<float> x = {0.0f, -0.0f, 1.0f, -1.0f, 88.0f, 88.72f, 88.73f, 89.0f, 104.0f, 200.0f, -87.0f, -100.0f,
                          -103.0f, -103.9f, -104.0f, -200.0f, kInf, -kInf, std::numeric_limits<float>::quiet_NaN()};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2'000'000; ++i) x.push_back(uniform(rng, -104.0f, 89.0f));
  for (int i = 0; i < 200'000; ++i) x.push_back(uniform(rng, -1.0f, 1.0f));
  const std::vector<float> y = on_every_target(x, [](auto... a) { HWY_DYNAMIC_DISPATCH(ExpFloatArray)(a...); });
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      EXPECT_TRUE(std::isnan(y[i]));
      continue;
    }
    const double exact = std::exp(double(x[i]));
    if (exact > double(std::numeric_limits<float>::max())) {
      EXPECT_EQ(y[i], kInf) << x[i];
      continue;
    }
    const double e = ulps(y[i], exact);
    worst = std::max(worst, e);
    EXPECT_LE(e, 1.5) << "exp(" << x[i] << ") = " << y[i] << ", exact " << exact;
  }
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[15], 0.0f);  // exp(-200)
  EXPECT_EQ(y[17], 0.0f);  // exp(-inf)
  EXPECT_GT(y[12], 0.0f);  // exp(-103) is a subnormal, not 0
  RecordProperty("worst_ulp", std::to_string(worst));
}

TEST(LogFloat, SameBitsOnEveryTargetAndWithinOneUlp) {
  std::vector<float> x = {1.0f, 0.0f, -0.0f, -1.0f, kInf, -kInf, std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(), std::nextafter(1.0f, 0.0f), std::nextafter(1.0f, 2.0f),
                          0x1.6a09e6p-1f, 0x1.6a09e4p-1f, 2.0f, 0.5f};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uint32_t bits = std::uint32_t(rng()) & 0x7fffffffU;  // every positive pattern
    const float v = std::bit_cast<float>(bits);
    if (!std::isnan(v)) x.push_back(v);
  }
  for (int i = 0; i < 1'000'000; ++i) x.push_back(std::ldexp(uniform(rng, 0.66f, 0.72f), int(rng() % 60) - 30));
  for (int i = 0; i < 200'000; ++i) x.push_back(uniform(rng, 0.9f, 1.1f));
  const std::vector<float> y = on_every_target(x, [](auto... a) { HWY_DYNAMIC_DISPATCH(LogFloatArray)(a...); });
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || x[i] < 0) {
      EXPECT_TRUE(std::isnan(y[i])) << x[i];
      continue;
    }
    if (x[i] == 0) {
      EXPECT_EQ(y[i], -kInf);
      continue;
    }
    if (std::isinf(x[i])) {
      EXPECT_EQ(y[i], kInf);
      continue;
    }
    const double e = ulps(y[i], std::log(double(x[i])));
    worst = std::max(worst, e);
    EXPECT_LE(e, 1.0) << "log(" << x[i] << ") = " << y[i];
  }
  EXPECT_EQ(y[0], 0.0f);
  RecordProperty("worst_ulp", std::to_string(worst));
}

}  // namespace
}  // namespace parafit::simd
#endif  // HWY_ONCE
