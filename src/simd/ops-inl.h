// ops-inl.h — the house rules every SIMD kernel is written with, on Highway vectors. Included by a
// kernel source after hwy/highway.h, inside Highway's per-target compilation (foreach_target.h):
// everything here is compiled once per target.
//
// * Logical width. Element-wise code uses the full register (ScalableTag): each element's result is
//   the same whatever the register width. A sum over rows must not depend on the register width,
//   so it uses a fixed number of lanes (kSumLanes doubles, FixedSum below) on every target: the
//   wider targets run it on part of a register, the scalar one on kSumLanes scalars.
// * FMA. An operation written MulAddExact is a fused multiply-add (one rounding) on every target:
//   the hardware instruction where the target has one (AVX2, AVX-512, NEON, SVE), std::fma lane by
//   lane where it does not (SSE4, scalar: correct and slow). Everything else — Mul then Add — is
//   rounded twice on every target: the library is compiled with -ffp-contract=off, so the compiler
//   never fuses them (src/CMakeLists.txt). Which operations are fused is therefore part of the
//   source, not of the target.
// * Tails. A loop over n elements runs whole vectors, then the last n mod N elements through a
//   zero-padded vector (ForEachVector): reads and writes never pass the end of an array.

// Per-target include guard (Highway's toggle idiom).
#if defined(PARAFIT_SIMD_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PARAFIT_SIMD_OPS_INL_H_
#undef PARAFIT_SIMD_OPS_INL_H_
#else
#define PARAFIT_SIMD_OPS_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Lanes of every sum over rows, on every target (see above): 4 doubles. Four because the Gram
// kernel of least squares keeps up to 10 sums in registers at once, which with 4 lanes fit AVX2's
// 16 registers; the fits' bits are those parafit gave before it moved onto Highway.
inline constexpr std::size_t kSumLanes = 4;

// The registers of one kSumLanes-double sum: kSumRegs vectors of SumTag, lanes in order (row i
// of a group of kSumLanes goes to lane i of the concatenation). One half register on AVX-512, one
// register on AVX2, two on SSE4 and NEON, four scalars on the scalar target.
using SumTag = hn::CappedTag<double, kSumLanes>;
inline constexpr std::size_t kSumRegs = kSumLanes / hn::MaxLanes(SumTag());
static_assert(kSumRegs * hn::MaxLanes(SumTag()) == kSumLanes);

// a * b + c rounded once, on every target.
template <class V>
HWY_INLINE V MulAddExact(V a, V b, V c) {
#if HWY_NATIVE_FMA
  return hn::MulAdd(a, b, c);
#else
  using T = hn::TFromV<V>;
  const hn::DFromV<V> d;
  constexpr std::size_t kMax = hn::MaxLanes(hn::DFromV<V>());
  HWY_ALIGN T av[kMax], bv[kMax], cv[kMax];
  hn::Store(a, d, av);
  hn::Store(b, d, bv);
  hn::Store(c, d, cv);
  for (std::size_t i = 0; i < hn::Lanes(d); ++i) av[i] = std::fma(av[i], bv[i], cv[i]);
  return hn::Load(d, av);
#endif
}

// Runs body(i, vectors...) over [0, n) in steps of Lanes(d): body receives the start index and
// returns nothing; it loads and stores through the Span it is given. For the tail, inputs are
// copied into zero-padded buffers and outputs copied back, so body sees whole vectors everywhere.
//
// Usage: ForEachVector(d, n, [&](auto load, auto store) { store(out, f(load(in))); });
// where load(p) gives the vector at p + i and store(p, v) writes it (only the valid lanes of a tail).
template <class D, class Body>
HWY_INLINE void ForEachVector(D d, std::size_t n, const Body& body) {
  using T = hn::TFromD<D>;
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto load = [&](const T* p) { return hn::LoadU(d, p + i); };
    const auto store = [&](T* p, hn::Vec<D> v) { hn::StoreU(v, d, p + i); };
    body(load, store);
  }
  if (i < n) {
    const std::size_t rest = n - i;
    const auto load = [&](const T* p) {
      HWY_ALIGN T buf[hn::MaxLanes(D())] = {};
      for (std::size_t k = 0; k < rest; ++k) buf[k] = p[i + k];
      return hn::Load(d, buf);
    };
    const auto store = [&](T* p, hn::Vec<D> v) {
      HWY_ALIGN T buf[hn::MaxLanes(D())];
      hn::Store(v, d, buf);
      for (std::size_t k = 0; k < rest; ++k) p[i + k] = buf[k];
    };
    body(load, store);
  }
}

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // PARAFIT_SIMD_OPS_INL_H_
