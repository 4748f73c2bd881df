// log_scalar.h — natural log of one double with the bits of simd's vector Log (simd/log-inl.h) on
// every target: the scalar code that must agree with the SIMD kernels (a constant folded once, a
// formula's uniform values) calls this.
//
// std::log is an opaque library call whose last bit differs between libm versions, and a loop
// calling it cannot be vectorised. log_scalar and Log are a branch-free replacement within 0.9 ulp
// of log, so at most one double away from the correctly rounded log (largest error measured 0.873
// ulp, on 30 million inputs in [0.66, 0.71) * 2^[-100, 100), where k = -1 cancels most of log m;
// 0.69 over random bit patterns; 0.5 on subnormals; glibc's std::log: 0.52 — tests/simd/
// test_log.cpp). Exact at 1 (+0), -inf at ±0, NaN below 0 and for NaN, +inf at +inf. Like
// exp_scalar they use only correctly rounded IEEE operations (+, -, *, /) and exact ones
// (compare-and-select, integer operations on the bit pattern) in a fixed order, never fused (the
// library is compiled with -ffp-contract=off), so every lane of every target rounds alike.
//
// The method. x = 2^k m with m in [sqrt(1/2), sqrt(2)), so log x = k ln2 + log m. With f = m - 1
// (exact: m is within a factor 2 of 1) and s = f / (2 + f), so that m = (1 + s) / (1 - s):
//   log m = 2 atanh(s) = 2s + s R(z),  z = s^2,  R(z) = 2z/3 + 2z^2/5 + ... + 2z^10/21
// (|s| <= 0.172, z <= 0.0295: the series' remainder 2z^11/23 is below 2^-60 of the result).
// 2s has the rounding error of the division, too much for the leading term; but s(2 + f) = f gives
// 2s = f - s f, and s f = f^2/2 - s f^2/2, so
//   log m = f - (h - s (h + R)),  h = f^2/2,
// where f is exact and the correction c = h - s(h + R) is below a fifth of the result. k ln2 is
// split into k*kLn2Hi (exact: kLn2Hi has 42 significant bits, |k| <= 1100 needs 11) and k*kLn2Lo,
// which joins the small terms of c; k*kLn2Hi + f is added with its rounding error kept (Fast2Sum:
// |k*kLn2Hi| >= ln2 > |f| unless k = 0, when the sum is exact), so only the last addition rounds
// at full weight: 0.5 ulp, plus up to about 0.4 ulp from the roundings of h and c where the
// result is smallest against them (x just below sqrt(1/2): k = -1 cancels most of log m).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace parafit::simd {

namespace log_constants {
inline constexpr double kLn2Hi = 0x1.62e42fefa38p-1;    // ln 2 to 42 significant bits
inline constexpr double kLn2Lo = 0x1.ef35793c7673p-45;  // ln 2 - kLn2Hi, rounded
// The bit pattern of sqrt(1/2): x's bits minus this, shifted right by 52, is k.
inline constexpr std::uint64_t kSqrtHalfBits = 0x3fe6a09e667f3bcdULL;
inline constexpr double kMinNormal = 0x1p-1022;
// Subnormals are scaled into the normal range first (exactly) and k is corrected.
inline constexpr double kSubnormalScale = 0x1p54;
inline constexpr double kSubnormalK = 54.0;
// Adding 1.5*2^52 to the bits of an integer gives the double of that integer plus 1.5*2^52.
inline constexpr double kShifter = 0x1.8p52;
// R(z) / z = 2/3 + 2z/5 + ... + 2z^9/21: the Taylor coefficients of 2 atanh(s)/s - 2, rounded.
inline constexpr double kC1 = 2.0 / 3.0, kC2 = 2.0 / 5.0, kC3 = 2.0 / 7.0, kC4 = 2.0 / 9.0,
                        kC5 = 2.0 / 11.0, kC6 = 2.0 / 13.0, kC7 = 2.0 / 15.0, kC8 = 2.0 / 17.0,
                        kC9 = 2.0 / 19.0, kC10 = 2.0 / 21.0;
}  // namespace log_constants

// The constants of the vector Log (simd/log-inl.h) per lane type: log_constants for double, and
// float's (k ln2 as k * kLn2Hi, 15 bits, exact for |k| <= 151, plus k * kLn2Lo).
template <class T>
struct LogConsts;

template <>
struct LogConsts<double> {
  using Bits = std::uint64_t;
  static constexpr int kMantissaBits = 52;
  static constexpr double kLn2Hi = log_constants::kLn2Hi, kLn2Lo = log_constants::kLn2Lo;
  static constexpr Bits kSqrtHalfBits = log_constants::kSqrtHalfBits;
  static constexpr double kMinNormal = log_constants::kMinNormal;
  static constexpr double kSubnormalScale = log_constants::kSubnormalScale, kSubnormalK = log_constants::kSubnormalK;
  static constexpr double kShifter = log_constants::kShifter;
};

template <>
struct LogConsts<float> {
  using Bits = std::uint32_t;
  static constexpr int kMantissaBits = 23;
  static constexpr float kLn2Hi = 0x1.62e4p-1f;     // ln 2 to 15 significant bits
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;  // ln 2 - kLn2Hi, rounded
  static constexpr Bits kSqrtHalfBits = 0x3f3504f3U;
  static constexpr float kMinNormal = 0x1p-126f;
  static constexpr float kSubnormalScale = 0x1p25f, kSubnormalK = 25.0f;
  static constexpr float kShifter = 0x1.8p23f;
};

[[gnu::always_inline]] inline double log_scalar(double x) {
  using namespace log_constants;
  const bool subnormal = x < kMinNormal;  // also 0 and below, whose result is replaced at the end
  const double xs = subnormal ? x * kSubnormalScale : x;

  // k = floor(log2(xs / sqrt(1/2))) from the bits, m = xs / 2^k in [sqrt(1/2), sqrt(2)).
  const std::uint64_t ix = std::bit_cast<std::uint64_t>(xs);
  const std::int64_t k = static_cast<std::int64_t>(ix - kSqrtHalfBits) >> 52;
  const double m = std::bit_cast<double>(ix - (static_cast<std::uint64_t>(k) << 52));
  const double kd = (std::bit_cast<double>(std::bit_cast<std::uint64_t>(kShifter) + static_cast<std::uint64_t>(k)) -
                     kShifter) -
                    (subnormal ? kSubnormalK : 0.0);

  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  // R in Estrin's form (independent terms: shorter dependency chains in the row loops).
  const double z2 = z * z;
  const double z4 = z2 * z2;
  const double z8 = z4 * z4;
  const double p12 = kC1 + z * kC2;
  const double p34 = kC3 + z * kC4;
  const double p56 = kC5 + z * kC6;
  const double p78 = kC7 + z * kC8;
  const double p910 = kC9 + z * kC10;
  const double r = z * (((p12 + z2 * p34) + z4 * (p56 + z2 * p78)) + z8 * p910);
  const double h = 0.5 * f * f;
  const double c = h - (s * (h + r) + kd * kLn2Lo);

  const double a = kd * kLn2Hi;
  const double hi = a + f;
  const double err = f - (hi - a);
  const double v = hi + (err - c);

  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const double special = x == kInf ? kInf : v;
  const double at_zero = x == 0.0 ? -kInf : special;
  return x >= 0.0 ? at_zero : kNaN;  // below 0, and NaN
}

}  // namespace parafit::simd
