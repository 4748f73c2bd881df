// mlp_kernels.cpp — see mlp_kernels.h for the contract.
//
// Layout of this file. The activations are written once, as templates over an "ops" type (a
// vector of lanes with add, fma, compare, select, ...), in the part of this file between
// `#else  // PARAFIT_MLP_MATH_BODY` and the final #endif. That part is included twice, by this
// file itself: once into namespace `portable` with scalar ops (std::fma), compiled for baseline
// x86-64, and once into namespace `avx2` inside `#pragma GCC target("avx2,fma")` with AVX2 ops.
// Writing the generic code twice this way (rather than as one template instantiated from an AVX2
// function) gives every function the right instruction set, so the AVX2 helpers inline everywhere
// and vectors never cross a call between code compiled with and without AVX (the -Wpsabi ABI
// mismatch), at any optimisation level. The dense kernels (affine, accumulate_*) are AVX2
// intrinsics in the avx2 namespace and plain loops in the portable one.
//
// Same bits on both paths: the generic code uses only IEEE operations that round correctly on
// every lane of every path, with FMAs written out (std::fma in scalar code, vfmadd in AVX2), and
// this file is compiled with -ffp-contract=off so that no multiply-add the source writes as two
// operations is fused (src/CMakeLists.txt).
#ifndef PARAFIT_MLP_MATH_BODY

#include "model/mlp_kernels.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PARAFIT_MLP_HAVE_AVX2 1
#else
#define PARAFIT_MLP_HAVE_AVX2 0
#endif

namespace parafit::detail {
namespace {

// ---- Constants of exp(u) for u <= 0 --------------------------------------------------------------
//
// u = n ln2 + r, n = round(u / ln2), |r| <= ln2/2 (Cody–Waite: ln2 = kLn2Hi + kLn2Lo with kLn2Hi
// short enough that n * kLn2Hi and u - n * kLn2Hi are exact for every n reached); exp(u) =
// 2^n (1 + expm1(r)), expm1(r) = r + r^2 h(r) by its Taylor series (remainder below 0.02 ulp
// relative to r), and 2^n = 2^floor(n/2) 2^ceil(n/2) from exponent bits: both factors are normal
// numbers down to the clamp, and multiplying by the second rounds once into the subnormals.
// Adding kShifter (1.5 * 2^(mantissa bits)) rounds u/ln2 to the integer n and leaves n in the low
// bits of t = kShifter + n, from where the exponents are built with integer operations.
template <class T>
struct ExpConsts;

template <>
struct ExpConsts<float> {
  using Bits = std::uint32_t;
  static constexpr float kClamp = 104.0f;  // exp(-104) < 2^-150 rounds to 0; |n| <= 150
  static constexpr float kLog2e = 0x1.715476p+0f;
  static constexpr float kLn2Hi = 0x1.62e4p-1f;     // 15 significant bits; |n| <= 162 has 8
  static constexpr float kLn2Lo = 0x1.7f7d1cp-20f;  // ln2 - kLn2Hi, rounded
  static constexpr float kShifter = 0x1.8p23f;
  static constexpr int kMantissaBits = 23;
  static constexpr Bits kBias = 127;
  static constexpr Bits kBias2 = 2 * 127;
  // tanh(x) rounds to +-1 beyond |x| = 9.01; clamping -2|x| at -24 keeps 2^n normal (n >= -35).
  static constexpr float kTanhClamp = 24.0f;
  // GELU multiplies exp(-|v|) by |z| <= 100 before rounding: 100 exp(-112) < 2^-151 rounds to 0.
  static constexpr float kGeluClamp = 112.0f;
};

template <>
struct ExpConsts<double> {
  using Bits = std::uint64_t;
  static constexpr double kClamp = 746.0;  // exp(-746) < 2^-1076 rounds to 0; |n| <= 1077
  static constexpr double kLog2e = 1.4426950408889634074;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;
  static constexpr double kShifter = 0x1.8p52;
  static constexpr int kMantissaBits = 52;
  static constexpr Bits kBias = 1023;
  static constexpr Bits kBias2 = 2 * 1023;
  // tanh(x) rounds to +-1 beyond |x| = 19.06; clamping -2|x| at -44 keeps 2^n normal (n >= -64).
  static constexpr double kTanhClamp = 44.0;
  // GELU multiplies exp(-|v|) by |z| <= 100 before rounding: 100 exp(-752) < 2^-1075 rounds to 0.
  static constexpr double kGeluClamp = 752.0;
};

// GELU, tanh form: gelu(z) = z sigmoid(v), v = kV1 (z + kV3 z^3), kV1 = 2 sqrt(2/pi).
// Beyond |z| = 100, |v| > 7e4: sigmoid(v) is exactly 0 or 1 in double, so z is clamped there
// before v is formed (keeps z^3 and v' finite).
constexpr double kGeluV1 = 1.5957691216057307117597842397375;
constexpr double kGeluV3 = 0.044715;
constexpr double kGeluV3x3 = 3 * 0.044715;
constexpr double kGeluClamp = 100.0;

// ---- Scalar ops (the portable path) --------------------------------------------------------------
template <class T>
struct ScalarOps {
  using S = T;
  using V = T;
  using M = bool;
  static constexpr std::size_t kLanes = 1;
  static V set1(T x) { return x; }
  static V load(const T* p) { return *p; }
  static void store(T* p, V v) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V fma(V a, V b, V c) { return std::fma(a, b, c); }
  static V abs(V a) { return std::fabs(a); }
  static V neg(V a) { return -a; }
  static V copysign(V mag, V sgn) { return std::copysign(mag, sgn); }
  static M lt(V a, V b) { return a < b; }
  static M gt(V a, V b) { return a > b; }
  static M ge(V a, V b) { return a >= b; }
  static V select(M m, V a, V b) { return m ? a : b; }
  // t = kShifter + n: hi = 2^floor(n/2), lo = 2^ceil(n/2).
  static void pow2_halves(V t, V& hi, V& lo) {
    using C = ExpConsts<T>;
    using Bits = typename C::Bits;
    const Bits u = std::bit_cast<Bits>(t) - (std::bit_cast<Bits>(C::kShifter) - C::kBias2);
    const Bits e_hi = u >> 1;
    const Bits e_lo = u - e_hi;
    hi = std::bit_cast<T>(static_cast<Bits>(e_hi << C::kMantissaBits));
    lo = std::bit_cast<T>(static_cast<Bits>(e_lo << C::kMantissaBits));
  }
  // t = kShifter + n with 2^n normal: 2^n.
  static V pow2(V t) {
    using C = ExpConsts<T>;
    using Bits = typename C::Bits;
    const Bits u = std::bit_cast<Bits>(t) - (std::bit_cast<Bits>(C::kShifter) - C::kBias);
    return std::bit_cast<T>(static_cast<Bits>(u << C::kMantissaBits));
  }
};

// ---- Which path runs ------------------------------------------------------------------------------

std::atomic<int> g_path{static_cast<int>(MlpKernelPath::kAuto)};

bool env_forces_portable() {
  static const bool forced = [] {
    const char* e = std::getenv("PARAFIT_MLP_KERNELS");
    return e != nullptr && std::string_view(e) == "portable";
  }();
  return forced;
}

bool use_avx2() {
  switch (static_cast<MlpKernelPath>(g_path.load(std::memory_order_relaxed))) {
    case MlpKernelPath::kPortable: return false;
    case MlpKernelPath::kAvx2: return mlp_avx2_available();
    case MlpKernelPath::kAuto: break;
  }
  return mlp_avx2_available() && !env_forces_portable();
}

}  // namespace

// ==== The portable path ============================================================================
namespace {
namespace portable {

template <class T>
using Ops = ScalarOps<T>;

#define PARAFIT_MLP_MATH_BODY 1
#include "model/mlp_kernels.cpp"  // NOLINT(bugprone-suspicious-include): the generic math below
#undef PARAFIT_MLP_MATH_BODY

// Each element is its chain of std::fma in the contract's order; the loops run along rows so that
// the accumulators are the output rows themselves.
template <class T>
void affine(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B,
            std::size_t ldb, const T* bias, T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < m; ++i) {
    T* c = C + i * ldc;
    for (std::size_t j = 0; j < n; ++j) c[j] = bias != nullptr ? bias[j] : T(0);
    for (std::size_t kk = 0; kk < k; ++kk) {
      const T a = A[i * lda + kk];
      const T* b = B + kk * ldb;
      for (std::size_t j = 0; j < n; ++j) c[j] = std::fma(a, b[j], c[j]);
    }
  }
}

template <class T>
void accumulate_outer(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda,
                      const T* D, std::size_t ldd, T* G, std::size_t ldg) {
  for (std::size_t i = 0; i < rows; ++i) {
    const T* d = D + i * ldd;
    for (std::size_t j = 0; j < m; ++j) {
      const T a = A[i * lda + j];
      T* g = G + j * ldg;
      for (std::size_t c = 0; c < n; ++c) g[c] = std::fma(a, d[c], g[c]);
    }
  }
}

template <class T>
void accumulate_rows(std::size_t rows, std::size_t n, const T* D, std::size_t ldd, T* g) {
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t c = 0; c < n; ++c) g[c] = g[c] + D[i * ldd + c];
  }
}

}  // namespace portable
}  // namespace

