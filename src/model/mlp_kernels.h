// mlp_kernels.h — the compute kernels of the MLP regressor: dense layers (affine), weight and bias
// gradients (accumulate_outer, accumulate_rows) and activations, for float and double. Written
// once on Google Highway and compiled for every SIMD target in the build; the best one this CPU
// runs is chosen at run time (simd/target.h: simd::ScopedTarget and PARAFIT_SIMD_TARGET force
// another), and every target gives the same bits.
//
// Determinism contract (what the trainer's bit-for-bit promise rests on):
//   * Every output element is ONE chain of correctly rounded operations in a fixed order, whatever
//     the shape of the call, the position of the element in it (full register tile or remainder)
//     and the SIMD target:
//       affine:            acc = bias[n] (or +0); for k ascending: acc = fma(A[i][k], B[k][n], acc)
//       accumulate_outer:  for i ascending: G[j][n] = fma(A[i][j], D[i][n], G[j][n])
//       accumulate_rows:   for i ascending: g[n] = g[n] + D[i][n]
//     So a row of affine's result does not depend on the other rows of the call, and cutting the
//     rows of accumulate_outer / accumulate_rows into several consecutive calls gives the same bits
//     as one call (the calls continue one sequential fold).
//   * Activations are built only from correctly rounded IEEE operations (+, -, *, /, fma) and
//     exact ones (sign manipulation, compare-and-select, integer operations on exponent bits) in a
//     fixed order, written once (simd/activation-inl.h) and compiled for the vectors of every
//     target (16/8 lanes on AVX-512, 8/4 on AVX2, 4/2 on SSE4, 1 on the scalar target): all give
//     identical bits.
//   * FMAs are explicit (MulAddExact, simd/ops-inl.h: the hardware FMA where the target has one,
//     std::fma per lane where it does not); nothing else is contracted (parafit is compiled with
//     -ffp-contract=off, src/CMakeLists.txt).
//
// Matrices are row-major with explicit leading dimensions, in elements. No alignment is required
// (the kernels use unaligned loads; 32- or 64-byte aligned rows are faster). Reads never go past
// the last element of a row (column remainders use masked loads, or padded copies on targets
// without non-faulting ones), so nothing needs padding. A, B, D and bias must not overlap the
// output. All functions are thread-safe (no shared state except the process-wide SIMD target
// choice of simd/target.h).
#pragma once

#include <cstddef>

namespace parafit::detail {

enum class Activation { kIdentity, kTanh, kRelu, kSigmoid, kGelu };

// ---- Dense layers and gradients -----------------------------------------------------------------

// C (m x n) = bias + A (m x k) * B (k x n); bias (n) may be nullptr (then the chain starts at +0).
// k == 0 gives C = bias (or +0).
template <class T>
void affine(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda, const T* B,
            std::size_t ldb, const T* bias, T* C, std::size_t ldc);

// G (m x n) += A^T D: A is rows x m, D is rows x n, each G[j][n] accumulated over rows in order
// (the fold continues from G's contents). With from_zero, G's contents are not read: the fold
// starts at +0 — the same bits as clearing G first, without a pass to clear it.
template <class T>
void accumulate_outer(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda,
                      const T* D, std::size_t ldd, T* G, std::size_t ldg, bool from_zero = false);

// g (n) += the column sums of D (rows x n), row by row in order; from_zero as above.
template <class T>
void accumulate_rows(std::size_t rows, std::size_t n, const T* D, std::size_t ldd, T* g, bool from_zero = false);

// ---- Activations --------------------------------------------------------------------------------
//
//   identity  a = z
//   tanh      a = tanh(z)
//   relu      a = z < 0 ? 0 : z         (NaN stays NaN, -0 stays -0)
//   sigmoid   a = 1 / (1 + exp(-z))
//   gelu      the tanh form: a = z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))), computed as
//             z * sigmoid(2 sqrt(2/pi) (z + 0.044715 z^3)), which is the same function without
//             the cancellation of 1 + tanh for z < 0 (PyTorch's gelu(approximate="tanh")).
//             The tanh form rather than the erf form: erf needs several piecewise polynomials to
//             be accurate everywhere; the two differ by less than 5e-4 (absolute).
//
// Accuracy against the exact function of the input (measured in tests/model/test_mlp_kernels.cpp):
//   float  tanh, sigmoid, gelu: within 3 ulp (measured 2.5, 2.1, 2.2); gelu forms its argument v
//          and the reduction v = n ln2 + r in double, the rest in float
//   double tanh, sigmoid: within 3 ulp; gelu: within 3 + 3|v| ulp, v the sigmoid's argument: for
//          z < 0, gelu(z) ~ z exp(v) turns v's relative rounding error (a few ulp) into |v| times
//          that. It stays below gelu's condition number there (|z v'(z)| > 3|v|), i.e. below the
//          change a perturbation of z in its last bit makes; near z = 0 and for z > 0 it is 3 ulp.
// over the whole range: relative accuracy for tiny |z| (tanh(1e-30) = 1e-30), saturation without
// overflow for large |z|, gradual underflow of sigmoid and gelu to 0 for z -> -inf, NaN -> NaN.
// gelu(-inf) is -0, the limit (PyTorch's 0.5 z (1 + tanh(...)) gives NaN there).
//
// a = act(z), count elements. a may equal z (in place).
template <class T>
void activate_forward(Activation act, std::size_t count, const T* z, T* a);

// d[i] *= act'(z[i]), count elements. What each activation reads (the other pointer may be
// nullptr):
//   identity  nothing (d unchanged)
//   tanh      a:  d *= fma(-a, a, 1)             (1 - a^2, rounded once)
//   sigmoid   a:  d *= fma(-a, a, a)             (a (1 - a), rounded once)
//   relu      a:  d = a > 0 ? d : 0              (a > 0 exactly where z > 0; 0 at z = 0)
//   gelu      z:  d *= s + z s (1 - s) v'(z), s = sigmoid(v) recomputed from z (v in double
//                 for float), s (1 - s) = e / (1 + e)^2 with e = exp(-|v|), accurate in both tails
// The derivatives from a have absolute error about ulp(1) where they are tiny (|z| large).
template <class T>
void activate_backward(Activation act, std::size_t count, const T* z, const T* a, T* d);

// dst[c][r] = src[r][c] for r < rows, c < cols (dst is cols x rows): the transposed weights of the
// backward pass. Copies bits.
template <class T>
void transpose(std::size_t rows, std::size_t cols, const T* src, std::size_t lds, T* dst, std::size_t ldd);

// ---- Hand-over between the trainer (double) and the model's precision -------------------------

// out[i] = sum[i] as double, + 0.0 (so that -0 becomes +0), count elements: the hand-over of a
// gradient accumulator to the trainer's sums. Exact. (The accumulator's next fold starts with
// from_zero instead of a pass clearing it.)
template <class T>
void widen_sums(std::size_t count, const T* sum, double* out);

// out[i] = theta[i] rounded to T (correctly rounded; exact for double), count elements.
template <class T>
void narrow_parameters(std::size_t count, const double* theta, T* out);

}  // namespace parafit::detail
