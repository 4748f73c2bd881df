// log-inl.h — natural log of double lanes, the same bits on every target and equal to
// simd::log_scalar (simd/log_scalar.h, which documents the algorithm and its accuracy: within 0.9
// ulp, -inf at 0, NaN below 0, subnormals). Only correctly rounded +, -, *, / (never fused) and
// exact operations, in the order log_scalar writes them. Float lanes (batch fits in float32) take
// the same algorithm with float's constants and a shorter series (within 1 ulp, measured 0.82:
// tests/simd/test_exp_log_float.cpp). Per-target code: include after hwy/highway.h.
#if defined(PARAFIT_SIMD_LOG_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PARAFIT_SIMD_LOG_INL_H_
#undef PARAFIT_SIMD_LOG_INL_H_
#else
#define PARAFIT_SIMD_LOG_INL_H_
#endif

#include <bit>
#include <cstdint>
#include <limits>
#include <hwy/highway.h>

#include "simd/log_scalar.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// log_scalar's steps on lanes: k from the bits against sqrt(1/2) (subnormals scaled into the
// normal range first), f = m - 1, s = f / (2 + f), z = s^2, R(z) in Estrin's form, the correction
// c = h - (s (h + R) + k kLn2Lo), and k kLn2Hi + f added with its rounding error kept. R runs to
// 2z^10/21 in double and to 2z^4/9 in float (z <= 0.0295: the remainder is below 0.05 float ulp).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Log(D d, V x) {
  using T = hn::TFromD<D>;
  using C = LogConsts<T>;
  namespace k = log_constants;
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const auto subnormal = hn::Lt(x, hn::Set(d, C::kMinNormal));
  const V xs = hn::IfThenElse(subnormal, hn::Mul(x, hn::Set(d, C::kSubnormalScale)), x);

  const auto ix = hn::BitCast(du, xs);
  const auto kbits =
      hn::ShiftRight<C::kMantissaBits>(hn::BitCast(di, hn::Sub(ix, hn::Set(du, C::kSqrtHalfBits))));
  const V m = hn::BitCast(d, hn::Sub(ix, hn::ShiftLeft<C::kMantissaBits>(hn::BitCast(du, kbits))));
  const V shifter = hn::Set(d, C::kShifter);
  const V kd = hn::Sub(hn::Sub(hn::BitCast(d, hn::Add(hn::BitCast(du, shifter), hn::BitCast(du, kbits))), shifter),
                       hn::IfThenElseZero(subnormal, hn::Set(d, C::kSubnormalK)));

  const V one = hn::Set(d, T(1));
  const V f = hn::Sub(m, one);
  const V s = hn::Div(f, hn::Add(hn::Set(d, T(2)), f));
  const V z = hn::Mul(s, s);
  const V z2 = hn::Mul(z, z);
  const auto lin = [&](T c0, T c1) { return hn::Add(hn::Set(d, c0), hn::Mul(z, hn::Set(d, c1))); };
  V r;
  if constexpr (sizeof(T) == 8) {
    const V z4 = hn::Mul(z2, z2);
    const V z8 = hn::Mul(z4, z4);
    const V p12 = lin(k::kC1, k::kC2);
    const V p34 = lin(k::kC3, k::kC4);
    const V p56 = lin(k::kC5, k::kC6);
    const V p78 = lin(k::kC7, k::kC8);
    const V p910 = lin(k::kC9, k::kC10);
    r = hn::Mul(z, hn::Add(hn::Add(hn::Add(p12, hn::Mul(z2, p34)), hn::Mul(z4, hn::Add(p56, hn::Mul(z2, p78)))),
                           hn::Mul(z8, p910)));
  } else {
    r = hn::Mul(z, hn::Add(lin(2.0f / 3.0f, 2.0f / 5.0f), hn::Mul(z2, lin(2.0f / 7.0f, 2.0f / 9.0f))));
  }
  const V h = hn::Mul(hn::Mul(hn::Set(d, T(0.5)), f), f);
  const V c = hn::Sub(h, hn::Add(hn::Mul(s, hn::Add(h, r)), hn::Mul(kd, hn::Set(d, C::kLn2Lo))));

  const V a = hn::Mul(kd, hn::Set(d, C::kLn2Hi));
  const V hi = hn::Add(a, f);
  const V err = hn::Sub(f, hn::Sub(hi, a));
  const V v = hn::Add(hi, hn::Sub(err, c));

  const V inf = hn::Set(d, std::numeric_limits<T>::infinity());
  const V special = hn::IfThenElse(hn::Eq(x, inf), inf, v);
  const V at_zero = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), hn::Neg(inf), special);
  return hn::IfThenElse(hn::Ge(x, hn::Zero(d)), at_zero, hn::Set(d, std::numeric_limits<T>::quiet_NaN()));
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_SIMD_LOG_INL_H_
