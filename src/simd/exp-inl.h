// exp-inl.h — exp of double lanes, the same bits on every target and equal to simd::exp_scalar
// (simd/exp_scalar.h, which documents the algorithm and its accuracy: within 1.2 ulp, overflow to
// inf, gradual underflow, NaN). Only correctly rounded +, -, * (never fused) and exact operations,
// in the order exp_scalar writes them. Float lanes (batch fits' --float32) take the same algorithm
// with float's constants and a shorter polynomial (ExpFloat below). Per-target code: include after
// hwy/highway.h.
#if defined(PARAFIT_SIMD_EXP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PARAFIT_SIMD_EXP_INL_H_
#undef PARAFIT_SIMD_EXP_INL_H_
#else
#define PARAFIT_SIMD_EXP_INL_H_
#endif

#include <cstdint>
#include <hwy/highway.h>

#include "simd/exp_scalar.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// exp of float lanes: exp_scalar's steps with float's constants (exp_constants::kFloat*): |x|
// clamped to 104 (exp(-104) rounds to 0, exp(104) overflows; |n| <= 150), Cody–Waite with a
// 15-bit kLn2Hi (n * kLn2Hi exact for |n| < 512), exp(r) = 1 + (r + r^2 h), h = 1/2! + ... + r^5/7!
// in Estrin's form (the series' remainder r^8/8! is below 0.1 ulp for |r| <= ln2/2), and 2^n as
// 2^floor(n/2) * 2^ceil(n/2) from t's bits (u = n + 254 in [104, 404], halves normal). Within 1.5
// ulp of the correctly rounded exp (tests/simd/test_exp_log_float.cpp).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ExpFloat(D d, V x) {
  namespace k = exp_constants;
  const hn::RebindToUnsigned<D> du;
  const V lim = hn::Set(d, k::kFloatClamp);
  x = hn::IfThenElse(hn::Gt(hn::Abs(x), lim), hn::CopySign(lim, x), x);
  const V shifter = hn::Set(d, k::kFloatShifter);
  const V t = hn::Add(hn::Mul(x, hn::Set(d, k::kFloatLog2e)), shifter);
  const V n = hn::Sub(t, shifter);
  const V r = hn::Sub(hn::Sub(x, hn::Mul(n, hn::Set(d, k::kFloatLn2Hi))), hn::Mul(n, hn::Set(d, k::kFloatLn2Lo)));
  const V r2 = hn::Mul(r, r);
  const V r4 = hn::Mul(r2, r2);
  const auto lin = [&](float c0, float c1) { return hn::Add(hn::Set(d, c0), hn::Mul(r, hn::Set(d, c1))); };
  const V h01 = lin(1.0f / 2.0f, 1.0f / 6.0f);
  const V h23 = lin(1.0f / 24.0f, 1.0f / 120.0f);
  const V h45 = lin(1.0f / 720.0f, 1.0f / 5040.0f);
  const V h = hn::Add(hn::Add(h01, hn::Mul(r2, h23)), hn::Mul(r4, h45));
  const V p = hn::Add(hn::Set(d, 1.0f), hn::Add(r, hn::Mul(r2, h)));
  const auto u = hn::Sub(hn::BitCast(du, t), hn::Set(du, k::float_shifter_bits() - 2 * 127));
  const auto e_hi = hn::ShiftRight<1>(u);
  const auto e_lo = hn::Sub(u, e_hi);
  const V s_hi = hn::BitCast(d, hn::ShiftLeft<23>(e_hi));
  const V s_lo = hn::BitCast(d, hn::ShiftLeft<23>(e_lo));
  return hn::Mul(hn::Mul(p, s_hi), s_lo);
}

template <class D, class V = hn::Vec<D>>
HWY_INLINE V ExpDouble(D d, V x) {
  namespace k = exp_constants;
  const hn::RebindToUnsigned<D> du;
  // |x| clamped to 746 (exp is 0 or inf beyond); NaN compares false and passes through.
  const V lim = hn::Set(d, 746.0);
  x = hn::IfThenElse(hn::Gt(hn::Abs(x), lim), hn::CopySign(lim, x), x);
  const V shifter = hn::Set(d, k::kShifter);
  const V t = hn::Add(hn::Mul(x, hn::Set(d, k::kLog2e)), shifter);
  const V n = hn::Sub(t, shifter);
  const V r = hn::Sub(hn::Sub(x, hn::Mul(n, hn::Set(d, k::kLn2Hi))), hn::Mul(n, hn::Set(d, k::kLn2Lo)));

  const V r2 = hn::Mul(r, r);
  const V r4 = hn::Mul(r2, r2);
  const V r8 = hn::Mul(r4, r4);
  const auto lin = [&](double c0, double c1) { return hn::Add(hn::Set(d, c0), hn::Mul(r, hn::Set(d, c1))); };
  const V h01 = lin(1.0 / 2.0, 1.0 / 6.0);
  const V h23 = lin(1.0 / 24.0, 1.0 / 120.0);
  const V h45 = lin(1.0 / 720.0, 1.0 / 5040.0);
  const V h67 = lin(1.0 / 40320.0, 1.0 / 362880.0);
  const V h89 = lin(1.0 / 3628800.0, 1.0 / 39916800.0);
  const V h1011 = lin(1.0 / 479001600.0, 1.0 / 6227020800.0);
  const V h = hn::Add(hn::Add(hn::Add(h01, hn::Mul(r2, h23)), hn::Mul(r4, hn::Add(h45, hn::Mul(r2, h67)))),
                      hn::Mul(r8, hn::Add(h89, hn::Mul(r2, h1011))));
  const V p = hn::Add(hn::Set(d, 1.0), hn::Add(r, hn::Mul(r2, h)));

  // 2^n = 2^floor(n/2) * 2^ceil(n/2) from t's bits.
  const auto u = hn::Sub(hn::BitCast(du, t), hn::Set(du, k::shifter_bits() - 2 * 1023));
  const auto e_hi = hn::ShiftRight<1>(u);
  const auto e_lo = hn::Sub(u, e_hi);
  const V s_hi = hn::BitCast(d, hn::ShiftLeft<52>(e_hi));
  const V s_lo = hn::BitCast(d, hn::ShiftLeft<52>(e_lo));
  return hn::Mul(hn::Mul(p, s_hi), s_lo);
}

// exp of double or float lanes.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Exp(D d, V x) {
  if constexpr (sizeof(hn::TFromD<D>) == 4) {
    return ExpFloat(d, x);
  } else {
    return ExpDouble(d, x);
  }
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_SIMD_EXP_INL_H_
