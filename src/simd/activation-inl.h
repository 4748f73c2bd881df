// activation-inl.h — tanh, sigmoid, GELU (tanh form) and the expm1 / exp pieces they are made of,
// for float and double lanes, the same bits on every target. Per-target code: include after
// hwy/highway.h (and simd/ops-inl.h) inside Highway's per-target compilation.
//
// Only correctly rounded IEEE operations (+, -, *, /, and fused multiply-adds written MulAddExact)
// and exact ones (sign manipulation, compare-and-select, integer operations on exponent bits), in
// a fixed order: every lane of every target rounds alike. The accuracy of each function is stated
// and measured where the MLP kernels use them (model/mlp_kernels.h, tests/model/test_mlp_kernels.cpp).
//
// exp(u) for u <= 0: u = n ln2 + r, n = round(u / ln2), |r| <= ln2/2 (Cody–Waite: ln2 = kLn2Hi +
// kLn2Lo with kLn2Hi short enough that n * kLn2Hi and u - n * kLn2Hi are exact for every n
// reached); exp(u) = 2^n (1 + expm1(r)), expm1(r) = r + r^2 h(r) by its Taylor series (remainder
// below 0.02 ulp relative to r), and 2^n = 2^floor(n/2) 2^ceil(n/2) from exponent bits: both
// factors are normal numbers down to the clamp, and multiplying by the second rounds once into the
// subnormals. Adding kShifter (1.5 * 2^(mantissa bits)) rounds u/ln2 to the integer n and leaves n
// in the low bits of t = kShifter + n, from where the exponents are built with integer operations.
#if defined(PARAFIT_SIMD_ACTIVATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PARAFIT_SIMD_ACTIVATION_INL_H_
#undef PARAFIT_SIMD_ACTIVATION_INL_H_
#else
#define PARAFIT_SIMD_ACTIVATION_INL_H_
#endif

#include <bit>
#include <cstdint>
#include <hwy/highway.h>
#include <type_traits>

#include "simd/exp_scalar.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// exp's constants (simd/exp_scalar.h ExpConsts) and the activations' clamps.
template <class T>
struct ActivationConsts;

template <>
struct ActivationConsts<float> : ExpConsts<float> {
  // tanh(x) rounds to +-1 beyond |x| = 9.01; clamping -2|x| at -24 keeps 2^n normal (n >= -35).
  static constexpr float kTanhClamp = 24.0f;
  // GELU multiplies exp(-|v|) by |z| <= 100 before rounding: 100 exp(-112) < 2^-151 rounds to 0.
  static constexpr float kGeluClamp = 112.0f;
};

template <>
struct ActivationConsts<double> : ExpConsts<double> {
  // tanh(x) rounds to +-1 beyond |x| = 19.06; clamping -2|x| at -44 keeps 2^n normal (n >= -64).
  static constexpr double kTanhClamp = 44.0;
  // GELU multiplies exp(-|v|) by |z| <= 100 before rounding: 100 exp(-752) < 2^-1075 rounds to 0.
  static constexpr double kGeluClamp = 752.0;
};

// GELU, tanh form: gelu(z) = z sigmoid(v), v = kGeluV1 (z + kGeluV3 z^3), kGeluV1 = 2 sqrt(2/pi).
// Beyond |z| = 100, |v| > 7e4: sigmoid(v) is exactly 0 or 1 in double, so z is clamped there
// before v is formed (keeps z^3 and v' finite).
inline constexpr double kGeluV1 = 1.5957691216057307117597842397375;
inline constexpr double kGeluV3 = 0.044715;
inline constexpr double kGeluV3x3 = 3 * 0.044715;
inline constexpr double kGeluZClamp = 100.0;

