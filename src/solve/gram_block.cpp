// gram_block.cpp — the Gram sums of one tile over one block of rows (solve/gram_block.h), written
// once on Highway and compiled for each target by hwy/foreach_target.h.
//
// Same bits on every target. Every sum has kSumLanes = 4 lanes (simd/ops-inl.h): row i of a block
// goes to lane i mod 4, the lanes start at zero in each block and are added into the chunk's lanes
// at its end. Per lane that is one fixed sequence of roundings — w*v, then (w*v)*v', then the add
// into the lane, row after row; Mul then Add, never fused (-ffp-contract=off) — whatever the
// register width: the 4 lanes are one half register on AVX-512, one register on AVX2, two on
// SSE4, four scalars on SCALAR. Rows that do not fill the last group of 4 are padded with zeros:
// they add +0 to those lanes. These are the bits of the GCC-vector kernel this replaced.
//
// Speed. Where the 4 lanes take several registers (SSE4: 2, SCALAR: 4), the block is swept once
// per register, each sweep taking only its lanes of every group of 4 rows: a sweep then keeps one
// register per sum (10 for a triangle of 4 columns, within SSE's 16), where keeping all of them
// at once spilled. The lanes are independent, so the order of a lane's additions is unchanged.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "solve/gram_block.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/ops-inl.h"
#include "solve/gram_block.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::kSumLanes;
using simd::HWY_NAMESPACE::kSumRegs;
using simd::HWY_NAMESPACE::SumTag;
using V = hn::Vec<SumTag>;
static_assert(kSumLanes == kGramLanes);

// The loops over columns are unrolled (#pragma GCC unroll) so that the arrays of vectors become
// registers: left as loops, GCC kept some of them in memory and the tiled kernels ran 3x slower.

// The rows at i (this sweep's lanes of one group of 4) of a triangular tile on columns
// v_0..v_{A-1}: s(a, c) += (w v_a) v_c, c >= a, row by row of the triangle.
template <int A, bool Residual, bool Weighted>
HWY_INLINE void TriStep(const GramInputs& in, std::size_t i, V (&s)[A * (A + 1) / 2]) {
  const SumTag d;
  V v[A];
#pragma GCC unroll 16
  for (int a = 0; a < A; ++a) {
    if (Residual && a == 0) {
      v[0] = hn::Sub(hn::LoadU(d, in.y + i), hn::LoadU(d, in.f + i));
    } else {
      v[a] = hn::LoadU(d, in.col[a] + i);
    }
  }
  V w = hn::Zero(d);
  if constexpr (Weighted) w = hn::LoadU(d, in.w + i);
  int k = 0;
#pragma GCC unroll 16
  for (int a = 0; a < A; ++a) {
    V u = v[a];
    if constexpr (Weighted) u = hn::Mul(w, v[a]);
#pragma GCC unroll 16
    for (int c = a; c < A; ++c) {
      s[k] = hn::Add(s[k], hn::Mul(u, v[c]));
      ++k;
    }
  }
}

// The rows at i of a rectangular tile: s(a, c) += (w u_a) v_c for the columns u_0..u_{A-1}
// (col[0..A)) and v_0..v_{B-1} (col[A..A+B)).
template <int A, int B, bool Weighted>
HWY_INLINE void RectStep(const GramInputs& in, std::size_t i, V (&s)[A * B]) {
  const SumTag d;
  V v[B];
#pragma GCC unroll 16
  for (int c = 0; c < B; ++c) v[c] = hn::LoadU(d, in.col[A + c] + i);
  V w = hn::Zero(d);
  if constexpr (Weighted) w = hn::LoadU(d, in.w + i);
#pragma GCC unroll 16
  for (int a = 0; a < A; ++a) {
    V u = hn::LoadU(d, in.col[a] + i);
    if constexpr (Weighted) u = hn::Mul(w, u);
#pragma GCC unroll 16
    for (int c = 0; c < B; ++c) s[a * B + c] = hn::Add(s[a * B + c], hn::Mul(u, v[c]));
  }
}

// The 1..3 rows after the last full group of 4, copied into a zero-padded group of 4, so that the
// same step handles them.
template <int Cols, bool Residual, bool Weighted>
struct PaddedTail {
  HWY_ALIGN double pad[Cols + 3][kSumLanes] = {};
  const double* col[Cols] = {};
  GramInputs in{col, pad[Cols], pad[Cols + 1], pad[Cols + 2]};

  PaddedTail(const GramInputs& from, std::size_t i, std::size_t n) {
    const std::size_t rest = n - i;
    for (int a = 0; a < Cols; ++a) {
      if (!(Residual && a == 0))
        for (std::size_t k = 0; k < rest; ++k) pad[a][k] = from.col[a][i + k];
      col[a] = pad[a];
    }
    for (std::size_t k = 0; k < rest; ++k) {
      if constexpr (Residual) {
        pad[Cols][k] = from.y[i + k];
        pad[Cols + 1][k] = from.f[i + k];
      }
      if constexpr (Weighted) pad[Cols + 2][k] = from.w[i + k];
    }
  }
};

