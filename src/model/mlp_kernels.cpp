// mlp_kernels.cpp — see mlp_kernels.h for the contract. Written once on Highway's portable vectors
// and compiled for every target in the build (hwy/foreach_target.h); HWY_DYNAMIC_DISPATCH runs the
// best copy this CPU has, or the one simd::ScopedTarget / PARAFIT_SIMD_TARGET forces.
//
// Same bits on every target: each output element is the same chain of correctly rounded operations
// whatever the register width or tile shape, the FMAs are explicit (MulAddExact: one rounding on
// every target), and nothing else is contracted (-ffp-contract=off on every parafit target). The
// activations come from simd/activation-inl.h, built from the same kind of operations.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/mlp_kernels.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "model/mlp_kernels.h"
#include "simd/activation-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::ForEachVector;
using simd::HWY_NAMESPACE::MulAddExact;

// ---- Register tiles per target ----------------------------------------------------------------
//
// One microkernel serves affine and accumulate_outer: an MR x (NV vectors) tile of an output matrix
// C, each element an FMA chain over an index kk in ascending order,
//   C[r][c] = fma(a[r * ars + kk * aks], b[kk * ldb + c], C[r][c]),
// started from C's contents (accumulate), a bias row, or +0. affine is (ars, aks) = (lda, 1),
// accumulate_outer is (1, lda) over the rows of A (a GEMM with A transposed). The MR x NV
// accumulators stay in registers for the whole chain; a row of b is loaded once per kk and reused
// by the MR rows, an element of a is broadcast once per kk and reused by the NV vectors.
// Tile sizes fill the register file while leaving room for the NV vectors of b and a broadcast:
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
// AVX-512, 32 registers: 6 x 4 = 24 accumulators (the 64 columns of a 64-wide float layer in one
// tile), 4 for b, 1 broadcast.
constexpr int kTileRows = 6;
constexpr int kTileVecs = 4;
#elif HWY_TARGET == HWY_SCALAR
// One lane: 4 x 2 scalar accumulators (without hardware FMA each MulAddExact is a call, which
// spills the registers anyway).
constexpr int kTileRows = 4;
constexpr int kTileVecs = 2;
#else
// 16 registers (AVX2, SSE4): 6 x 2 = 12 accumulators, 2 for b, 1 broadcast.
constexpr int kTileRows = 6;
constexpr int kTileVecs = 2;
#endif

// Whether a masked load or store of the first lanes of a vector leaves the rest of memory alone
// (no read past the end of a row that could fault): AVX-512's masked moves, and AVX2's vmaskmov,
// which Highway 1.0.3 uses for 32- and 64-bit lanes although it sets HWY_MEM_OPS_MIGHT_FAULT for
// AVX2 (for its 8- and 16-bit lanes). Elsewhere the partial vectors go through padded copies.
constexpr bool kMaskedMemoryIsSafe = !HWY_MEM_OPS_MIGHT_FAULT || (HWY_ARCH_X86 && HWY_TARGET == HWY_AVX2);

// The first `count` lanes at p, the others zero; reads nothing beyond p[count - 1].
template <class D, class T = hn::TFromD<D>>
HWY_INLINE hn::Vec<D> LoadFirst(D d, const T* p, std::size_t count) {
  if constexpr (kMaskedMemoryIsSafe) {
    return hn::MaskedLoad(hn::FirstN(d, count), d, p);
  } else {
    HWY_ALIGN T buf[hn::MaxLanes(D())] = {};
    std::copy(p, p + count, buf);
    return hn::Load(d, buf);
  }
}

// Writes the first `count` lanes of v to p; nothing beyond p[count - 1].
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void StoreFirst(D d, hn::Vec<D> v, T* p, std::size_t count) {
  if constexpr (kMaskedMemoryIsSafe) {
    hn::BlendedStore(v, hn::FirstN(d, count), d, p);
  } else {
    HWY_ALIGN T buf[hn::MaxLanes(D())];
    hn::Store(v, d, buf);
    std::copy(buf, buf + count, p);
  }
}

enum class Start { kZero, kBias, kLoad };

