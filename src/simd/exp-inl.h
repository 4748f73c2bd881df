// exp-inl.h — exp of double and float lanes, the same bits on every target. Double lanes equal
// simd::exp_scalar (simd/exp_scalar.h, which documents the algorithm and its accuracy: within 1.2
// ulp, overflow to inf, gradual underflow, NaN); float lanes (batch fits in float32) take the same
// algorithm with float's constants and a shorter polynomial (within 1.5 ulp, measured 1.01:
// tests/simd/test_exp_log_float.cpp). Only correctly rounded +, -, * (never fused) and exact
// operations, in the order exp_scalar writes them. Per-target code: include after hwy/highway.h.
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

// exp_scalar's steps on lanes: |x| clamped (NaN passes through), Cody–Waite reduction, exp(r) =
// 1 + (r + r^2 h(r)) with h in Estrin's form, 2^n = 2^floor(n/2) * 2^ceil(n/2) from t's bits. h
// runs to r^11/13! in double and to r^5/7! in float (its remainder r^8/8! is below 0.1 float ulp
// for |r| <= ln2/2); float's u = n + 254 lies in [104, 404], its halves are normal exponents.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Exp(D d, V x) {
  using T = hn::TFromD<D>;
  using C = ExpConsts<T>;
  const hn::RebindToUnsigned<D> du;
  const V lim = hn::Set(d, C::kClamp);
  x = hn::IfThenElse(hn::Gt(hn::Abs(x), lim), hn::CopySign(lim, x), x);
  const V shifter = hn::Set(d, C::kShifter);
  const V t = hn::Add(hn::Mul(x, hn::Set(d, C::kLog2e)), shifter);
  const V n = hn::Sub(t, shifter);
  const V r = hn::Sub(hn::Sub(x, hn::Mul(n, hn::Set(d, C::kLn2Hi))), hn::Mul(n, hn::Set(d, C::kLn2Lo)));

  const V r2 = hn::Mul(r, r);
  const V r4 = hn::Mul(r2, r2);
  const auto lin = [&](T c0, T c1) { return hn::Add(hn::Set(d, c0), hn::Mul(r, hn::Set(d, c1))); };
  V h;
  if constexpr (sizeof(T) == 8) {
    const V r8 = hn::Mul(r4, r4);
    const V h01 = lin(1.0 / 2.0, 1.0 / 6.0);
    const V h23 = lin(1.0 / 24.0, 1.0 / 120.0);
    const V h45 = lin(1.0 / 720.0, 1.0 / 5040.0);
    const V h67 = lin(1.0 / 40320.0, 1.0 / 362880.0);
    const V h89 = lin(1.0 / 3628800.0, 1.0 / 39916800.0);
    const V h1011 = lin(1.0 / 479001600.0, 1.0 / 6227020800.0);
    h = hn::Add(hn::Add(hn::Add(h01, hn::Mul(r2, h23)), hn::Mul(r4, hn::Add(h45, hn::Mul(r2, h67)))),
                hn::Mul(r8, hn::Add(h89, hn::Mul(r2, h1011))));
  } else {
    const V h01 = lin(1.0f / 2.0f, 1.0f / 6.0f);
    const V h23 = lin(1.0f / 24.0f, 1.0f / 120.0f);
    const V h45 = lin(1.0f / 720.0f, 1.0f / 5040.0f);
    h = hn::Add(hn::Add(h01, hn::Mul(r2, h23)), hn::Mul(r4, h45));
  }
  const V p = hn::Add(hn::Set(d, T(1)), hn::Add(r, hn::Mul(r2, h)));

  const auto u = hn::Sub(hn::BitCast(du, t), hn::Set(du, C::kShifterBits - C::kBias2));
  const auto e_hi = hn::ShiftRight<1>(u);
  const auto e_lo = hn::Sub(u, e_hi);
  const V s_hi = hn::BitCast(d, hn::ShiftLeft<C::kMantissaBits>(e_hi));
  const V s_lo = hn::BitCast(d, hn::ShiftLeft<C::kMantissaBits>(e_lo));
  return hn::Mul(hn::Mul(p, s_hi), s_lo);
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_SIMD_EXP_INL_H_