// ==== The AVX2+FMA path ============================================================================
#if PARAFIT_MLP_HAVE_AVX2
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace {
namespace avx2 {

#define PARAFIT_AVX2_INLINE [[gnu::always_inline]] inline

template <class T>
struct AvxOps;

template <>
struct AvxOps<float> {
  using S = float;
  using V = __m256;
  using M = __m256;
  static constexpr std::size_t kLanes = 8;
  PARAFIT_AVX2_INLINE static V set1(float x) { return _mm256_set1_ps(x); }
  PARAFIT_AVX2_INLINE static V zero() { return _mm256_setzero_ps(); }
  PARAFIT_AVX2_INLINE static V load(const float* p) { return _mm256_loadu_ps(p); }
  PARAFIT_AVX2_INLINE static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  PARAFIT_AVX2_INLINE static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  // The first `count` (1..8) lanes.
  PARAFIT_AVX2_INLINE static __m256i mask(std::size_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  PARAFIT_AVX2_INLINE static V maskload(const float* p, __m256i m) {
    return _mm256_maskload_ps(p, m);
  }
  PARAFIT_AVX2_INLINE static void maskstore(float* p, __m256i m, V v) {
    _mm256_maskstore_ps(p, m, v);
  }
  PARAFIT_AVX2_INLINE static V add(V a, V b) { return _mm256_add_ps(a, b); }
  PARAFIT_AVX2_INLINE static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  PARAFIT_AVX2_INLINE static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  PARAFIT_AVX2_INLINE static V div(V a, V b) { return _mm256_div_ps(a, b); }
  PARAFIT_AVX2_INLINE static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  PARAFIT_AVX2_INLINE static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  PARAFIT_AVX2_INLINE static V neg(V a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  PARAFIT_AVX2_INLINE static V copysign(V mag, V sgn) {
    const V sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, sgn));
  }
  PARAFIT_AVX2_INLINE static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  PARAFIT_AVX2_INLINE static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  PARAFIT_AVX2_INLINE static M ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  PARAFIT_AVX2_INLINE static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
  PARAFIT_AVX2_INLINE static void pow2_halves(V t, V& hi, V& lo) {
    using C = ExpConsts<float>;
    const __m256i u = _mm256_sub_epi32(
        _mm256_castps_si256(t),
        _mm256_set1_epi32(static_cast<int>(std::bit_cast<std::uint32_t>(C::kShifter) - C::kBias2)));
    const __m256i e_hi = _mm256_srli_epi32(u, 1);
    const __m256i e_lo = _mm256_sub_epi32(u, e_hi);
    hi = _mm256_castsi256_ps(_mm256_slli_epi32(e_hi, C::kMantissaBits));
    lo = _mm256_castsi256_ps(_mm256_slli_epi32(e_lo, C::kMantissaBits));
  }
  PARAFIT_AVX2_INLINE static V pow2(V t) {
    using C = ExpConsts<float>;
    const __m256i u = _mm256_sub_epi32(
        _mm256_castps_si256(t),
        _mm256_set1_epi32(static_cast<int>(std::bit_cast<std::uint32_t>(C::kShifter) - C::kBias)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, C::kMantissaBits));
  }
  // float <-> two vectors of 4 doubles (exact one way, correctly rounded the other).
  PARAFIT_AVX2_INLINE static void widen(V x, __m256d& lo, __m256d& hi) {
    lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
    hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
  }
  PARAFIT_AVX2_INLINE static V narrow(__m256d lo, __m256d hi) {
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
  }
};

template <>
struct AvxOps<double> {
  using S = double;
  using V = __m256d;
  using M = __m256d;
  static constexpr std::size_t kLanes = 4;
  PARAFIT_AVX2_INLINE static V set1(double x) { return _mm256_set1_pd(x); }
  PARAFIT_AVX2_INLINE static V zero() { return _mm256_setzero_pd(); }
  PARAFIT_AVX2_INLINE static V load(const double* p) { return _mm256_loadu_pd(p); }
  PARAFIT_AVX2_INLINE static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  PARAFIT_AVX2_INLINE static V bcast(const double* p) { return _mm256_broadcast_sd(p); }
  PARAFIT_AVX2_INLINE static __m256i mask(std::size_t count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(count)),
                              _mm256_setr_epi64x(0, 1, 2, 3));
  }
  PARAFIT_AVX2_INLINE static V maskload(const double* p, __m256i m) {
    return _mm256_maskload_pd(p, m);
  }
  PARAFIT_AVX2_INLINE static void maskstore(double* p, __m256i m, V v) {
    _mm256_maskstore_pd(p, m, v);
  }
  PARAFIT_AVX2_INLINE static V add(V a, V b) { return _mm256_add_pd(a, b); }
  PARAFIT_AVX2_INLINE static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
  PARAFIT_AVX2_INLINE static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  PARAFIT_AVX2_INLINE static V div(V a, V b) { return _mm256_div_pd(a, b); }
  PARAFIT_AVX2_INLINE static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  PARAFIT_AVX2_INLINE static V abs(V a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  PARAFIT_AVX2_INLINE static V neg(V a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
  PARAFIT_AVX2_INLINE static V copysign(V mag, V sgn) {
    const V sign = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(sign, mag), _mm256_and_pd(sign, sgn));
  }
  PARAFIT_AVX2_INLINE static M lt(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  PARAFIT_AVX2_INLINE static M gt(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  PARAFIT_AVX2_INLINE static M ge(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
  PARAFIT_AVX2_INLINE static V select(M m, V a, V b) { return _mm256_blendv_pd(b, a, m); }
  PARAFIT_AVX2_INLINE static void pow2_halves(V t, V& hi, V& lo) {
    using C = ExpConsts<double>;
    const __m256i u = _mm256_sub_epi64(
        _mm256_castpd_si256(t), _mm256_set1_epi64x(static_cast<long long>(
                                    std::bit_cast<std::uint64_t>(C::kShifter) - C::kBias2)));
    const __m256i e_hi = _mm256_srli_epi64(u, 1);
    const __m256i e_lo = _mm256_sub_epi64(u, e_hi);
    hi = _mm256_castsi256_pd(_mm256_slli_epi64(e_hi, C::kMantissaBits));
    lo = _mm256_castsi256_pd(_mm256_slli_epi64(e_lo, C::kMantissaBits));
  }
  PARAFIT_AVX2_INLINE static V pow2(V t) {
    using C = ExpConsts<double>;
    const __m256i u = _mm256_sub_epi64(
        _mm256_castpd_si256(t), _mm256_set1_epi64x(static_cast<long long>(
                                    std::bit_cast<std::uint64_t>(C::kShifter) - C::kBias)));
    return _mm256_castsi256_pd(_mm256_slli_epi64(u, C::kMantissaBits));
  }
};

template <class T>
using Ops = AvxOps<T>;

#define PARAFIT_MLP_MATH_BODY 1
#include "model/mlp_kernels.cpp"  // NOLINT(bugprone-suspicious-include): the generic math below
#undef PARAFIT_MLP_MATH_BODY

// ---- Register-tiled dense kernels -----------------------------------------------------------------
//
// One microkernel serves affine and accumulate_outer: an MR x (NV vectors) tile of an output
// matrix C, each element an FMA chain over an index kk in ascending order,
//   C[r][c] = fma(a[r * ars + kk * aks], b[kk * ldb + c], C[r][c]),
// started from C's contents (accumulate), a bias row, or +0. affine is (ars, aks) = (lda, 1),
// accumulate_outer is (1, lda) over the rows of A (a GEMM with A transposed). MR x NV accumulator
// registers stay in registers for the whole chain; a row of b is loaded once per kk and reused by
// the MR rows. The last vector of a tile may be masked (columns that do not fill a vector): masked
// loads read zeros and never touch memory beyond the row, and the masked lanes are not stored.
constexpr int kTileRows = 6;  // MR: 6 x 2 vectors = 12 accumulators, + 2 for b, + 1 broadcast
constexpr int kTileVecs = 2;  // NV

enum class Start { kZero, kBias, kLoad };

template <class T, int MR, int NV, bool Masked>
void tile(std::size_t k, const T* a, std::size_t ars, std::size_t aks, const T* b,
          std::size_t ldb, Start start, const T* bias, T* c, std::size_t ldc, __m256i mask) {
  using O = AvxOps<T>;
  using V = typename O::V;
  constexpr std::size_t W = O::kLanes;
  const auto load_vec = [&](const T* p, int v) {
    return (Masked && v == NV - 1) ? O::maskload(p, mask) : O::load(p);
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
    for (int v = 0; v < NV; ++v) init[v] = start == Start::kBias ? load_vec(bias + v * W, v) : O::zero();
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
      const V av = O::bcast(ak + r * ars);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = O::fma(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (Masked && v == NV - 1) {
        O::maskstore(c + r * ldc + v * W, mask, acc[r][v]);
      } else {
        O::store(c + r * ldc + v * W, acc[r][v]);
      }
    }
  }
}

template <class T>
using TileFn = void (*)(std::size_t, const T*, std::size_t, std::size_t, const T*, std::size_t,
                        Start, const T*, T*, std::size_t, __m256i);

// The instantiation for mr rows (1..kTileRows), nv vectors (1..kTileVecs), masked or not.
template <class T, int MR, int NV>
TileFn<T> pick_masked(bool masked) {
  return masked ? &tile<T, MR, NV, true> : &tile<T, MR, NV, false>;
}

template <class T, int MR>
TileFn<T> pick_vecs(int nv, bool masked) {
  static_assert(kTileVecs == 2);
  return nv == 1 ? pick_masked<T, MR, 1>(masked) : pick_masked<T, MR, 2>(masked);
}

template <class T>
TileFn<T> pick_tile(int mr, int nv, bool masked) {
  static_assert(kTileRows == 6);
  switch (mr) {
    case 1: return pick_vecs<T, 1>(nv, masked);
    case 2: return pick_vecs<T, 2>(nv, masked);
    case 3: return pick_vecs<T, 3>(nv, masked);
    case 4: return pick_vecs<T, 4>(nv, masked);
    case 5: return pick_vecs<T, 5>(nv, masked);
    default: return pick_vecs<T, 6>(nv, masked);
  }
}

// C (m x n) from the microkernel over the whole matrix: column blocks of kTileVecs vectors outside
// (the block of b stays in L1 while the rows pass), row blocks of kTileRows inside.
template <class T>
void tiled(std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t ars,
           std::size_t aks, const T* b, std::size_t ldb, Start start, const T* bias, T* c,
           std::size_t ldc) {
  using O = AvxOps<T>;
  constexpr std::size_t W = O::kLanes;
  constexpr std::size_t kBlockCols = kTileVecs * W;
  for (std::size_t c0 = 0; c0 < n; c0 += kBlockCols) {
    const std::size_t cols = std::min(kBlockCols, n - c0);
    const int nv = static_cast<int>((cols + W - 1) / W);
    const std::size_t last = cols - (nv - 1) * W;
    const bool masked = last != W;
    const __m256i mask = O::mask(last);
    const TileFn<T> full = pick_tile<T>(kTileRows, nv, masked);
    const T* bias_c = bias != nullptr ? bias + c0 : nullptr;
    std::size_t r0 = 0;
    for (; r0 + kTileRows <= m; r0 += kTileRows) {
      full(k, a + r0 * ars, ars, aks, b + c0, ldb, start, bias_c, c + r0 * ldc + c0, ldc, mask);
    }
    if (r0 < m) {
      pick_tile<T>(static_cast<int>(m - r0), nv, masked)(k, a + r0 * ars, ars, aks, b + c0, ldb,
                                                         start, bias_c, c + r0 * ldc + c0, ldc,
                                                         mask);
    }
  }
}

// accumulate_outer for narrow D (n < one vector): vectors run along j instead,
// G[j..j+W)[col] = fma(A[i][j..j+W), D[i][col], G[j..j+W)[col]) for i ascending, MV vectors of j
// at a time (the same chains as the microkernel's, only laid out differently).
template <class T, int MV>
void outer_narrow(std::size_t rows, const T* a, std::size_t lda, const T* d, std::size_t ldd,
                  T* g, std::size_t ldg) {
  using O = AvxOps<T>;
  using V = typename O::V;
  constexpr std::size_t W = O::kLanes;
  alignas(32) T buf[MV * W];
  for (std::size_t j = 0; j < MV * W; ++j) buf[j] = g[j * ldg];
  V acc[MV];
#pragma GCC unroll 8
  for (int v = 0; v < MV; ++v) acc[v] = O::load(buf + v * W);
  for (std::size_t i = 0; i < rows; ++i) {
    const V dv = O::bcast(d + i * ldd);
    const T* ai = a + i * lda;
#pragma GCC unroll 8
    for (int v = 0; v < MV; ++v) acc[v] = O::fma(O::load(ai + v * W), dv, acc[v]);
  }
#pragma GCC unroll 8
  for (int v = 0; v < MV; ++v) O::store(buf + v * W, acc[v]);
  for (std::size_t j = 0; j < MV * W; ++j) g[j * ldg] = buf[j];
}

template <class T>
void outer_narrow_any(int mv, std::size_t rows, const T* a, std::size_t lda, const T* d,
                      std::size_t ldd, T* g, std::size_t ldg) {
  switch (mv) {
    case 1: outer_narrow<T, 1>(rows, a, lda, d, ldd, g, ldg); break;
    case 2: outer_narrow<T, 2>(rows, a, lda, d, ldd, g, ldg); break;
    case 3: outer_narrow<T, 3>(rows, a, lda, d, ldd, g, ldg); break;
    case 4: outer_narrow<T, 4>(rows, a, lda, d, ldd, g, ldg); break;
    case 5: outer_narrow<T, 5>(rows, a, lda, d, ldd, g, ldg); break;
    case 6: outer_narrow<T, 6>(rows, a, lda, d, ldd, g, ldg); break;
    case 7: outer_narrow<T, 7>(rows, a, lda, d, ldd, g, ldg); break;
    default: outer_narrow<T, 8>(rows, a, lda, d, ldd, g, ldg); break;
  }
}

template <class T>
void affine(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B,
            std::size_t ldb, const T* bias, T* C, std::size_t ldc) {
  tiled<T>(m, n, k, A, lda, 1, B, ldb, bias != nullptr ? Start::kBias : Start::kZero, bias, C,
           ldc);
}

template <class T>
void accumulate_outer(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda,
                      const T* D, std::size_t ldd, T* G, std::size_t ldg) {
  constexpr std::size_t W = AvxOps<T>::kLanes;
  std::size_t j0 = 0;
  if (n < W) {
    constexpr std::size_t kMaxVecs = 8;
    for (std::size_t col = 0; col < n; ++col) {
      for (j0 = 0; j0 + W <= m;) {
        const std::size_t mv = std::min(kMaxVecs, (m - j0) / W);
        outer_narrow_any<T>(static_cast<int>(mv), rows, A + j0, lda, D + col, ldd,
                            G + j0 * ldg + col, ldg);
        j0 += mv * W;
      }
    }
  }
  // The rows of G not done above (all of them unless D is narrow).
  if (j0 < m) {
    tiled<T>(m - j0, n, rows, A + j0, 1, lda, D, ldd, Start::kLoad, nullptr, G + j0 * ldg, ldg);
  }
}

template <class T>
void accumulate_rows(std::size_t rows, std::size_t n, const T* D, std::size_t ldd, T* g) {
  using O = AvxOps<T>;
  using V = typename O::V;
  constexpr std::size_t W = O::kLanes;
  constexpr std::size_t kVecs = 4;
  std::size_t c0 = 0;
  for (; c0 + kVecs * W <= n; c0 += kVecs * W) {
    V acc[kVecs];
    for (std::size_t v = 0; v < kVecs; ++v) acc[v] = O::load(g + c0 + v * W);
    for (std::size_t i = 0; i < rows; ++i) {
      const T* d = D + i * ldd + c0;
      for (std::size_t v = 0; v < kVecs; ++v) acc[v] = O::add(acc[v], O::load(d + v * W));
    }
    for (std::size_t v = 0; v < kVecs; ++v) O::store(g + c0 + v * W, acc[v]);
  }
  for (; c0 < n; c0 += W) {
    const __m256i mask = O::mask(std::min(W, n - c0));
    V acc = O::maskload(g + c0, mask);
    for (std::size_t i = 0; i < rows; ++i) acc = O::add(acc, O::maskload(D + i * ldd + c0, mask));
    O::maskstore(g + c0, mask, acc);
  }
}

#undef PARAFIT_AVX2_INLINE

}  // namespace avx2
}  // namespace
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif  // PARAFIT_MLP_HAVE_AVX2

// ==== Public entry points ==========================================================================

bool mlp_avx2_available() {
#if PARAFIT_MLP_HAVE_AVX2
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
  }();
  return has;
#else
  return false;
#endif
}

void set_mlp_kernel_path(MlpKernelPath path) {
  g_path.store(static_cast<int>(path), std::memory_order_relaxed);
}

MlpKernelPath active_mlp_kernel_path() {
  return use_avx2() ? MlpKernelPath::kAvx2 : MlpKernelPath::kPortable;
}

ScopedMlpKernelPath::ScopedMlpKernelPath(MlpKernelPath path)
    : previous_(static_cast<MlpKernelPath>(g_path.exchange(static_cast<int>(path)))) {}

ScopedMlpKernelPath::~ScopedMlpKernelPath() { set_mlp_kernel_path(previous_); }

#if PARAFIT_MLP_HAVE_AVX2
#define PARAFIT_MLP_DISPATCH(call) \
  do {                             \
    if (use_avx2()) {              \
      avx2::call;                  \
    } else {                       \
      portable::call;              \
    }                              \
  } while (false)
#else
#define PARAFIT_MLP_DISPATCH(call) portable::call
#endif

template <class T>
void affine(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B,
            std::size_t ldb, const T* bias, T* C, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  PARAFIT_MLP_DISPATCH(affine<T>(m, n, k, A, lda, B, ldb, bias, C, ldc));
}

template <class T>
void accumulate_outer(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda,
                      const T* D, std::size_t ldd, T* G, std::size_t ldg) {
  if (rows == 0 || m == 0 || n == 0) return;
  PARAFIT_MLP_DISPATCH(accumulate_outer<T>(rows, m, n, A, lda, D, ldd, G, ldg));
}

template <class T>
void accumulate_rows(std::size_t rows, std::size_t n, const T* D, std::size_t ldd, T* g) {
  if (rows == 0 || n == 0) return;
  PARAFIT_MLP_DISPATCH(accumulate_rows<T>(rows, n, D, ldd, g));
}

template <class T>
void activate_forward(Activation act, std::size_t count, const T* z, T* a) {
  if (count == 0) return;
  if (act == Activation::kIdentity) {
    if (a != z) std::memmove(a, z, count * sizeof(T));
    return;
  }
  PARAFIT_MLP_DISPATCH(forward<T>(act, count, z, a));
}

template <class T>
void activate_backward(Activation act, std::size_t count, const T* z, const T* a, T* d) {
  if (count == 0 || act == Activation::kIdentity) return;
  PARAFIT_MLP_DISPATCH(backward<T>(act, count, z, a, d));
}

#undef PARAFIT_MLP_DISPATCH

#define PARAFIT_MLP_INSTANTIATE(T)                                                                \
  template void affine<T>(std::size_t, std::size_t, std::size_t, const T*, std::size_t,           \
                          const T*, std::size_t, const T*, T*, std::size_t);                      \
  template void accumulate_outer<T>(std::size_t, std::size_t, std::size_t, const T*, std::size_t, \
                                    const T*, std::size_t, T*, std::size_t);                      \
  template void accumulate_rows<T>(std::size_t, std::size_t, const T*, std::size_t, T*);          \
  template void activate_forward<T>(Activation, std::size_t, const T*, T*);                       \
  template void activate_backward<T>(Activation, std::size_t, const T*, const T*, T*);
PARAFIT_MLP_INSTANTIATE(float)
PARAFIT_MLP_INSTANTIATE(double)
#undef PARAFIT_MLP_INSTANTIATE

}  // namespace parafit::detail