// expm1(r) for |r| <= ln2/2 (+ a little): r + r^2 h(r) with h the Taylor series of
// (exp(r) - 1 - r) / r^2 summed in Estrin's form (shorter dependency chains than Horner's).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Expm1Poly(D d, V r) {
  using T = hn::TFromD<D>;
  const auto c = [&](T x) { return hn::Set(d, x); };
  const V r2 = hn::Mul(r, r);
  const V r4 = hn::Mul(r2, r2);
  V h;
  if constexpr (std::is_same_v<T, float>) {
    // h through r^6/8!: the first term left out of expm1, r^9/9!, is below 2^-30 |r|.
    const V h01 = MulAddExact(r, c(1.0f / 6.0f), c(1.0f / 2.0f));
    const V h23 = MulAddExact(r, c(1.0f / 120.0f), c(1.0f / 24.0f));
    const V h45 = MulAddExact(r, c(1.0f / 5040.0f), c(1.0f / 720.0f));
    const V h46 = MulAddExact(r2, c(1.0f / 40320.0f), h45);
    h = MulAddExact(r4, h46, MulAddExact(r2, h23, h01));
  } else {
    // h through r^11/13!: the first term left out of expm1, r^14/14!, is below 2^-56 |r|.
    const V r8 = hn::Mul(r4, r4);
    const V h01 = MulAddExact(r, c(1.0 / 6.0), c(1.0 / 2.0));
    const V h23 = MulAddExact(r, c(1.0 / 120.0), c(1.0 / 24.0));
    const V h45 = MulAddExact(r, c(1.0 / 5040.0), c(1.0 / 720.0));
    const V h67 = MulAddExact(r, c(1.0 / 362880.0), c(1.0 / 40320.0));
    const V h89 = MulAddExact(r, c(1.0 / 39916800.0), c(1.0 / 3628800.0));
    const V h1011 = MulAddExact(r, c(1.0 / 6227020800.0), c(1.0 / 479001600.0));
    const V h03 = MulAddExact(r2, h23, h01);
    const V h47 = MulAddExact(r2, h67, h45);
    const V h811 = MulAddExact(r2, h1011, h89);
    h = MulAddExact(r8, h811, MulAddExact(r4, h47, h03));
  }
  return MulAddExact(r2, h, r);
}

// u = n ln2 + r for u <= 0, u clamped at -clamp (NaN passes): t = kShifter + n, and r.
template <class D, class V = hn::Vec<D>>
HWY_INLINE void ExpReduce(D d, V u, hn::TFromD<D> clamp, V& t, V& r) {
  using C = ActivationConsts<hn::TFromD<D>>;
  const V lo = hn::Set(d, -clamp);
  u = hn::IfThenElse(hn::Lt(u, lo), lo, u);
  const V shifter = hn::Set(d, C::kShifter);
  t = MulAddExact(u, hn::Set(d, C::kLog2e), shifter);  // kShifter + n exactly
  const V n = hn::Sub(t, shifter);
  r = MulAddExact(n, hn::Set(d, -C::kLn2Hi), u);  // exact
  r = MulAddExact(n, hn::Set(d, -C::kLn2Lo), r);
}

// t = kShifter + n: hi = 2^floor(n/2), lo = 2^ceil(n/2).
template <class D, class V = hn::Vec<D>>
HWY_INLINE void Pow2Halves(D d, V t, V& hi, V& lo) {
  using C = ActivationConsts<hn::TFromD<D>>;
  const hn::RebindToUnsigned<D> du;
  const auto u = hn::Sub(hn::BitCast(du, t), hn::Set(du, C::kShifterBits - C::kBias2));
  const auto e_hi = hn::ShiftRight<1>(u);
  const auto e_lo = hn::Sub(u, e_hi);
  hi = hn::BitCast(d, hn::ShiftLeft<C::kMantissaBits>(e_hi));
  lo = hn::BitCast(d, hn::ShiftLeft<C::kMantissaBits>(e_lo));
}

// t = kShifter + n with 2^n normal: 2^n.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Pow2(D d, V t) {
  using C = ActivationConsts<hn::TFromD<D>>;
  const hn::RebindToUnsigned<D> du;
  const auto u = hn::Sub(hn::BitCast(du, t), hn::Set(du, C::kShifterBits - C::kBias));
  return hn::BitCast(d, hn::ShiftLeft<C::kMantissaBits>(u));
}

// exp(u) = m * lo from t = kShifter + n and pm1 = expm1(r): m = 2^floor(n/2) (1 + pm1) rounded
// once (a normal number), lo = 2^ceil(n/2) (normal). m * lo rounds again only where exp(u) is
// subnormal; callers that divide or multiply first apply lo last, so that a subnormal result is
// rounded once.
template <class D, class V = hn::Vec<D>>
HWY_INLINE void ExpParts(D d, V t, V pm1, V& m, V& lo) {
  V hi;
  Pow2Halves(d, t, hi, lo);
  m = MulAddExact(pm1, hi, hi);
}