// The last vector of a tile holds `last` columns (all of it unless Masked).
template <class D, int MR, int NV, bool Masked, class T = hn::TFromD<D>>
void Tile(std::size_t k, const T* a, std::size_t ars, std::size_t aks, const T* b, std::size_t ldb,
          Start start, const T* bias, T* c, std::size_t ldc, std::size_t last) {
  const D d;
  using V = hn::Vec<D>;
  constexpr std::size_t W = hn::MaxLanes(D());
  const auto load_vec = [&](const T* p, int v) {
    return (Masked && v == NV - 1) ? LoadFirst(d, p, last) : hn::LoadU(d, p);
  };
  V acc[MR][NV];
  if (start == Start::kLoad) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = load_vec(c + r * ldc + v * W, v);
    }
  } else {
    V init[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) init[v] = start == Start::kBias ? load_vec(bias + v * W, v) : hn::Zero(d);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = init[v];
    }
  }
  for (std::size_t kk = 0; kk < k; ++kk) {
    const T* bk = b + kk * ldb;
    const T* ak = a + kk * aks;
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = load_vec(bk + v * W, v);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const V av = hn::Set(d, ak[r * ars]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = MulAddExact(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* p = c + r * ldc + v * W;
      if (Masked && v == NV - 1) {
        StoreFirst(d, acc[r][v], p, last);
      } else {
        hn::StoreU(acc[r][v], d, p);
      }
    }
  }
}

template <class D, class T = hn::TFromD<D>>
using TileFn = void (*)(std::size_t, const T*, std::size_t, std::size_t, const T*, std::size_t, Start, const T*, T*,
                        std::size_t, std::size_t);

// The instantiation for mr rows (1..kTileRows) and nv vectors (1..kTileVecs), masked or not.
template <class D, int MR, int NV = kTileVecs>
TileFn<D> PickVecs(int nv, bool masked) {
  if constexpr (NV > 1) {
    if (nv < NV) return PickVecs<D, MR, NV - 1>(nv, masked);
  }
  return masked ? &Tile<D, MR, NV, true> : &Tile<D, MR, NV, false>;
}

template <class D, int MR = kTileRows>
TileFn<D> PickTile(int mr, int nv, bool masked) {
  if constexpr (MR > 1) {
    if (mr < MR) return PickTile<D, MR - 1>(mr, nv, masked);
  }
  return PickVecs<D, MR>(nv, masked);
}

// C (m x n) from the microkernel over the whole matrix: column blocks of kTileVecs vectors outside
// (the block of b stays in L1 while the rows pass), row blocks of kTileRows inside.
template <class D, class T = hn::TFromD<D>>
void Tiled(std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t ars, std::size_t aks, const T* b,
           std::size_t ldb, Start start, const T* bias, T* c, std::size_t ldc) {
  constexpr std::size_t W = hn::MaxLanes(D());
  constexpr std::size_t kBlockCols = kTileVecs * W;
  for (std::size_t c0 = 0; c0 < n; c0 += kBlockCols) {
    const std::size_t cols = std::min(kBlockCols, n - c0);
    const int nv = static_cast<int>((cols + W - 1) / W);
    const std::size_t last = cols - static_cast<std::size_t>(nv - 1) * W;
    const bool masked = last != W;
    const TileFn<D> full = PickTile<D>(kTileRows, nv, masked);
    const T* bias_c = bias != nullptr ? bias + c0 : nullptr;
    std::size_t r0 = 0;
    for (; r0 + kTileRows <= m; r0 += kTileRows) {
      full(k, a + r0 * ars, ars, aks, b + c0, ldb, start, bias_c, c + r0 * ldc + c0, ldc, last);
    }
    if (r0 < m) {
      PickTile<D>(static_cast<int>(m - r0), nv, masked)(k, a + r0 * ars, ars, aks, b + c0, ldb, start, bias_c,
                                                        c + r0 * ldc + c0, ldc, last);
    }
  }
}

