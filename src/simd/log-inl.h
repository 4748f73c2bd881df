// log-inl.h — natural log of double lanes, the same bits on every target and equal to
// simd::log_scalar (simd/log_scalar.h, which documents the algorithm and its accuracy: within 0.9
// ulp, -inf at 0, NaN below 0, subnormals). Only correctly rounded +, -, *, / (never fused) and
// exact operations, in the order log_scalar writes them. Float lanes (batch fits' --float32) take
// the same algorithm with float's constants and a shorter series (LogFloat below). Per-target
// code: include after hwy/highway.h.
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

// log of float lanes: log_scalar's steps with float's constants (log_constants::kFloat*): k from
// the bits against sqrt(1/2) (subnormals scaled by 2^25 first), f = m - 1, s = f / (2 + f),
// R(z) = 2z/3 + 2z^2/5 + 2z^3/7 + 2z^4/9 (z <= 0.0295: the remainder is below 0.05 ulp), k ln2 as
// k * kLn2Hi (15 bits, exact for |k| <= 151) + k * kLn2Lo, and the last sum with Fast2Sum. Within
// 1 ulp of the correctly rounded log (tests/simd/test_exp_log_float.cpp).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V LogFloat(D d, V x) {
  namespace k = log_constants;
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const auto subnormal = hn::Lt(x, hn::Set(d, k::kFloatMinNormal));
  const V xs = hn::IfThenElse(subnormal, hn::Mul(x, hn::Set(d, k::kFloatSubnormalScale)), x);
  const auto ix = hn::BitCast(du, xs);
  const auto kbits = hn::ShiftRight<23>(hn::BitCast(di, hn::Sub(ix, hn::Set(du, k::kFloatSqrtHalfBits))));
  const V m = hn::BitCast(d, hn::Sub(ix, hn::ShiftLeft<23>(hn::BitCast(du, kbits))));
  const V shifter = hn::Set(d, k::kFloatShifter);
  const V kd = hn::Sub(hn::Sub(hn::BitCast(d, hn::Add(hn::BitCast(du, shifter), hn::BitCast(du, kbits))), shifter),
                       hn::IfThenElseZero(subnormal, hn::Set(d, k::kFloatSubnormalK)));
  const V one = hn::Set(d, 1.0f);
  const V f = hn::Sub(m, one);
  const V s = hn::Div(f, hn::Add(hn::Set(d, 2.0f), f));
  const V z = hn::Mul(s, s);
  const V z2 = hn::Mul(z, z);
  const auto lin = [&](float c0, float c1) { return hn::Add(hn::Set(d, c0), hn::Mul(z, hn::Set(d, c1))); };
  const V r = hn::Mul(z, hn::Add(lin(2.0f / 3.0f, 2.0f / 5.0f), hn::Mul(z2, lin(2.0f / 7.0f, 2.0f / 9.0f))));
  const V h = hn::Mul(hn::Mul(hn::Set(d, 0.5f), f), f);
  const V c = hn::Sub(h, hn::Add(hn::Mul(s, hn::Add(h, r)), hn::Mul(kd, hn::Set(d, k::kFloatLn2Lo))));
  const V a = hn::Mul(kd, hn::Set(d, k::kFloatLn2Hi));
  const V hi = hn::Add(a, f);
  const V err = hn::Sub(f, hn::Sub(hi, a));
  const V v = hn::Add(hi, hn::Sub(err, c));
  const V inf = hn::Set(d, std::numeric_limits<float>::infinity());
  const V special = hn::IfThenElse(hn::Eq(x, inf), inf, v);
  const V at_zero = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), hn::Neg(inf), special);
  return hn::IfThenElse(hn::Ge(x, hn::Zero(d)), at_zero, hn::Set(d, std::numeric_limits<float>::quiet_NaN()));
}

template <class D, class V = hn::Vec<D>>
HWY_INLINE V LogDouble(D d, V x) {
  namespace k = log_constants;
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const auto subnormal = hn::Lt(x, hn::Set(d, k::kMinNormal));
  const V xs = hn::IfThenElse(subnormal, hn::Mul(x, hn::Set(d, k::kSubnormalScale)), x);

  const auto ix = hn::BitCast(du, xs);
  const auto kbits = hn::ShiftRight<52>(hn::BitCast(di, hn::Sub(ix, hn::Set(du, k::kSqrtHalfBits))));
  const V m = hn::BitCast(d, hn::Sub(ix, hn::ShiftLeft<52>(hn::BitCast(du, kbits))));
  const V shifter = hn::Set(d, k::kShifter);
  const V kd = hn::Sub(hn::Sub(hn::BitCast(d, hn::Add(hn::BitCast(du, shifter), hn::BitCast(du, kbits))), shifter),
                       hn::IfThenElseZero(subnormal, hn::Set(d, k::kSubnormalK)));

  const V one = hn::Set(d, 1.0);
  const V f = hn::Sub(m, one);
  const V s = hn::Div(f, hn::Add(hn::Set(d, 2.0), f));
  const V z = hn::Mul(s, s);
  const V z2 = hn::Mul(z, z);
  const V z4 = hn::Mul(z2, z2);
  const V z8 = hn::Mul(z4, z4);
  const auto lin = [&](double c0, double c1) { return hn::Add(hn::Set(d, c0), hn::Mul(z, hn::Set(d, c1))); };
  const V p12 = lin(k::kC1, k::kC2);
  const V p34 = lin(k::kC3, k::kC4);
  const V p56 = lin(k::kC5, k::kC6);
  const V p78 = lin(k::kC7, k::kC8);
  const V p910 = lin(k::kC9, k::kC10);
  const V r = hn::Mul(z, hn::Add(hn::Add(hn::Add(p12, hn::Mul(z2, p34)), hn::Mul(z4, hn::Add(p56, hn::Mul(z2, p78)))),
                                 hn::Mul(z8, p910)));
  const V h = hn::Mul(hn::Mul(hn::Set(d, 0.5), f), f);
  const V c = hn::Sub(h, hn::Add(hn::Mul(s, hn::Add(h, r)), hn::Mul(kd, hn::Set(d, k::kLn2Lo))));

  const V a = hn::Mul(kd, hn::Set(d, k::kLn2Hi));
  const V hi = hn::Add(a, f);
  const V err = hn::Sub(f, hn::Sub(hi, a));
  const V v = hn::Add(hi, hn::Sub(err, c));

  const V inf = hn::Set(d, std::numeric_limits<double>::infinity());
  const V special = hn::IfThenElse(hn::Eq(x, inf), inf, v);
  const V at_zero = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), hn::Neg(inf), special);
  return hn::IfThenElse(hn::Ge(x, hn::Zero(d)), at_zero, hn::Set(d, std::numeric_limits<double>::quiet_NaN()));
}

// log of double or float lanes.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Log(D d, V x) {
  if constexpr (sizeof(hn::TFromD<D>) == 4) {
    return LogFloat(d, x);
  } else {
    return LogDouble(d, x);
  }
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_SIMD_LOG_INL_H_
