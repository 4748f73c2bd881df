// array_ops.cpp — see array_ops.h. Compiled once per SIMD target (hwy/foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/array_ops.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <limits>

#include "simd/array_ops.h"
#include "simd/exp-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void AddArrays(std::size_t n, double* a, const double* b) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(a, hn::Add(load(a), load(b))); });
}

// Node [0, N) of the tree over the N rows from `rows` on, at the current vector.
template <std::size_t N, class Load>
HWY_INLINE auto TreeNode(const Load& load, const double* rows, std::size_t stride) {
  if constexpr (N == 1) {
    return load(rows);
  } else {
    const auto left = TreeNode<N / 2>(load, rows, stride);
    return hn::Add(left, TreeNode<N - N / 2>(load, rows + (N / 2) * stride, stride));
  }
}

template <std::size_t N>
void TreeSumOf(const double* rows, std::size_t stride, std::size_t n, double* out) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(out, TreeNode<N>(load, rows, stride)); });
}

void TreeSum(std::size_t count, const double* rows, std::size_t stride, std::size_t n, double* out) {
  static_assert(kTreeSumRows == 8);
  switch (count) {
    case 1: return TreeSumOf<1>(rows, stride, n, out);
    case 2: return TreeSumOf<2>(rows, stride, n, out);
    case 3: return TreeSumOf<3>(rows, stride, n, out);
    case 4: return TreeSumOf<4>(rows, stride, n, out);
    case 5: return TreeSumOf<5>(rows, stride, n, out);
    case 6: return TreeSumOf<6>(rows, stride, n, out);
    case 7: return TreeSumOf<7>(rows, stride, n, out);
    default: return TreeSumOf<8>(rows, stride, n, out);
  }
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

void ExpArray(std::size_t n, double* a) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) { store(a, Exp(d, load(a))); });
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::simd {
HWY_EXPORT(AddArrays);
HWY_EXPORT(ScaleAndCheckFinite);
HWY_EXPORT(TreeSum);
HWY_EXPORT(ExpArray);

void exp_array(std::size_t n, double* a) { HWY_DYNAMIC_DISPATCH(ExpArray)(n, a); }

void tree_sum(std::size_t count, const double* rows, std::size_t stride, std::size_t n, double* out) {
  HWY_DYNAMIC_DISPATCH(TreeSum)(count, rows, stride, n, out);
}

void add_arrays(std::size_t n, double* a, const double* b) { HWY_DYNAMIC_DISPATCH(AddArrays)(n, a, b); }

bool scale_and_check_finite(std::size_t n, double* g, double factor) {
  return HWY_DYNAMIC_DISPATCH(ScaleAndCheckFinite)(n, g, factor);
}

}  // namespace parafit::simd
#endif  // HWY_ONCE