#else  // PARAFIT_MLP_MATH_BODY
// ==== The generic math, included twice above (namespaces portable and avx2) ========================
//
// Written against `Ops<T>`: V (lanes of T), M (lane mask) and the operations of ScalarOps. Only
// correctly rounded operations and exact ones, in a fixed order: the same bits in every lane of
// every instantiation.

// expm1(r) for |r| <= ln2/2 (+ a little): r + r^2 h(r) with h the Taylor series of
// (exp(r) - 1 - r) / r^2 summed in Estrin's form (shorter dependency chains than Horner's).
template <class O>
[[gnu::always_inline]] inline typename O::V expm1_poly(typename O::V r) {
  using S = typename O::S;
  using V = typename O::V;
  const V r2 = O::mul(r, r);
  const V r4 = O::mul(r2, r2);
  V h;
  if constexpr (std::is_same_v<S, float>) {
    // h through r^6/8!: the first term left out of expm1, r^9/9!, is below 2^-30 |r|.
    const V h01 = O::fma(r, O::set1(1.0f / 6.0f), O::set1(1.0f / 2.0f));
    const V h23 = O::fma(r, O::set1(1.0f / 120.0f), O::set1(1.0f / 24.0f));
    const V h45 = O::fma(r, O::set1(1.0f / 5040.0f), O::set1(1.0f / 720.0f));
    const V h46 = O::fma(r2, O::set1(1.0f / 40320.0f), h45);
    h = O::fma(r4, h46, O::fma(r2, h23, h01));
  } else {
    // h through r^11/13!: the first term left out of expm1, r^14/14!, is below 2^-56 |r|.
    const V r8 = O::mul(r4, r4);
    const V h01 = O::fma(r, O::set1(1.0 / 6.0), O::set1(1.0 / 2.0));
    const V h23 = O::fma(r, O::set1(1.0 / 120.0), O::set1(1.0 / 24.0));
    const V h45 = O::fma(r, O::set1(1.0 / 5040.0), O::set1(1.0 / 720.0));
    const V h67 = O::fma(r, O::set1(1.0 / 362880.0), O::set1(1.0 / 40320.0));
    const V h89 = O::fma(r, O::set1(1.0 / 39916800.0), O::set1(1.0 / 3628800.0));
    const V h1011 = O::fma(r, O::set1(1.0 / 6227020800.0), O::set1(1.0 / 479001600.0));
    const V h03 = O::fma(r2, h23, h01);
    const V h47 = O::fma(r2, h67, h45);
    const V h811 = O::fma(r2, h1011, h89);
    h = O::fma(r8, h811, O::fma(r4, h47, h03));
  }
  return O::fma(r2, h, r);
}