// accumulate_outer for narrow D (n < one vector): vectors run along j instead,
// G[j..j+W)[col] = fma(A[i][j..j+W), D[i][col], G[j..j+W)[col]) for i ascending, MV vectors of j
// at a time (the same chains as the microkernel's, only laid out differently).
template <class D, int MV, class T = hn::TFromD<D>>
void OuterNarrow(std::size_t rows, const T* a, std::size_t lda, const T* dp, std::size_t ldd, T* g,
                 std::size_t ldg, bool from_zero) {
  const D d;
  using V = hn::Vec<D>;
  constexpr std::size_t W = hn::MaxLanes(D());
  HWY_ALIGN T buf[MV * W];
  for (std::size_t j = 0; j < MV * W; ++j) buf[j] = from_zero ? T(0) : g[j * ldg];
  V acc[MV];
#pragma GCC unroll 8
  for (int v = 0; v < MV; ++v) acc[v] = hn::Load(d, buf + v * W);
  for (std::size_t i = 0; i < rows; ++i) {
    const V dv = hn::Set(d, dp[i * ldd]);
    const T* ai = a + i * lda;
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) acc[v] = MulAddExact(hn::LoadU(d, ai + v * W), dv, acc[v]);
  }
#pragma GCC unroll 8
  for (int v = 0; v < MV; ++v) hn::Store(acc[v], d, buf + v * W);
  for (std::size_t j = 0; j < MV * W; ++j) g[j * ldg] = buf[j];
}

constexpr int kNarrowVecs = 8;

template <class D, int MV = kNarrowVecs, class T = hn::TFromD<D>>
void OuterNarrowAny(int mv, std::size_t rows, const T* a, std::size_t lda, const T* dp, std::size_t ldd, T* g,
                    std::size_t ldg, bool from_zero) {
  if constexpr (MV > 1) {
    if (mv < MV) return OuterNarrowAny<D, MV - 1>(mv, rows, a, lda, dp, ldd, g, ldg, from_zero);
  }
  OuterNarrow<D, MV>(rows, a, lda, dp, ldd, g, ldg, from_zero);
}

// affine for one output column stored contiguously (n == 1, ldc == 1: the output layer): vectors
// run along the rows of A instead, each lane one row's chain acc = fma(A[i][kk], B[kk], acc) over
// kk ascending (the microkernel's chain), the column kk of a block of rows gathered. The register
// tile would spend a whole vector on each row's single column. MV vectors of rows at a time.
template <class D, int MV, class T = hn::TFromD<D>>
void ColumnRows(std::size_t k, const T* a, std::size_t lda, const T* b, std::size_t ldb, const T* bias, T* c,
                std::size_t rows) {
  const D d;
  const hn::RebindToSigned<D> di;
  using V = hn::Vec<D>;
  using I = hn::TFromD<decltype(di)>;
  constexpr std::size_t W = hn::MaxLanes(D());
  // Lane j reads row j; the lanes past `rows` (a partial last vector) read row 0 again: nothing
  // beyond A, and their results are not stored.
  hn::Vec<decltype(di)> index[MV];
#pragma GCC unroll 4
  for (int v = 0; v < MV; ++v) {
    const auto lane = hn::Add(hn::Iota(di, I(0)), hn::Set(di, I(std::size_t(v) * W)));
    const auto valid = hn::Lt(lane, hn::Set(di, I(rows)));
    index[v] = hn::IfThenElseZero(valid, hn::Mul(lane, hn::Set(di, I(lda))));
  }
  V acc[MV];
  const V init = bias != nullptr ? hn::Set(d, bias[0]) : hn::Zero(d);
#pragma GCC unroll 4
  for (int v = 0; v < MV; ++v) acc[v] = init;
  for (std::size_t kk = 0; kk < k; ++kk) {
    const V bv = hn::Set(d, b[kk * ldb]);
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v) acc[v] = MulAddExact(hn::GatherIndex(d, a + kk, index[v]), bv, acc[v]);
  }
#pragma GCC unroll 4
  for (int v = 0; v < MV; ++v) {
    const std::size_t first = std::size_t(v) * W;
    if (first >= rows) break;
    StoreFirst(d, acc[v], c + first, std::min(W, rows - first));
  }
}

