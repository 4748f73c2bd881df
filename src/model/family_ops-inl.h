// family_ops-inl.h — pieces of the built-in families' row kernels that their lane twins
// (batch/lane_kernels.cpp) use too, so both do the same operations: ln x for x > 0 (log, power)
// and the clamped power (x/c)^b (logistic4). Per-target code: include after hwy/highway.h.
#if defined(PARAFIT_MODEL_FAMILY_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PARAFIT_MODEL_FAMILY_OPS_INL_H_
#undef PARAFIT_MODEL_FAMILY_OPS_INL_H_
#else
#define PARAFIT_MODEL_FAMILY_OPS_INL_H_
#endif

#include <hwy/highway.h>
#include <limits>

#include "simd/exp-inl.h"
#include "simd/log-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ln x for x > 0, NaN otherwise (log gives -inf at 0, which is not "undefined" enough: it turns
// into NaN or +-inf downstream depending on the parameters).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V LogPositive(D d, V x) {
  return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), simd::HWY_NAMESPACE::Log(d, x),
                        hn::Set(d, std::numeric_limits<hn::TFromD<D>>::quiet_NaN()));
}

// q = (x/c)^b = exp(z), z = b*l clamped to [-700, 700], from l = ln(x/c). At x = 0, b*l = -+inf
// gives the right limits once clamped; the clamp also keeps q finite so that w and s of logistic4
// never become 0*inf. NaN passes through. Float lanes (batch fits' --float32) clamp z to [-80, 80]
// for the same reasons within float's range (exp(80) = 5.5e34; 1/(1 + q) stays normal).
template <class D, class V = hn::Vec<D>>
HWY_INLINE V ClampedPower(D d, V b, V l) {
  using T = hn::TFromD<D>;
  const V z = hn::Mul(b, l);
  const V lim = hn::Set(d, sizeof(T) == 4 ? T(80) : T(700));
  return simd::HWY_NAMESPACE::Exp(d, hn::IfThenElse(hn::Gt(hn::Abs(z), lim), hn::CopySign(lim, z), z));
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_MODEL_FAMILY_OPS_INL_H_