// u = n ln2 + r for u <= 0, u clamped at -clamp (NaN passes): t = kShifter + n, and r.
template <class O>
[[gnu::always_inline]] inline void exp_reduce(typename O::V u, typename O::S clamp,
                                              typename O::V& t, typename O::V& r) {
  using C = ExpConsts<typename O::S>;
  using V = typename O::V;
  const V lo = O::set1(-clamp);
  u = O::select(O::lt(u, lo), lo, u);
  const V shifter = O::set1(C::kShifter);
  t = O::fma(u, O::set1(C::kLog2e), shifter);  // kShifter + n exactly
  const V n = O::sub(t, shifter);
  r = O::fma(n, O::set1(-C::kLn2Hi), u);  // exact
  r = O::fma(n, O::set1(-C::kLn2Lo), r);
}

// exp(u) = m * lo from t = kShifter + n and pm1 = expm1(r): m = 2^floor(n/2) (1 + pm1) rounded
// once (a normal number), lo = 2^ceil(n/2) (normal). m * lo rounds again only where exp(u) is
// subnormal; callers that divide or multiply first apply lo last, so that a subnormal result is
// rounded once.
template <class O>
[[gnu::always_inline]] inline void exp_parts(typename O::V t, typename O::V pm1, typename O::V& m,
                                             typename O::V& lo) {
  typename O::V hi;
  O::pow2_halves(t, hi, lo);
  m = O::fma(pm1, hi, hi);
}