// A tile's sums of one sweep added into the chunk's lanes acc[4*index[k] + lane], from `lane0`.
template <int S>
HWY_INLINE void AddInto(double* acc, std::size_t lane0, const std::size_t* index, const V (&s)[S]) {
  const SumTag d;
#pragma GCC unroll 16
  for (int k = 0; k < S; ++k) {
    double* p = acc + kSumLanes * index[k] + lane0;
    hn::StoreU(hn::Add(hn::LoadU(d, p), s[k]), d, p);
  }
}

// The whole block, one sweep per register of the 4 lanes (see the top of the file).
template <int S, int Cols, bool Residual, bool Weighted, class Step>
HWY_INLINE void Sweeps(std::size_t n, const GramInputs& in, double* acc, const std::size_t* index,
                       const Step& step) {
  const SumTag d;
  const std::size_t full = n - n % kSumLanes;
  const PaddedTail<Cols, Residual, Weighted> tail(in, full, n);
  for (std::size_t q = 0; q < kSumRegs; ++q) {
    const std::size_t lane0 = q * hn::Lanes(d);
    V s[S];
#pragma GCC unroll 16
    for (int k = 0; k < S; ++k) s[k] = hn::Zero(d);
    for (std::size_t i = 0; i < full; i += kSumLanes) step(in, i + lane0, s);
    if (full < n) step(tail.in, lane0, s);
    AddInto(acc, lane0, index, s);
  }
}

template <int A, bool Residual, bool Weighted>
void TriBlock(std::size_t n, const GramInputs& in, double* acc, const std::size_t* index) {
  Sweeps<A * (A + 1) / 2, A, Residual, Weighted>(
      n, in, acc, index, [](const GramInputs& at, std::size_t i, V (&s)[A * (A + 1) / 2]) {
        TriStep<A, Residual, Weighted>(at, i, s);
      });
}

template <int A, int B, bool Weighted>
void RectBlock(std::size_t n, const GramInputs& in, double* acc, const std::size_t* index) {
  Sweeps<A * B, A + B, false, Weighted>(n, in, acc, index,
                                        [](const GramInputs& at, std::size_t i, V (&s)[A * B]) {
                                          RectStep<A, B, Weighted>(at, i, s);
                                        });
}

template <bool Residual, bool Weighted>
void Tri(int a, std::size_t n, const GramInputs& in, double* acc, const std::size_t* index) {
  switch (a) {
    case 1: TriBlock<1, Residual, Weighted>(n, in, acc, index); break;
    case 2: TriBlock<2, Residual, Weighted>(n, in, acc, index); break;
    case 3: TriBlock<3, Residual, Weighted>(n, in, acc, index); break;
    default: TriBlock<4, Residual, Weighted>(n, in, acc, index); break;
  }
}

template <int A, bool Weighted>
void Rect(int b, std::size_t n, const GramInputs& in, double* acc, const std::size_t* index) {
  switch (b) {
    case 1: RectBlock<A, 1, Weighted>(n, in, acc, index); break;
    case 2: RectBlock<A, 2, Weighted>(n, in, acc, index); break;
    case 3: RectBlock<A, 3, Weighted>(n, in, acc, index); break;
    default: RectBlock<A, 4, Weighted>(n, in, acc, index); break;
  }
}

// Compile-time sizes from run-time ones.
void GramBlock(const GramTileShape& t, std::size_t n, const GramInputs& in, double* acc,
               const std::size_t* index) {
  if (t.triangular) {
    if (t.residual) {
      if (t.weighted) Tri<true, true>(t.a, n, in, acc, index);
      else Tri<true, false>(t.a, n, in, acc, index);
    } else {
      if (t.weighted) Tri<false, true>(t.a, n, in, acc, index);
      else Tri<false, false>(t.a, n, in, acc, index);
    }
  } else if (t.a == 1) {
    if (t.weighted) Rect<1, true>(t.b, n, in, acc, index);
    else Rect<1, false>(t.b, n, in, acc, index);
  } else {
    if (t.weighted) Rect<2, true>(t.b, n, in, acc, index);
    else Rect<2, false>(t.b, n, in, acc, index);
  }
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::detail {
HWY_EXPORT(GramBlock);

void gram_block(const GramTileShape& shape, std::size_t n, const GramInputs& in, double* acc,
                const std::size_t* index) {
  HWY_DYNAMIC_DISPATCH(GramBlock)(shape, n, in, acc, index);
}

}  // namespace parafit::detail
#endif  // HWY_ONCE
