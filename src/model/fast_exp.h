// fast_exp.h — exp() for the model loops, in a form GCC can vectorise.
//
// std::exp is an opaque library call unless the build uses -ffast-math, so a loop calling it is
// never vectorised. vexp() is a branch-free replacement: Cody–Waite reduction x = n*ln2 + r, a
// degree-13 Taylor polynomial for exp(r) on |r| <= ln2/2, and 2^n assembled from exponent bits.
// It agrees with std::exp to about 1 ulp, including overflow to inf, gradual underflow and NaN.
//
// It only pays off with wide vectors: with AVX2 + FMA it is ~3x faster than glibc's exp, with the
// baseline SSE2 (two doubles per register, no FMA) it is ~25% slower. fast_exp() therefore picks
// it by the target the library is compiled for.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace parafit::detail {

inline double vexp(double x) {
  constexpr double kLog2e = 1.4426950408889634074;
  // ln2 split so that n*kLn2Hi is exact for every n reached here.
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  // Adding 1.5*2^52 rounds to an integer and leaves it in the low mantissa bits, without a
  // float-to-int conversion (undefined for NaN, and not vectorisable for int64 before AVX-512).
  constexpr double kShifter = 0x1.8p52;

  // Clamp so n stays representable. The clamped value is built with copysign rather than written
  // as a constant: a constant lets GCC fold the rest of the function into a separate branch,
  // which is then no longer if-convertible and the loop stays scalar. NaN compares false and
  // passes through.
  x = x < -746.0 ? std::copysign(746.0, x) : x;
  x = x > 710.0 ? std::copysign(710.0, x) : x;

  const double n = (x * kLog2e + kShifter) - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;

  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;

  // 2^n as two normal factors: one factor cannot represent 2^1024 or 2^-1075, and the second
  // multiplication rounds once into the subnormal range, as std::exp does.
  const double n_hi = (n * 0.5 + kShifter) - kShifter;
  const double n_lo = n - n_hi;
  constexpr std::uint64_t kBias = std::bit_cast<std::uint64_t>(kShifter) - 1023;
  const double s_hi = std::bit_cast<double>((std::bit_cast<std::uint64_t>(n_hi + kShifter) - kBias)
                                            << 52);
  const double s_lo = std::bit_cast<double>((std::bit_cast<std::uint64_t>(n_lo + kShifter) - kBias)
                                            << 52);
  return p * s_hi * s_lo;
}

inline double fast_exp(double x) {
#if defined(__AVX2__)
  return vexp(x);
#else
  return std::exp(x);
#endif
}

}  // namespace parafit::detail