// x <= 0 over the whole range (gradual underflow): e = exp(x) = m * lo as above; x is clamped at
// -clamp (kClamp, or kGeluClamp: at most 158 and 1084 halvings, for which m and lo stay normal).
template <class O>
[[gnu::always_inline]] inline void exp_nonpos_parts(typename O::V x, typename O::V& e,
                                                    typename O::V& m, typename O::V& lo,
                                                    typename O::S clamp =
                                                        ExpConsts<typename O::S>::kClamp) {
  typename O::V t, r;
  exp_reduce<O>(x, clamp, t, r);
  exp_parts<O>(t, expm1_poly<O>(r), m, lo);
  e = O::mul(m, lo);
}

// expm1(u) for u <= 0, u clamped at -kTanhClamp (where expm1 is -1 to well below an ulp), so that
// 2^n is one normal number: 2^n expm1(r) + (2^n - 1) in one rounding. 2^n - 1 is exact for
// n >= -(mantissa bits + 1); below that the result is -1 within an ulp.
template <class O>
[[gnu::always_inline]] inline typename O::V expm1_tanh_range(typename O::V u) {
  typename O::V t, r;
  exp_reduce<O>(u, ExpConsts<typename O::S>::kTanhClamp, t, r);
  const typename O::V s = O::pow2(t);
  return O::fma(s, expm1_poly<O>(r), O::sub(s, O::set1(1)));
}