// Vectors of rows per ColumnRows call: enough independent chains to hide the FMA latency.
constexpr int kColumnVecs = 4;

template <class D, class T = hn::TFromD<D>>
void Column(std::size_t m, std::size_t k, const T* A, std::size_t lda, const T* B, std::size_t ldb, const T* bias,
            T* C) {
  constexpr std::size_t W = hn::MaxLanes(D());
  constexpr std::size_t kRows = kColumnVecs * W;
  std::size_t r0 = 0;
  for (; r0 + kRows <= m; r0 += kRows) ColumnRows<D, kColumnVecs>(k, A + r0 * lda, lda, B, ldb, bias, C + r0, kRows);
  if (r0 == m) return;
  // The rest with as few vectors as it needs.
  const std::size_t rest = m - r0;
  const auto run = [&](auto vecs) {
    ColumnRows<D, decltype(vecs)::value>(k, A + r0 * lda, lda, B, ldb, bias, C + r0, rest);
  };
  static_assert(kColumnVecs == 4);
  switch ((rest + W - 1) / W) {
    case 1: return run(std::integral_constant<int, 1>());
    case 2: return run(std::integral_constant<int, 2>());
    case 3: return run(std::integral_constant<int, 3>());
    default: return run(std::integral_constant<int, 4>());
  }
}

template <class T>
void Affine(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B, std::size_t ldb,
            const T* bias, T* C, std::size_t ldc) {
  using D = hn::ScalableTag<T>;
  using I = hn::TFromD<hn::RebindToSigned<D>>;
  // (The gather's indices, lane x lda, must fit its signed lanes.)
  constexpr std::size_t kMaxLda = std::size_t(hwy::LimitsMax<I>()) / (kColumnVecs * hn::MaxLanes(D()));
  if (n == 1 && ldc == 1 && lda <= kMaxLda && k > 0) return Column<D>(m, k, A, lda, B, ldb, bias, C);
  Tiled<hn::ScalableTag<T>>(m, n, k, A, lda, 1, B, ldb, bias != nullptr ? Start::kBias : Start::kZero, bias, C,
                            ldc);
}

template <class T>
void AccumulateOuter(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda, const T* Dm,
                     std::size_t ldd, T* G, std::size_t ldg, bool from_zero) {
  using D = hn::ScalableTag<T>;
  constexpr std::size_t W = hn::MaxLanes(D());
  std::size_t j0 = 0;
  if (n < W) {
    for (std::size_t col = 0; col < n; ++col) {
      for (j0 = 0; j0 + W <= m;) {
        const std::size_t mv = std::min<std::size_t>(kNarrowVecs, (m - j0) / W);
        OuterNarrowAny<D>(static_cast<int>(mv), rows, A + j0, lda, Dm + col, ldd, G + j0 * ldg + col, ldg,
                          from_zero);
        j0 += mv * W;
      }
    }
  }
  // The rows of G not done above (all of them unless D is narrow).
  if (j0 < m)
    Tiled<D>(m - j0, n, rows, A + j0, 1, lda, Dm, ldd, from_zero ? Start::kZero : Start::kLoad,
             static_cast<const T*>(nullptr), G + j0 * ldg, ldg);
}

template <class T>
void AccumulateRows(std::size_t rows, std::size_t n, const T* Dm, std::size_t ldd, T* g, bool from_zero) {
  const hn::ScalableTag<T> d;
  using V = hn::Vec<decltype(d)>;
  constexpr std::size_t W = hn::MaxLanes(decltype(d)());
  constexpr std::size_t kVecs = 4;
  std::size_t c0 = 0;
  for (; c0 + kVecs * W <= n; c0 += kVecs * W) {
    V acc[kVecs];
    for (std::size_t v = 0; v < kVecs; ++v) acc[v] = from_zero ? hn::Zero(d) : hn::LoadU(d, g + c0 + v * W);
    for (std::size_t i = 0; i < rows; ++i) {
      const T* row = Dm + i * ldd + c0;
      for (std::size_t v = 0; v < kVecs; ++v) acc[v] = hn::Add(acc[v], hn::LoadU(d, row + v * W));
    }
    for (std::size_t v = 0; v < kVecs; ++v) hn::StoreU(acc[v], d, g + c0 + v * W);
  }
  for (; c0 < n; c0 += W) {
    const std::size_t count = std::min(W, n - c0);
    V acc = from_zero ? hn::Zero(d) : LoadFirst(d, g + c0, count);
    for (std::size_t i = 0; i < rows; ++i) acc = hn::Add(acc, LoadFirst(d, Dm + i * ldd + c0, count));
    StoreFirst(d, acc, g + c0, count);
  }
}