// x <= 0 over the whole range (gradual underflow): e = exp(x) = m * lo as above; x is clamped at
// -clamp (kClamp, or kGeluClamp: at most 158 and 1084 halvings, for which m and lo stay normal).
template <class D, class V = hn::Vec<D>>
HWY_INLINE void ExpNonPositiveParts(D d, V x, V& e, V& m, V& lo, hn::TFromD<D> clamp) {
  V t, r;
  ExpReduce(d, x, clamp, t, r);
  ExpParts(d, t, Expm1Poly(d, r), m, lo);
  e = hn::Mul(m, lo);
}

// expm1(u) for u <= 0, u clamped at -kTanhClamp (where expm1 is -1 to well below an ulp), so that
// 2^n is one normal number: 2^n expm1(r) + (2^n - 1) in one rounding. 2^n - 1 is exact for
// n >= -(mantissa bits + 1); below that the result is -1 within an ulp.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Expm1TanhRange(D d, V u) {
  using T = hn::TFromD<D>;
  V t, r;
  ExpReduce(d, u, ActivationConsts<T>::kTanhClamp, t, r);
  const V s = Pow2(d, t);
  return MulAddExact(s, Expm1Poly(d, r), hn::Sub(s, hn::Set(d, T(1))));
}

// tanh(x) = sign(x) * -e / (2 + e), e = expm1(-2|x|) in [-1, 0]: relative accuracy for tiny |x|
// (e ~ -2|x|), exactly +-1 for large |x| (e = -1), no overflow anywhere.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Tanh(D d, V x) {
  using T = hn::TFromD<D>;
  const V e = Expm1TanhRange(d, hn::Mul(hn::Abs(x), hn::Set(d, T(-2))));
  return hn::CopySign(hn::Div(hn::Neg(e), hn::Add(e, hn::Set(d, T(2)))), x);
}

// sigmoid(x) = (x >= 0 ? 1 : e) / (1 + e), e = exp(-|x|) = m lo: exp never overflows, and the left
// tail (m / (1 + e)) lo underflows gradually with one rounding in the subnormals.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Sigmoid(D d, V x) {
  using T = hn::TFromD<D>;
  const V one = hn::Set(d, T(1));
  V e, m, lo;
  ExpNonPositiveParts(d, hn::Neg(hn::Abs(x)), e, m, lo, ActivationConsts<T>::kClamp);
  const auto pos = hn::Ge(x, hn::Zero(d));
  return hn::Mul(hn::Div(hn::IfThenElse(pos, one, m), hn::Add(one, e)), hn::IfThenElse(pos, one, lo));
}

// ---- GELU (tanh form): gelu(z) = z s, s = sigmoid(v), v = kGeluV1 (z + kGeluV3 z^3) ----------------
//
// With e = exp(-|v|) = m lo: gelu(z) = z / (1 + e) for v >= 0 and (zc m / (1 + e)) lo for v < 0
// (one rounding in the subnormals); s = (v >= 0 ? 1 : e) / (1 + e) and s (1 - s) = e / (1 + e)^2
// are accurate in both tails, and gelu'(z) = s + z s (1 - s) v'(z), v'(z) = kGeluV1 (1 + 3 kGeluV3
// z^2). zc is z clamped to +-100, where sigmoid(v) is exactly 0 or 1 already, so that z^3 and v'
// stay finite (and gelu(-inf) = -0).
//
// For z < 0, gelu(z) ~ z exp(v): the result's relative error is v's absolute error, |v| times v's
// relative rounding error. Double lanes accept that (see model/mlp_kernels.h). Float lanes form v
// and its reduction v = n ln2 + r in double, and only then go to float (r to 2^-24 relative, n
// exactly), so the float result is within a few ulp everywhere at little more than float cost.

// z clamped to +-kGeluZClamp.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V GeluClampZ(D d, V z) {
  const V lim = hn::Set(d, static_cast<hn::TFromD<D>>(kGeluZClamp));
  return hn::IfThenElse(hn::Gt(hn::Abs(z), lim), hn::CopySign(lim, z), z);
}

// Double lanes: z -> zc (clamped), zc^2, v.
template <class D, class V = hn::Vec<D>>
HWY_INLINE void GeluArg(D d, V z, V& zc, V& z2, V& v) {
  zc = GeluClampZ(d, z);
  z2 = hn::Mul(zc, zc);
  v = hn::Mul(hn::Set(d, kGeluV1), MulAddExact(hn::Mul(hn::Set(d, kGeluV3), z2), zc, zc));
}