// tanh(x) = sign(x) * -e / (2 + e), e = expm1(-2|x|) in [-1, 0]: relative accuracy for tiny |x|
// (e ~ -2|x|), exactly +-1 for large |x| (e = -1), no overflow anywhere.
template <class O>
[[gnu::always_inline]] inline typename O::V tanh_v(typename O::V x) {
  using V = typename O::V;
  const V e = expm1_tanh_range<O>(O::mul(O::abs(x), O::set1(-2)));
  return O::copysign(O::div(O::neg(e), O::add(e, O::set1(2))), x);
}

// sigmoid(x) = (x >= 0 ? 1 : e) / (1 + e), e = exp(-|x|) = m lo: exp never overflows, and the left
// tail (m / (1 + e)) lo underflows gradually with one rounding in the subnormals.
template <class O>
[[gnu::always_inline]] inline typename O::V sigmoid_v(typename O::V x) {
  using V = typename O::V;
  const V one = O::set1(1);
  V e, m, lo;
  exp_nonpos_parts<O>(O::neg(O::abs(x)), e, m, lo);
  const typename O::M pos = O::ge(x, O::set1(0));
  return O::mul(O::div(O::select(pos, one, m), O::add(one, e)), O::select(pos, one, lo));
}

// ---- GELU (tanh form): gelu(z) = z s, s = sigmoid(v), v = kV1 (z + kV3 z^3) ----------------------
//
// With e = exp(-|v|) = m lo: gelu(z) = z / (1 + e) for v >= 0 and (zc m / (1 + e)) lo for v < 0
// (one rounding in the subnormals); s = (v >= 0 ? 1 : e) / (1 + e) and s (1 - s) = e / (1 + e)^2
// are accurate in both tails, and gelu'(z) = s + z s (1 - s) v'(z), v'(z) = kV1 (1 + 3 kV3 z^2).
// zc is z clamped to +-100, where sigmoid(v) is exactly 0 or 1 already, so that z^3 and v' stay
// finite (and gelu(-inf) = -0).
//
// For z < 0, gelu(z) ~ z exp(v): the result's relative error is v's absolute error, |v| times v's
// relative rounding error. Double lanes accept that (see mlp_kernels.h). Float lanes form v and
// its reduction v = n ln2 + r in double, and only then go to float (r to 2^-24 relative, n
// exactly), so the float result is within a few ulp everywhere at little more than float cost.