// ---- Activations --------------------------------------------------------------------------------

template <Activation A, class D, class V = hn::Vec<D>>
HWY_INLINE V ForwardV(D d, V z) {
  if constexpr (A == Activation::kTanh) return simd::HWY_NAMESPACE::Tanh(d, z);
  if constexpr (A == Activation::kSigmoid) return simd::HWY_NAMESPACE::Sigmoid(d, z);
  if constexpr (A == Activation::kRelu) return hn::IfThenElse(hn::Lt(z, hn::Zero(d)), hn::Zero(d), z);
  if constexpr (A == Activation::kGelu) return simd::HWY_NAMESPACE::Gelu<false>(d, z);
  return z;
}

// d * act'(z) from a = act(z) (or from z for GELU).
template <Activation A, class D, class V = hn::Vec<D>>
HWY_INLINE V BackwardV(D d, V z, V a, V dv) {
  using T = hn::TFromD<D>;
  if constexpr (A == Activation::kTanh) return hn::Mul(dv, MulAddExact(hn::Neg(a), a, hn::Set(d, T(1))));
  if constexpr (A == Activation::kSigmoid) return hn::Mul(dv, MulAddExact(hn::Neg(a), a, a));
  if constexpr (A == Activation::kRelu) return hn::IfThenElse(hn::Gt(a, hn::Zero(d)), dv, hn::Zero(d));
  if constexpr (A == Activation::kGelu) return hn::Mul(dv, simd::HWY_NAMESPACE::Gelu<true>(d, z));
  return dv;
}

template <Activation A, class T>
void ForwardLoop(std::size_t count, const T* z, T* a) {
  const hn::ScalableTag<T> d;
  ForEachVector(d, count, [&](auto load, auto store) { store(a, ForwardV<A>(d, load(z))); });
}

template <Activation A, class T>
void BackwardLoop(std::size_t count, const T* z, const T* a, T* dp) {
  const hn::ScalableTag<T> d;
  constexpr bool kReadsZ = A == Activation::kGelu;
  ForEachVector(d, count, [&](auto load, auto store) {
    const auto zv = kReadsZ ? load(z) : hn::Zero(d);
    const auto av = kReadsZ ? hn::Zero(d) : load(a);
    store(dp, BackwardV<A>(d, zv, av, load(dp)));
  });
}

template <class T>
void Forward(Activation act, std::size_t count, const T* z, T* a) {
  switch (act) {
    case Activation::kTanh: ForwardLoop<Activation::kTanh>(count, z, a); break;
    case Activation::kSigmoid: ForwardLoop<Activation::kSigmoid>(count, z, a); break;
    case Activation::kRelu: ForwardLoop<Activation::kRelu>(count, z, a); break;
    case Activation::kGelu: ForwardLoop<Activation::kGelu>(count, z, a); break;
    case Activation::kIdentity: ForwardLoop<Activation::kIdentity>(count, z, a); break;
  }
}

template <class T>
void Backward(Activation act, std::size_t count, const T* z, const T* a, T* dp) {
  switch (act) {
    case Activation::kTanh: BackwardLoop<Activation::kTanh>(count, z, a, dp); break;
    case Activation::kSigmoid: BackwardLoop<Activation::kSigmoid>(count, z, a, dp); break;
    case Activation::kRelu: BackwardLoop<Activation::kRelu>(count, z, a, dp); break;
    case Activation::kGelu: BackwardLoop<Activation::kGelu>(count, z, a, dp); break;
    case Activation::kIdentity: break;
  }
}

