// exp_scalar.h — exp() of one double with the bits of simd's vector Exp (simd/exp-inl.h) on every
// target: the scalar code that must agree with the SIMD kernels (a constant folded once, a
// prediction of one row) calls this.
//
// std::exp is an opaque library call whose last bit differs between libm versions, and a loop
// calling it cannot be vectorised. exp_scalar and Exp are a branch-free replacement: Cody–Waite
// reduction x = n*ln2 + r, the degree-13 Taylor polynomial for exp(r) on |r| <= ln2/2, and 2^n
// assembled from exponent bits. It is within 1.2 ulp of exp (so at most one double away from glibc's
// std::exp), including overflow to inf, gradual underflow into the subnormals, and NaN. It uses only
// correctly rounded IEEE operations (+, -, *) and exact ones (fabs, copysign, compare-and-select,
// integer operations on the bit pattern) in a fixed order, never fused into an FMA (the library is
// compiled with -ffp-contract=off), so every lane of every target rounds alike.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace parafit::simd {

namespace exp_constants {
inline constexpr double kLog2e = 1.4426950408889634074;
// ln2 split so that n*kLn2Hi is exact for every n reached here (kLn2Hi has 32 significant bits
// and |n| <= 1076 needs 11).
inline constexpr double kLn2Hi = 6.93147180369123816490e-01;
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;
// Adding 1.5*2^52 rounds to an integer and leaves it in the low mantissa bits, without a
// float-to-int conversion (undefined for NaN).
inline constexpr double kShifter = 0x1.8p52;
constexpr std::uint64_t shifter_bits() { return std::bit_cast<std::uint64_t>(kShifter); }
}  // namespace exp_constants

// The constants of exp's reduction x = n ln2 + r and of 2^n per lane type, for the vector Exp
// (simd/exp-inl.h) and the activations (simd/activation-inl.h).
template <class T>
struct ExpConsts;

template <>
struct ExpConsts<double> {
  using Bits = std::uint64_t;
  static constexpr double kClamp = 746.0;  // exp(-746) < 2^-1076 rounds to 0; |n| <= 1077
  static constexpr double kLog2e = exp_constants::kLog2e;
  static constexpr double kLn2Hi = exp_constants::kLn2Hi;  // 32 significant bits
  static constexpr double kLn2Lo = exp_constants::kLn2Lo;
  static constexpr double kShifter = exp_constants::kShifter;
  static constexpr Bits kShifterBits = exp_constants::shifter_bits();
  static constexpr int kMantissaBits = 52;
  static constexpr Bits kBias = 1023;
  static constexpr Bits kBias2 = 2 * 1023;
};

template <>
struct ExpConsts<float> {
  using Bits = std::uint32_t;
  static constexpr float kClamp = 104.0f;  // exp(-104) < 2^-150 rounds to 0, exp(104) overflows; |n| <= 150
  static constexpr float kLog2e = 0x1.715476p+0f;
  static constexpr float kLn2Hi = 0x1.62e4p-1f;     // 15 significant bits; |n| <= 162 has 8
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;  // ln2 - kLn2Hi, rounded
  static constexpr float kShifter = 0x1.8p23f;
  static constexpr Bits kShifterBits = std::bit_cast<Bits>(kShifter);
  static constexpr int kMantissaBits = 23;
  static constexpr Bits kBias = 127;
  static constexpr Bits kBias2 = 2 * 127;
};

[[gnu::always_inline]] inline double exp_scalar(double x) {
  using namespace exp_constants;

  // exp(-746) is 0 and exp(746) is inf, as is everything beyond, so |x| is clamped to 746: that
  // keeps |n| <= 1076, for which 2^n is built below, and one compare serves both ends (the vector
  // Exp selects copysign(746, x) the same way). NaN compares false and passes through to a NaN
  // result.
  x = std::fabs(x) > 746.0 ? std::copysign(746.0, x) : x;

  // x = n*ln2 + r, n = round(x/ln2), |r| <= ln2/2 (Cody–Waite: x - n*kLn2Hi is exact).
  const double t = x * kLog2e + kShifter;  // kShifter + n, exactly
  const double n = t - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;

  // exp(r) = 1 + r + r^2*h(r), h = 1/2! + r/3! + ... + r^11/13! (the series' remainder is below
  // 0.04 ulp). h is summed in Estrin's form: its terms are independent, so the longest chain of
  // dependent operations in the polynomial is 8 instead of Horner's 26, and the vector row loops
  // are bound by that latency more than by the number of operations (Horner made them 1.5x slower).
  // Adding r and then 1 last keeps the rounding errors of h small against the result: within 1.2
  // ulp in all (the analysis is in tests/simd/test_exp_scalar.cpp).
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double r8 = r4 * r4;
  const double h01 = 1.0 / 2.0 + r * (1.0 / 6.0);
  const double h23 = 1.0 / 24.0 + r * (1.0 / 120.0);
  const double h45 = 1.0 / 720.0 + r * (1.0 / 5040.0);
  const double h67 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
  const double h89 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
  const double h1011 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
  const double h = ((h01 + r2 * h23) + r4 * (h45 + r2 * h67)) + r8 * (h89 + r2 * h1011);
  const double p = 1.0 + (r + r2 * h);

  // 2^n as two normal factors 2^floor(n/2) * 2^ceil(n/2): one factor cannot represent 2^1024 or
  // 2^-1075, and multiplying by the second one last rounds once into the subnormal range, as
  // std::exp does. Their biased exponents come from t's bits, which are kShifter's plus n:
  // u = n + 2*1023 lies in [970, 3122], and its halves in [485, 1561], all normal exponents.
  const std::uint64_t u =
      std::bit_cast<std::uint64_t>(t) - (std::bit_cast<std::uint64_t>(kShifter) - 2 * 1023);
  const std::uint64_t e_hi = u >> 1;
  const std::uint64_t e_lo = u - e_hi;
  const double s_hi = std::bit_cast<double>(e_hi << 52);
  const double s_lo = std::bit_cast<double>(e_lo << 52);
  return p * s_hi * s_lo;
}

}  // namespace parafit::simd