// z (double lanes) -> zc (clamped), z^2, v.
template <class O>
[[gnu::always_inline]] inline void gelu_arg(typename O::V z, typename O::V& zc, typename O::V& z2,
                                            typename O::V& v) {
  const typename O::V lim = O::set1(kGeluClamp);
  zc = O::select(O::gt(O::abs(z), lim), O::copysign(lim, z), z);
  z2 = O::mul(zc, zc);
  v = O::mul(O::set1(kGeluV1), O::fma(O::mul(O::set1(kGeluV3), z2), zc, zc));
}

// gelu(z), or gelu'(z) for Grad, from the sign of v, exp(-|v|) = m lo and zc, zc^2 (any lanes).
template <class O, bool Grad>
[[gnu::always_inline]] inline typename O::V gelu_finish(typename O::V z, typename O::V v,
                                                        typename O::V m, typename O::V lo,
                                                        typename O::V zc, typename O::V z2) {
  using S = typename O::S;
  using V = typename O::V;
  const V one = O::set1(1);
  const V e = O::mul(m, lo);
  const V den = O::add(one, e);
  const typename O::M pos = O::ge(v, O::set1(0));
  if constexpr (!Grad) {
    return O::mul(O::div(O::select(pos, z, O::mul(zc, m)), den), O::select(pos, one, lo));
  } else {
    const V s = O::div(O::select(pos, one, e), den);
    const V s1ms = O::div(e, O::mul(den, den));
    const V dv = O::mul(O::set1(static_cast<S>(kGeluV1)),
                        O::fma(O::set1(static_cast<S>(kGeluV3x3)), z2, one));
    return O::fma(O::mul(zc, s1ms), dv, s);
  }
}

// Double lanes: gelu(z), or gelu'(z) for Grad.
template <class O, bool Grad>
[[gnu::always_inline]] inline typename O::V gelu_d(typename O::V z) {
  typename O::V zc, z2, v, e, m, lo;
  gelu_arg<O>(z, zc, z2, v);
  exp_nonpos_parts<O>(O::neg(O::abs(v)), e, m, lo, ExpConsts<double>::kGeluClamp);
  return gelu_finish<O, Grad>(z, v, m, lo, zc, z2);
}

// Double lanes, the part of float GELU done in double: v, and -|v| = n ln2 + r (n as a double).
template <class O>
[[gnu::always_inline]] inline void gelu_reduce_for_float(typename O::V z, typename O::V& v,
                                                         typename O::V& n, typename O::V& r) {
  typename O::V zc, z2, t;
  gelu_arg<O>(z, zc, z2, v);
  exp_reduce<O>(O::neg(O::abs(v)), static_cast<double>(ExpConsts<float>::kGeluClamp), t, r);
  n = O::sub(t, O::set1(ExpConsts<double>::kShifter));
}