// ---- Hand-over between double and the model's precision ------------------------------------------
//
// Element-wise, so the register width does not matter to the bits. The strata engine widens each
// stratum's gradient a block of a few hundred values at a time into an L1 buffer of the strata
// tree (parallel/strata_tree.h): the widest vectors, up to 8 doubles, as the stores now land in L1
// (the L2-bound full-vector hand-over had measured 4 doubles 18% faster; 8 was not measured apart
// from the move into the tree). narrow_parameters writes the whole parameter vector (L2-bound: 4
// doubles a vector, AVX2 width, measured 18% faster than 8 on AVX-512).

// Vectors of up to 8 double lanes, with the matching lanes of T.
template <class T>
void WidenSums(std::size_t count, const T* sum, double* out) {
  const hn::CappedTag<double, 8> dd;
  const hn::Rebind<T, decltype(dd)> dt;
  const std::size_t N = hn::Lanes(dd);
  const auto zero_d = hn::Zero(dd);
  std::size_t i = 0;
  for (; i + N <= count; i += N) {
    if constexpr (std::is_same_v<T, double>) {
      hn::StoreU(hn::Add(hn::LoadU(dd, sum + i), zero_d), dd, out + i);
    } else {
      hn::StoreU(hn::Add(hn::PromoteTo(dd, hn::LoadU(dt, sum + i)), zero_d), dd, out + i);
    }
  }
  for (; i < count; ++i) out[i] = static_cast<double>(sum[i]) + 0.0;
}

template <class T>
void NarrowParameters(std::size_t count, const double* theta, T* out) {
  std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128
  // (Highway's scalar and EMU128 DemoteTo saturate at +-FLT_MAX, inf and overflow included, where
  // the conversion rounds to inf: those targets keep the plain conversion below. clang builds get
  // EMU128 in place of SCALAR.)
  const hn::CappedTag<double, 4> dd;
  const hn::Rebind<T, decltype(dd)> dt;
  const std::size_t N = hn::Lanes(dd);
  for (; i + N <= count; i += N) {
    if constexpr (std::is_same_v<T, double>) {
      hn::StoreU(hn::LoadU(dd, theta + i), dd, out + i);
    } else {
      hn::StoreU(hn::DemoteTo(dt, hn::LoadU(dd, theta + i)), dt, out + i);
    }
  }
#endif
  for (; i < count; ++i) out[i] = static_cast<T>(theta[i]);
}

// ---- Transposition ------------------------------------------------------------------------------
//
// Row c of dst gathered from column c of src a vector at a time: contiguous stores instead of one
// scattered store per element (the backward pass transposes its weights every step).
template <class T>
void Transpose(std::size_t rows, std::size_t cols, const T* src, std::size_t lds, T* dst, std::size_t ldd) {
  const hn::ScalableTag<T> d;
  const hn::RebindToSigned<decltype(d)> di;
  using I = hn::TFromD<decltype(di)>;
  constexpr std::size_t W = hn::MaxLanes(decltype(d)());
  if (lds > std::size_t(hwy::LimitsMax<I>()) / W) {  // the gather's indices would overflow
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t r = 0; r < rows; ++r) dst[c * ldd + r] = src[r * lds + c];
    return;
  }
  const auto lane = hn::Iota(di, I(0));
  const auto index = hn::Mul(lane, hn::Set(di, I(lds)));
  std::size_t r0 = 0;
  for (; r0 + W <= rows; r0 += W) {
    const T* s = src + r0 * lds;
    for (std::size_t c = 0; c < cols; ++c) hn::StoreU(hn::GatherIndex(d, s + c, index), d, dst + c * ldd + r0);
  }
  if (r0 < rows) {
    // The lanes past the last row read row r0 again (nothing beyond src) and are not stored.
    const std::size_t rest = rows - r0;
    const auto tail = hn::IfThenElseZero(hn::Lt(lane, hn::Set(di, I(rest))), index);
    const T* s = src + r0 * lds;
    for (std::size_t c = 0; c < cols; ++c) StoreFirst(d, hn::GatherIndex(d, s + c, tail), dst + c * ldd + r0, rest);
  }
}

// ---- The entry points HWY_EXPORT takes (plain functions, one per element type) -------------------

