// array_ops.cpp — see array_ops.h. Compiled once per SIMD target (hwy/foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/array_ops.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <limits>

#include "simd/array_ops.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void AddArrays(std::size_t n, double* a, const double* b) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(a, hn::Add(load(a), load(b))); });
}

bool ScaleAndCheckFinite(std::size_t n, double* g, double factor) {
  const hn::ScalableTag<double> d;
  const auto f = hn::Set(d, factor);
  const auto max = hn::Set(d, std::numeric_limits<double>::max());
  // |x| <= DBL_MAX is false exactly for inf and NaN; the zero padding of a tail is finite.
  auto finite = hn::Eq(f, f);  // all true
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto x = hn::Mul(load(g), f);
    store(g, x);
    finite = hn::And(finite, hn::Le(hn::Abs(x), max));
  });
  return hn::AllTrue(d, finite);
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::simd {
HWY_EXPORT(AddArrays);
HWY_EXPORT(ScaleAndCheckFinite);

void add_arrays(std::size_t n, double* a, const double* b) { HWY_DYNAMIC_DISPATCH(AddArrays)(n, a, b); }

bool scale_and_check_finite(std::size_t n, double* g, double factor) {
  return HWY_DYNAMIC_DISPATCH(ScaleAndCheckFinite)(n, g, factor);
}

}  // namespace parafit::simd
#endif  // HWY_ONCE