// GELU on lanes of T: double lanes directly, float lanes as described above.
template <class T, bool Grad>
[[gnu::always_inline]] inline typename Ops<T>::V gelu_any(typename Ops<T>::V z) {
  using O = Ops<T>;
  using OD = Ops<std::common_type_t<T, double>>;  // double, spelled dependent on T
  using V = typename O::V;
  if constexpr (std::is_same_v<T, double>) {
    return gelu_d<OD, Grad>(z);
  } else {
    V v, n, r;
    if constexpr (O::kLanes == 1) {
      double vd, nd, rd;
      gelu_reduce_for_float<OD>(z, vd, nd, rd);
      v = static_cast<float>(vd);
      n = static_cast<float>(nd);
      r = static_cast<float>(rd);
    } else {
      typename OD::V zl, zh, vl, vh, nl, nh, rl, rh;
      O::widen(z, zl, zh);
      gelu_reduce_for_float<OD>(zl, vl, nl, rl);
      gelu_reduce_for_float<OD>(zh, vh, nh, rh);
      v = O::narrow(vl, vh);
      n = O::narrow(nl, nh);
      r = O::narrow(rl, rh);
    }
    const V t = O::add(n, O::set1(ExpConsts<float>::kShifter));  // exact: |n| <= 162
    V m, lo;
    exp_parts<O>(t, expm1_poly<O>(r), m, lo);
    const V lim = O::set1(static_cast<float>(kGeluClamp));
    const V zc = O::select(O::gt(O::abs(z), lim), O::copysign(lim, z), z);
    return gelu_finish<O, Grad>(z, v, m, lo, zc, O::mul(zc, zc));
  }
}

template <Activation A, class T>
[[gnu::always_inline]] inline typename Ops<T>::V forward_v(typename Ops<T>::V z) {
  using O = Ops<T>;
  if constexpr (A == Activation::kTanh) return tanh_v<O>(z);
  if constexpr (A == Activation::kSigmoid) return sigmoid_v<O>(z);
  if constexpr (A == Activation::kRelu) return O::select(O::lt(z, O::set1(0)), O::set1(0), z);
  if constexpr (A == Activation::kGelu) return gelu_any<T, false>(z);
  return z;
}

template <Activation A, class T>
[[gnu::always_inline]] inline typename Ops<T>::V backward_v(typename Ops<T>::V z,
                                                            typename Ops<T>::V a,
                                                            typename Ops<T>::V d) {
  using O = Ops<T>;
  if constexpr (A == Activation::kTanh) return O::mul(d, O::fma(O::neg(a), a, O::set1(1)));
  if constexpr (A == Activation::kSigmoid) return O::mul(d, O::fma(O::neg(a), a, a));
  if constexpr (A == Activation::kRelu) return O::select(O::gt(a, O::set1(0)), d, O::set1(0));
  if constexpr (A == Activation::kGelu) return O::mul(d, gelu_any<T, true>(z));
  return d;
}

// Element-wise loops: whole vectors, then the remainder through a zero-padded vector.
template <Activation A, class T>
void forward_loop(std::size_t count, const T* z, T* a) {
  using O = Ops<T>;
  constexpr std::size_t W = O::kLanes;
  std::size_t i = 0;
  for (; i + W <= count; i += W) O::store(a + i, forward_v<A, T>(O::load(z + i)));
  if (i < count) {
    T buf[W] = {};
    std::copy(z + i, z + count, buf);
    O::store(buf, forward_v<A, T>(O::load(buf)));
    std::copy(buf, buf + (count - i), a + i);
  }
}

template <Activation A, class T>
void backward_loop(std::size_t count, const T* z, const T* a, T* d) {
  using O = Ops<T>;
  constexpr std::size_t W = O::kLanes;
  constexpr bool kReadsZ = A == Activation::kGelu;
  std::size_t i = 0;
  for (; i + W <= count; i += W) {
    const typename O::V zv = kReadsZ ? O::load(z + i) : O::set1(0);
    const typename O::V av = kReadsZ ? O::set1(0) : O::load(a + i);
    O::store(d + i, backward_v<A, T>(zv, av, O::load(d + i)));
  }
  if (i < count) {
    T zb[W] = {}, ab[W] = {}, db[W] = {};
    const std::size_t rest = count - i;
    if (kReadsZ) std::copy(z + i, z + count, zb);
    if (!kReadsZ) std::copy(a + i, a + count, ab);
    std::copy(d + i, d + count, db);
    O::store(db, backward_v<A, T>(O::load(zb), O::load(ab), O::load(db)));
    std::copy(db, db + rest, d + i);
  }
}

template <class T>
void forward(Activation act, std::size_t count, const T* z, T* a) {
  switch (act) {
    case Activation::kTanh: forward_loop<Activation::kTanh, T>(count, z, a); break;
    case Activation::kSigmoid: forward_loop<Activation::kSigmoid, T>(count, z, a); break;
    case Activation::kRelu: forward_loop<Activation::kRelu, T>(count, z, a); break;
    case Activation::kGelu: forward_loop<Activation::kGelu, T>(count, z, a); break;
    case Activation::kIdentity: forward_loop<Activation::kIdentity, T>(count, z, a); break;
  }
}

template <class T>
void backward(Activation act, std::size_t count, const T* z, const T* a, T* d) {
  switch (act) {
    case Activation::kTanh: backward_loop<Activation::kTanh, T>(count, z, a, d); break;
    case Activation::kSigmoid: backward_loop<Activation::kSigmoid, T>(count, z, a, d); break;
    case Activation::kRelu: backward_loop<Activation::kRelu, T>(count, z, a, d); break;
    case Activation::kGelu: backward_loop<Activation::kGelu, T>(count, z, a, d); break;
    case Activation::kIdentity: break;
  }
}

#endif  // PARAFIT_MLP_MATH_BODY