void AffineF(std::size_t m, std::size_t n, std::size_t k, const float* A, std::size_t lda, const float* B,
             std::size_t ldb, const float* bias, float* C, std::size_t ldc) {
  Affine(m, n, k, A, lda, B, ldb, bias, C, ldc);
}
void AffineD(std::size_t m, std::size_t n, std::size_t k, const double* A, std::size_t lda, const double* B,
             std::size_t ldb, const double* bias, double* C, std::size_t ldc) {
  Affine(m, n, k, A, lda, B, ldb, bias, C, ldc);
}
void AccumulateOuterF(std::size_t rows, std::size_t m, std::size_t n, const float* A, std::size_t lda,
                      const float* Dm, std::size_t ldd, float* G, std::size_t ldg, bool from_zero) {
  AccumulateOuter(rows, m, n, A, lda, Dm, ldd, G, ldg, from_zero);
}
void AccumulateOuterD(std::size_t rows, std::size_t m, std::size_t n, const double* A, std::size_t lda,
                      const double* Dm, std::size_t ldd, double* G, std::size_t ldg, bool from_zero) {
  AccumulateOuter(rows, m, n, A, lda, Dm, ldd, G, ldg, from_zero);
}
void AccumulateRowsF(std::size_t rows, std::size_t n, const float* Dm, std::size_t ldd, float* g, bool from_zero) {
  AccumulateRows(rows, n, Dm, ldd, g, from_zero);
}
void AccumulateRowsD(std::size_t rows, std::size_t n, const double* Dm, std::size_t ldd, double* g, bool from_zero) {
  AccumulateRows(rows, n, Dm, ldd, g, from_zero);
}
void ForwardF(Activation act, std::size_t count, const float* z, float* a) { Forward(act, count, z, a); }
void ForwardD(Activation act, std::size_t count, const double* z, double* a) { Forward(act, count, z, a); }
void BackwardF(Activation act, std::size_t count, const float* z, const float* a, float* dp) {
  Backward(act, count, z, a, dp);
}
void BackwardD(Activation act, std::size_t count, const double* z, const double* a, double* dp) {
  Backward(act, count, z, a, dp);
}

void WidenSumsF(std::size_t count, const float* sum, double* out) { WidenSums(count, sum, out); }
void WidenSumsD(std::size_t count, const double* sum, double* out) { WidenSums(count, sum, out); }
void TransposeF(std::size_t rows, std::size_t cols, const float* src, std::size_t lds, float* dst, std::size_t ldd) {
  Transpose(rows, cols, src, lds, dst, ldd);
}
void TransposeD(std::size_t rows, std::size_t cols, const double* src, std::size_t lds, double* dst,
                std::size_t ldd) {
  Transpose(rows, cols, src, lds, dst, ldd);
}
void NarrowParametersF(std::size_t count, const double* theta, float* out) { NarrowParameters(count, theta, out); }
void NarrowParametersD(std::size_t count, const double* theta, double* out) { NarrowParameters(count, theta, out); }

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cstring>
#include <type_traits>

namespace parafit::detail {
HWY_EXPORT(AffineF);
HWY_EXPORT(AffineD);
HWY_EXPORT(AccumulateOuterF);
HWY_EXPORT(AccumulateOuterD);
HWY_EXPORT(AccumulateRowsF);
HWY_EXPORT(AccumulateRowsD);
HWY_EXPORT(ForwardF);
HWY_EXPORT(ForwardD);
HWY_EXPORT(BackwardF);
HWY_EXPORT(BackwardD);
HWY_EXPORT(WidenSumsF);
HWY_EXPORT(WidenSumsD);
HWY_EXPORT(TransposeF);
HWY_EXPORT(TransposeD);
HWY_EXPORT(NarrowParametersF);
HWY_EXPORT(NarrowParametersD);

template <class T>
void affine(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B, std::size_t ldb,
            const T* bias, T* C, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(AffineF)(m, n, k, A, lda, B, ldb, bias, C, ldc);
  } else {
    HWY_DYNAMIC_DISPATCH(AffineD)(m, n, k, A, lda, B, ldb, bias, C, ldc);
  }
}