// gelu(z), or gelu'(z) for Grad, from the sign of v, exp(-|v|) = m lo and zc, zc^2 (any lanes).
template <bool Grad, class D, class V = hn::Vec<D>>
HWY_INLINE V GeluFinish(D d, V z, V v, V m, V lo, V zc, V z2) {
  using T = hn::TFromD<D>;
  const V one = hn::Set(d, T(1));
  const V e = hn::Mul(m, lo);
  const V den = hn::Add(one, e);
  const auto pos = hn::Ge(v, hn::Zero(d));
  if constexpr (!Grad) {
    return hn::Mul(hn::Div(hn::IfThenElse(pos, z, hn::Mul(zc, m)), den), hn::IfThenElse(pos, one, lo));
  } else {
    const V s = hn::Div(hn::IfThenElse(pos, one, e), den);
    const V s1ms = hn::Div(e, hn::Mul(den, den));
    const V dv = hn::Mul(hn::Set(d, static_cast<T>(kGeluV1)), MulAddExact(hn::Set(d, static_cast<T>(kGeluV3x3)), z2, one));
    return MulAddExact(hn::Mul(zc, s1ms), dv, s);
  }
}

// Double lanes, the part of float GELU done in double: v, and -|v| = n ln2 + r (n as a double).
template <class D, class V = hn::Vec<D>>
HWY_INLINE void GeluReduceForFloat(D d, V z, V& v, V& n, V& r) {
  V zc, z2, t;
  GeluArg(d, z, zc, z2, v);
  ExpReduce(d, hn::Neg(hn::Abs(v)), static_cast<double>(ActivationConsts<float>::kGeluClamp), t, r);
  n = hn::Sub(t, hn::Set(d, ActivationConsts<double>::kShifter));
}

// gelu(z), or gelu'(z) for Grad, on lanes of float or double.
template <bool Grad, class D, class V = hn::Vec<D>>
HWY_INLINE V Gelu(D d, V z) {
  using T = hn::TFromD<D>;
  if constexpr (std::is_same_v<T, double>) {
    V zc, z2, v, e, m, lo;
    GeluArg(d, z, zc, z2, v);
    ExpNonPositiveParts(d, hn::Neg(hn::Abs(v)), e, m, lo, ActivationConsts<double>::kGeluClamp);
    return GeluFinish<Grad>(d, z, v, m, lo, zc, z2);
  } else {
    V v, n, r;
#if HWY_TARGET == HWY_SCALAR
    {
      // One lane: no halves to split into (and Highway's scalar target has no UpperHalf). The
      // scalar DemoteTo saturates at +-FLT_MAX, which never matters here: v, n and r are finite
      // (z is clamped to +-100 first) or NaN.
      const hn::Rebind<double, D> dd;
      hn::Vec<decltype(dd)> vd, nd, rd;
      GeluReduceForFloat(dd, hn::PromoteTo(dd, z), vd, nd, rd);
      v = hn::DemoteTo(d, vd);
      n = hn::DemoteTo(d, nd);
      r = hn::DemoteTo(d, rd);
    }
#else
    {
      // Each half of the float lanes widened to a vector of doubles (exact), and the results
      // narrowed back (correctly rounded; n exactly).
      const hn::Half<D> dh;
      const hn::Rebind<double, decltype(dh)> dd;
      hn::Vec<decltype(dd)> vl, vh, nl, nh, rl, rh;
      GeluReduceForFloat(dd, hn::PromoteTo(dd, hn::LowerHalf(dh, z)), vl, nl, rl);
      GeluReduceForFloat(dd, hn::PromoteTo(dd, hn::UpperHalf(dh, z)), vh, nh, rh);
      v = hn::Combine(d, hn::DemoteTo(dh, vh), hn::DemoteTo(dh, vl));
      n = hn::Combine(d, hn::DemoteTo(dh, nh), hn::DemoteTo(dh, nl));
      r = hn::Combine(d, hn::DemoteTo(dh, rh), hn::DemoteTo(dh, rl));
    }
#endif
    const V t = hn::Add(n, hn::Set(d, ActivationConsts<float>::kShifter));  // exact: |n| <= 162
    V m, lo;
    ExpParts(d, t, Expm1Poly(d, r), m, lo);
    const V zc = GeluClampZ(d, z);
    return GeluFinish<Grad>(d, z, v, m, lo, zc, hn::Mul(zc, zc));
  }
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_SIMD_ACTIVATION_INL_H_