template <class T>
void accumulate_outer(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda, const T* D,
                      std::size_t ldd, T* G, std::size_t ldg, bool from_zero) {
  if (m == 0 || n == 0) return;
  if (rows == 0) {
    if (from_zero)
      for (std::size_t j = 0; j < m; ++j) std::fill(G + j * ldg, G + j * ldg + n, T(0));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(AccumulateOuterF)(rows, m, n, A, lda, D, ldd, G, ldg, from_zero);
  } else {
    HWY_DYNAMIC_DISPATCH(AccumulateOuterD)(rows, m, n, A, lda, D, ldd, G, ldg, from_zero);
  }
}

template <class T>
void accumulate_rows(std::size_t rows, std::size_t n, const T* D, std::size_t ldd, T* g, bool from_zero) {
  if (n == 0) return;
  if (rows == 0) {
    if (from_zero) std::fill(g, g + n, T(0));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(AccumulateRowsF)(rows, n, D, ldd, g, from_zero);
  } else {
    HWY_DYNAMIC_DISPATCH(AccumulateRowsD)(rows, n, D, ldd, g, from_zero);
  }
}

template <class T>
void activate_forward(Activation act, std::size_t count, const T* z, T* a) {
  if (count == 0) return;
  if (act == Activation::kIdentity) {
    if (a != z) std::memmove(a, z, count * sizeof(T));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(ForwardF)(act, count, z, a);
  } else {
    HWY_DYNAMIC_DISPATCH(ForwardD)(act, count, z, a);
  }
}

template <class T>
void activate_backward(Activation act, std::size_t count, const T* z, const T* a, T* d) {
  if (count == 0 || act == Activation::kIdentity) return;
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(BackwardF)(act, count, z, a, d);
  } else {
    HWY_DYNAMIC_DISPATCH(BackwardD)(act, count, z, a, d);
  }
}

template <class T>
void widen_sums(std::size_t count, const T* sum, double* out) {
  if (count == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(WidenSumsF)(count, sum, out);
  } else {
    HWY_DYNAMIC_DISPATCH(WidenSumsD)(count, sum, out);
  }
}

template <class T>
void transpose(std::size_t rows, std::size_t cols, const T* src, std::size_t lds, T* dst, std::size_t ldd) {
  if (rows == 0 || cols == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(TransposeF)(rows, cols, src, lds, dst, ldd);
  } else {
    HWY_DYNAMIC_DISPATCH(TransposeD)(rows, cols, src, lds, dst, ldd);
  }
}

template <class T>
void narrow_parameters(std::size_t count, const double* theta, T* out) {
  if (count == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    HWY_DYNAMIC_DISPATCH(NarrowParametersF)(count, theta, out);
  } else {
    HWY_DYNAMIC_DISPATCH(NarrowParametersD)(count, theta, out);
  }
}

#define PARAFIT_MLP_INSTANTIATE(T)                                                                      \
  template void affine<T>(std::size_t, std::size_t, std::size_t, const T*, std::size_t, const T*, std::size_t, \
                          const T*, T*, std::size_t);                                                   \
  template void accumulate_outer<T>(std::size_t, std::size_t, std::size_t, const T*, std::size_t, const T*,   \
                                    std::size_t, T*, std::size_t, bool);                                \
  template void accumulate_rows<T>(std::size_t, std::size_t, const T*, std::size_t, T*, bool);          \
  template void activate_forward<T>(Activation, std::size_t, const T*, T*);                             \
  template void activate_backward<T>(Activation, std::size_t, const T*, const T*, T*);                   \
  template void widen_sums<T>(std::size_t, const T*, double*);                                          \
  template void transpose<T>(std::size_t, std::size_t, const T*, std::size_t, T*, std::size_t);          \
  template void narrow_parameters<T>(std::size_t, const double*, T*);
PARAFIT_MLP_INSTANTIATE(float)
PARAFIT_MLP_INSTANTIATE(double)
#undef PARAFIT_MLP_INSTANTIATE

}  // namespace parafit::detail
#endif  // HWY_ONCE
