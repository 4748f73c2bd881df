// The MLP kernels (src/model/mlp_kernels.h): the dense kernels against naive std::fma loops written
// here (exact bits, every shape, every SIMD target this machine runs, forced in turn with
// simd::ScopedTarget), the row-independence and split-fold properties the trainer's determinism
// rests on, and the activations against long double references (ulp bounds), their derivatives
// against closed forms and finite differences, and every target against the SCALAR one (bits).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "model/mlp_kernels.h"
#include "simd/target.h"

namespace parafit::detail {
namespace {

using simd::ScopedTarget;
using simd::TargetInfo;

// The SIMD targets this machine runs, best first; the last is the fallback without SIMD (SCALAR,
// or EMU128 in clang builds).
std::vector<TargetInfo> targets() { return simd::available_targets(); }

const char* name(const TargetInfo& t) { return t.name.c_str(); }

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937_64& rng, T lo = T(-1), T hi = T(1)) {
  std::uniform_real_distribution<T> dist(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = dist(rng);
  return v;
}

// Identical bits; any two NaNs count as the same (their payloads and signs are not specified).
template <class T>
bool same_bits(T a, T b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if constexpr (sizeof(T) == 4) {
    return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
  } else {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
  }
}

// Index of the first element whose bits differ, or -1.
template <class T>
long first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) return static_cast<long>(i);
  }
  return -1;
}

// ---- Naive references: the contract, written out ---------------------------------------------------

template <class T>
void affine_ref(std::size_t m, std::size_t n, std::size_t k, const T* A, std::size_t lda,
                const T* B, std::size_t ldb, const T* bias, T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t c = 0; c < n; ++c) {
      T acc = bias != nullptr ? bias[c] : T(0);
      for (std::size_t kk = 0; kk < k; ++kk) acc = std::fma(A[i * lda + kk], B[kk * ldb + c], acc);
      C[i * ldc + c] = acc;
    }
  }
}

template <class T>
void outer_ref(std::size_t rows, std::size_t m, std::size_t n, const T* A, std::size_t lda,
               const T* D, std::size_t ldd, T* G, std::size_t ldg) {
  for (std::size_t j = 0; j < m; ++j) {
    for (std::size_t c = 0; c < n; ++c) {
      T g = G[j * ldg + c];
      for (std::size_t i = 0; i < rows; ++i) g = std::fma(A[i * lda + j], D[i * ldd + c], g);
      G[j * ldg + c] = g;
    }
  }
}

// Every tile shape on every target: 1..6 rows, 1..4 vectors of 16/8/4/1 lanes, with and without a
// partial last vector.
const std::size_t kSizes[] = {1, 3, 7, 8, 9, 16, 17, 33, 48, 64, 65};

// Entries of C outside the m x n block (leading-dimension padding) must keep this value.
constexpr double kSentinel = 12345.0;

template <class T>
void check_affine_all_shapes() {
  std::mt19937_64 rng(17);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    for (const std::size_t m : kSizes) {
      for (const std::size_t n : kSizes) {
        for (const std::size_t k : kSizes) {
          const std::size_t lda = k + 3, ldb = n + 5, ldc = n + 2;
          const auto A = random_vector<T>(m * lda, rng);
          const auto B = random_vector<T>(k * ldb, rng);
          const auto bias = random_vector<T>(n, rng);
          for (const bool with_bias : {true, false}) {
            const T* b = with_bias ? bias.data() : nullptr;
            std::vector<T> C(m * ldc, T(kSentinel)), R(m * ldc, T(kSentinel));
            affine<T>(m, n, k, A.data(), lda, B.data(), ldb, b, C.data(), ldc);
            affine_ref<T>(m, n, k, A.data(), lda, B.data(), ldb, b, R.data(), ldc);
            ASSERT_EQ(first_difference(C, R), -1)
                << name(path) << " m=" << m << " n=" << n << " k=" << k << " bias=" << with_bias;
          }
        }
      }
    }
  }
}

TEST(MlpKernels, AffineIsTheFmaChainBitForBitFloat) { check_affine_all_shapes<float>(); }
TEST(MlpKernels, AffineIsTheFmaChainBitForBitDouble) { check_affine_all_shapes<double>(); }

template <class T>
void check_outer_all_shapes() {
  std::mt19937_64 rng(23);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    for (const std::size_t rows : kSizes) {
      for (const std::size_t m : kSizes) {
        for (const std::size_t n : kSizes) {
          const std::size_t lda = m + 1, ldd = n + 3, ldg = n + 4;
          const auto A = random_vector<T>(rows * lda, rng);
          const auto D = random_vector<T>(rows * ldd, rng);
          auto G = random_vector<T>(m * ldg, rng);
          for (std::size_t j = 0; j < m; ++j) {
            for (std::size_t c = n; c < ldg; ++c) G[j * ldg + c] = T(kSentinel);
          }
          auto R = G;
          accumulate_outer<T>(rows, m, n, A.data(), lda, D.data(), ldd, G.data(), ldg);
          outer_ref<T>(rows, m, n, A.data(), lda, D.data(), ldd, R.data(), ldg);
          ASSERT_EQ(first_difference(G, R), -1)
              << name(path) << " rows=" << rows << " m=" << m << " n=" << n;
          // from_zero: G's old contents ignored, as if it were zeroed first (padding untouched).
          auto Z = R;
          for (std::size_t j = 0; j < m; ++j) std::fill(Z.begin() + std::ptrdiff_t(j * ldg), Z.begin() + std::ptrdiff_t(j * ldg + n), T(0));
          outer_ref<T>(rows, m, n, A.data(), lda, D.data(), ldd, Z.data(), ldg);
          accumulate_outer<T>(rows, m, n, A.data(), lda, D.data(), ldd, G.data(), ldg, true);
          ASSERT_EQ(first_difference(G, Z), -1)
              << name(path) << " from zero, rows=" << rows << " m=" << m << " n=" << n;
        }
      }
    }
  }
}

TEST(MlpKernels, AccumulateOuterIsTheFmaFoldBitForBitFloat) { check_outer_all_shapes<float>(); }
TEST(MlpKernels, AccumulateOuterIsTheFmaFoldBitForBitDouble) { check_outer_all_shapes<double>(); }

template <class T>
void check_rows_all_shapes() {
  std::mt19937_64 rng(29);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    for (const std::size_t rows : {1, 2, 7, 64, 255}) {
      for (const std::size_t n : kSizes) {
        const std::size_t ldd = n + 1;
        const auto D = random_vector<T>(rows * ldd, rng);
        auto g = random_vector<T>(n + 3, rng);
        auto ref = g;
        accumulate_rows<T>(rows, n, D.data(), ldd, g.data());
        for (std::size_t c = 0; c < n; ++c) {
          for (std::size_t i = 0; i < rows; ++i) ref[c] = ref[c] + D[i * ldd + c];
        }
        ASSERT_EQ(first_difference(g, ref), -1) << name(path) << " rows=" << rows << " n=" << n;
        std::fill(ref.begin(), ref.begin() + std::ptrdiff_t(n), T(0));
        for (std::size_t c = 0; c < n; ++c) {
          for (std::size_t i = 0; i < rows; ++i) ref[c] = ref[c] + D[i * ldd + c];
        }
        accumulate_rows<T>(rows, n, D.data(), ldd, g.data(), true);
        ASSERT_EQ(first_difference(g, ref), -1) << name(path) << " from zero, rows=" << rows << " n=" << n;
      }
    }
  }
}

TEST(MlpKernels, AccumulateRowsIsTheSequentialSumBitForBitFloat) { check_rows_all_shapes<float>(); }
TEST(MlpKernels, AccumulateRowsIsTheSequentialSumBitForBitDouble) {
  check_rows_all_shapes<double>();
}

// Values with wide dynamic range, so that the order of the roundings shows in the bits: a fold in
// another order (or with partial sums) would differ from the reference almost surely.
template <class T>
std::vector<T> wide_range_vector(std::size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<T> mant(-1, 1);
  std::uniform_int_distribution<int> exp(-20, 20);
  std::vector<T> v(n);
  for (T& x : v) x = std::ldexp(mant(rng), exp(rng));
  return v;
}

template <class T>
void check_split_fold() {
  std::mt19937_64 rng(31);
  const std::size_t rows = 77, m = 19, n = 33;
  const auto A = wide_range_vector<T>(rows * m, rng);
  const auto D = wide_range_vector<T>(rows * n, rng);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    std::vector<T> G_one(m * n, T(0)), g_one(n, T(0));
    accumulate_outer<T>(rows, m, n, A.data(), m, D.data(), n, G_one.data(), n);
    accumulate_rows<T>(rows, n, D.data(), n, g_one.data());
    for (const std::size_t piece : {1, 5, 13, 64}) {
      std::vector<T> G(m * n, T(0)), g(n, T(0));
      for (std::size_t r0 = 0; r0 < rows; r0 += piece) {
        const std::size_t k = std::min(piece, rows - r0);
        accumulate_outer<T>(k, m, n, A.data() + r0 * m, m, D.data() + r0 * n, n, G.data(), n);
        accumulate_rows<T>(k, n, D.data() + r0 * n, n, g.data());
      }
      EXPECT_EQ(first_difference(G, G_one), -1) << name(path) << " piece=" << piece;
      EXPECT_EQ(first_difference(g, g_one), -1) << name(path) << " piece=" << piece;
    }
    // And the fold really is order-sensitive with this data (else the test would prove little):
    // summing the rows backwards changes some bits.
    std::vector<T> G_rev(m * n, T(0));
    for (std::size_t r = rows; r-- > 0;) {
      accumulate_outer<T>(1, m, n, A.data() + r * m, m, D.data() + r * n, n, G_rev.data(), n);
    }
    EXPECT_NE(first_difference(G_rev, G_one), -1);
  }
}

TEST(MlpKernels, SplittingTheRowsIntoCallsGivesTheSameBitsFloat) { check_split_fold<float>(); }
TEST(MlpKernels, SplittingTheRowsIntoCallsGivesTheSameBitsDouble) { check_split_fold<double>(); }

// Row i of affine's result is the same bits whatever the other rows of the call.
template <class T>
void check_row_independence() {
  std::mt19937_64 rng(37);
  const std::size_t m = 67, n = 29, k = 41;
  const auto A = wide_range_vector<T>(m * k, rng);
  const auto B = wide_range_vector<T>(k * n, rng);
  const auto bias = wide_range_vector<T>(n, rng);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    std::vector<T> all(m * n);
    affine<T>(m, n, k, A.data(), k, B.data(), n, bias.data(), all.data(), n);
    for (const std::size_t first : {0, 1, 5, 6, 13, 60}) {
      for (const std::size_t count : {1, 2, 5, 6, 7}) {
        if (first + count > m) continue;
        std::vector<T> part(count * n);
        affine<T>(count, n, k, A.data() + first * k, k, B.data(), n, bias.data(), part.data(), n);
        const std::vector<T> expected(all.begin() + first * n, all.begin() + (first + count) * n);
        EXPECT_EQ(first_difference(part, expected), -1)
            << name(path) << " rows [" << first << ", " << first + count << ")";
      }
    }
  }
}

TEST(MlpKernels, AffineRowDoesNotDependOnTheOtherRowsFloat) { check_row_independence<float>(); }
TEST(MlpKernels, AffineRowDoesNotDependOnTheOtherRowsDouble) { check_row_independence<double>(); }

// One output column stored contiguously (the output layer): its own kernel, vectors along the
// rows; every count of rows up to several blocks of 4 vectors, and nothing written past row m.
template <class T>
void check_affine_column() {
  std::mt19937_64 rng(19);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    for (std::size_t m = 1; m <= 140; m += (m < 70 ? 1 : 13)) {
      for (const std::size_t k : {1, 7, 64, 65}) {
        const std::size_t lda = k + 3;
        const auto A = wide_range_vector<T>(m * lda, rng);
        const auto B = wide_range_vector<T>(k * 2, rng);
        const auto bias = wide_range_vector<T>(1, rng);
        for (const bool with_bias : {true, false}) {
          const T* b = with_bias ? bias.data() : nullptr;
          std::vector<T> C(m + 1, T(kSentinel)), R(m + 1, T(kSentinel));
          affine<T>(m, 1, k, A.data(), lda, B.data(), 2, b, C.data(), 1);
          affine_ref<T>(m, 1, k, A.data(), lda, B.data(), 2, b, R.data(), 1);
          ASSERT_EQ(first_difference(C, R), -1) << name(path) << " m=" << m << " k=" << k << " bias=" << with_bias;
        }
      }
    }
  }
}

TEST(MlpKernels, AffineColumnIsTheFmaChainBitForBitFloat) { check_affine_column<float>(); }
TEST(MlpKernels, AffineColumnIsTheFmaChainBitForBitDouble) { check_affine_column<double>(); }

// Every target moves every element (bits included: NaN payloads, -0) and nothing else.
template <class T>
void check_transpose() {
  std::mt19937_64 rng(41);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    for (const std::size_t rows : kSizes) {
      for (const std::size_t cols : kSizes) {
        const std::size_t lds = cols + 2, ldd = rows + 3;
        auto src = wide_range_vector<T>(rows * lds, rng);
        src[0] = -T(0);
        std::vector<T> dst(cols * ldd, T(kSentinel)), ref(cols * ldd, T(kSentinel));
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < cols; ++c) ref[c * ldd + r] = src[r * lds + c];
        transpose<T>(rows, cols, src.data(), lds, dst.data(), ldd);
        ASSERT_EQ(first_difference(dst, ref), -1) << name(path) << " rows=" << rows << " cols=" << cols;
      }
    }
  }
}

TEST(MlpKernels, TransposeMovesEveryElementFloat) { check_transpose<float>(); }
TEST(MlpKernels, TransposeMovesEveryElementDouble) { check_transpose<double>(); }

TEST(MlpKernels, AffineWithNoInnerDimensionIsTheBias) {
  const std::vector<double> bias{1.5, -2.0, 3.25};
  std::vector<double> C(6, 9.0);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    affine<double>(2, 3, 0, nullptr, 0, nullptr, 3, bias.data(), C.data(), 3);
    EXPECT_EQ(C, (std::vector<double>{1.5, -2.0, 3.25, 1.5, -2.0, 3.25}));
    affine<double>(2, 3, 0, nullptr, 0, nullptr, 3, nullptr, C.data(), 3);
    EXPECT_EQ(C, std::vector<double>(6, 0.0));
  }
}

// The SIMD targets the kernels are checked on: at least the scalar fallback; on x86-64 the
// vector ones too (a silent fallback to fewer targets would leave them untested).
TEST(MlpKernels, EveryTargetIsChecked) {
  const std::vector<TargetInfo> all = targets();
  ASSERT_FALSE(all.empty());
  // The fallback without SIMD: SCALAR with GCC 12, EMU128 with clang.
  EXPECT_TRUE(all.back().name == "SCALAR" || all.back().name == "EMU128") << all.back().name;
  std::string names;
  for (const TargetInfo& t : all) names += t.name + " ";
  RecordProperty("targets", names);
#if defined(__x86_64__)
  EXPECT_GE(all.size(), 2u) << names;
#endif
}

// ---- Activations ------------------------------------------------------------------------------------

using Real = long double;  // the references: 64-bit significand on x86-64

Real tanh_ref(Real z) { return std::tanh(z); }
Real sigmoid_ref(Real z) { return 1.0L / (1.0L + std::exp(-z)); }
// GELU (tanh form) in the sigmoid form, which has no cancellation: z/2 (1 + tanh(u)) =
// z sigmoid(2u), u = sqrt(2/pi) (z + 0.044715 z^3).
Real gelu_v_ref(Real z) {
  const Real k = 2.0L * std::sqrt(2.0L / std::numbers::pi_v<Real>);
  return k * (z + 0.044715L * z * z * z);
}
Real gelu_ref(Real z) {
  if (std::isinf(z)) return z > 0 ? z : -0.0L;  // the limits
  return z / (1.0L + std::exp(-gelu_v_ref(z)));
}
// gelu'(z) = s + z s (1 - s) v'(z); `scale` gets |s| + |z s (1 - s) v'(z)|, the size of the terms
// (gelu' has a root near z = -0.75, where only an absolute error bound makes sense).
Real gelu_grad_ref(Real z, Real* scale = nullptr) {
  const Real k = 2.0L * std::sqrt(2.0L / std::numbers::pi_v<Real>);
  const Real s = 1.0L / (1.0L + std::exp(-gelu_v_ref(z)));
  const Real second = z * s * (1.0L - s) * k * (1.0L + 3.0L * 0.044715L * z * z);
  if (scale != nullptr) *scale = std::fabs(s) + std::fabs(second);
  return s + second;
}

// Error of `got` against the exact value in ulps of T at the exact value (subnormal ulps below
// the normal range). Infinite or NaN mismatches are reported as a huge error.
template <class T>
double ulp_error(T got, Real exact) {
  using L = std::numeric_limits<T>;
  if (std::isnan(exact)) return std::isnan(got) ? 0.0 : 1e30;
  if (std::isnan(got)) return 1e30;
  if (std::isinf(exact) || std::isinf(got)) return static_cast<Real>(got) == exact ? 0.0 : 1e30;
  int e = L::min_exponent - 1;  // the exponent of the binade [2^e, 2^(e+1))
  if (exact != 0) e = std::max(std::ilogb(exact), L::min_exponent - 1);
  const Real ulp = std::ldexp(1.0L, e - (L::digits - 1));
  return static_cast<double>(std::fabs(static_cast<Real>(got) - exact) / ulp);
}

// Test points: tiny to huge magnitudes of both signs, subnormals, the ranges where the functions
// bend, and special values.
template <class T>
std::vector<T> activation_points(std::size_t count, std::uint64_t seed) {
  using L = std::numeric_limits<T>;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-1, 1), mid(-12, 12), wide(-120, 120);
  std::uniform_real_distribution<double> log2mag(L::min_exponent - L::digits, L::max_exponent - 1);
  std::vector<T> v;
  v.reserve(count + 16);
  for (std::size_t i = 0; i < count; ++i) {
    double x = 0;
    switch (i % 5) {
      case 0: x = unit(rng); break;
      case 1: x = mid(rng); break;
      case 2: x = wide(rng); break;
      default: x = std::copysign(std::exp2(log2mag(rng)), unit(rng)); break;
    }
    v.push_back(static_cast<T>(x));
  }
  for (const T x : {T(0), T(-0.0), L::infinity(), -L::infinity(), L::denorm_min(), -L::denorm_min(),
                    L::min(), -L::min(), L::max(), -L::max(), T(1e-5), T(-1e-5), T(0.5), T(-0.5),
                    T(20), T(-20)}) {
    v.push_back(x);
  }
  return v;
}

template <class T>
std::vector<T> forward(Activation act, const std::vector<T>& z) {
  std::vector<T> a(z.size());
  activate_forward<T>(act, z.size(), z.data(), a.data());
  return a;
}

// Largest ulp error of activate_forward over the test points (NaN fails immediately).
template <class T>
double worst_ulp(Activation act, Real (*ref)(Real), const std::vector<T>& z, double bound,
                 double per_unit_v = 0.0) {
  const std::vector<T> a = forward<T>(act, z);
  double worst = 0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const Real exact = ref(static_cast<Real>(z[i]));
    const double err = ulp_error<T>(a[i], exact);
    // GELU in double: the error grows with |v| (see mlp_kernels.h).
    const double allowed =
        per_unit_v > 0 ? bound + per_unit_v * static_cast<double>(std::min<Real>(
                                                  std::fabs(gelu_v_ref(static_cast<Real>(z[i]))), 1e300))
                       : bound;
    if (!(err <= allowed)) {
      ADD_FAILURE() << "z=" << static_cast<double>(z[i]) << " got=" << static_cast<double>(a[i])
                    << " exact=" << static_cast<double>(exact) << " ulp error " << err;
      return err;
    }
    worst = std::max(worst, err);
  }
  return worst;
}

template <class T>
void check_activation_accuracy(double tanh_bound, double sigmoid_bound, double gelu_bound,
                               double gelu_per_v) {
  const std::vector<T> z = activation_points<T>(400'000, 41);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    const double t = worst_ulp<T>(Activation::kTanh, tanh_ref, z, tanh_bound);
    const double s = worst_ulp<T>(Activation::kSigmoid, sigmoid_ref, z, sigmoid_bound);
    const double g = worst_ulp<T>(Activation::kGelu, gelu_ref, z, gelu_bound, gelu_per_v);
    ::testing::Test::RecordProperty(std::string(name(path)) + "_worst_ulp",
                   "tanh " + std::to_string(t) + ", sigmoid " + std::to_string(s) + ", gelu " +
                       std::to_string(g));
  }
}

TEST(MlpKernels, ActivationsWithinAFewUlpFloat) { check_activation_accuracy<float>(3, 3, 3, 0); }
// Double gelu: 3 + 3|v| ulp, v = 2 sqrt(2/pi) (z + 0.044715 z^3): for z < 0, gelu(z) ~ z exp(v)
// turns v's few-ulp relative rounding error into |v| times that in the result. That is below the
// condition number of gelu there (about |z v'(z)| > 3|v|): a change of the input in its last bit
// moves the exact result further. In float (computed in double) the effect is invisible.
TEST(MlpKernels, ActivationsWithinAFewUlpDouble) {
  check_activation_accuracy<double>(3, 3, 3, 3);
}

template <class T>
void check_activation_specials() {
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    SCOPED_TRACE(name(path));
    const std::vector<T> z{T(0), T(-0.0), inf, -inf, nan, T(1e-30), T(-1e-30), L::denorm_min(),
                           T(3), T(-3)};
    const auto t = forward<T>(Activation::kTanh, z);
    EXPECT_TRUE(same_bits(t[0], T(0)));
    EXPECT_TRUE(same_bits(t[1], T(-0.0)));
    EXPECT_EQ(t[2], T(1));
    EXPECT_EQ(t[3], T(-1));
    EXPECT_TRUE(std::isnan(t[4]));
    EXPECT_EQ(t[5], T(1e-30));  // tanh(x) = x - x^3/3: x itself at this size
    EXPECT_EQ(t[6], T(-1e-30));
    EXPECT_EQ(t[7], L::denorm_min());
    const auto s = forward<T>(Activation::kSigmoid, z);
    EXPECT_EQ(s[0], T(0.5));
    EXPECT_EQ(s[1], T(0.5));
    EXPECT_EQ(s[2], T(1));
    EXPECT_EQ(s[3], T(0));
    EXPECT_TRUE(std::isnan(s[4]));
    const auto r = forward<T>(Activation::kRelu, z);
    EXPECT_TRUE(same_bits(r[0], T(0)));
    EXPECT_TRUE(same_bits(r[1], T(-0.0)));
    EXPECT_EQ(r[2], inf);
    EXPECT_TRUE(same_bits(r[3], T(0)));
    EXPECT_TRUE(std::isnan(r[4]));
    EXPECT_EQ(r[8], T(3));
    EXPECT_TRUE(same_bits(r[9], T(0)));
    const auto g = forward<T>(Activation::kGelu, z);
    EXPECT_EQ(g[0], T(0));
    EXPECT_EQ(g[2], inf);
    EXPECT_TRUE(same_bits(g[3], T(-0.0)));  // the limit (PyTorch gives NaN)
    EXPECT_TRUE(std::isnan(g[4]));
    EXPECT_EQ(g[5], T(0.5e-30));  // gelu(x) = x/2 + x^2/sqrt(2 pi) + ...
    const auto id = forward<T>(Activation::kIdentity, z);
    for (std::size_t i = 0; i < z.size(); ++i) EXPECT_TRUE(same_bits(id[i], z[i])) << i;
  }
}

TEST(MlpKernels, ActivationSpecialValuesFloat) { check_activation_specials<float>(); }
TEST(MlpKernels, ActivationSpecialValuesDouble) { check_activation_specials<double>(); }

// act'(z) through activate_backward with d = 1 (and d = 3: it multiplies) against the closed form
// at z in long double. The derivatives from a (tanh, sigmoid) inherit a's rounding, so their error
// is bounded in units of eps (absolute, as the derivative is at most 1); gelu's is relative.
template <class T>
void check_derivatives() {
  const T eps = std::numeric_limits<T>::epsilon();
  std::mt19937_64 rng(43);
  std::vector<T> z = random_vector<T>(50'000, rng, T(-12), T(12));
  const auto tiny = random_vector<T>(1000, rng, T(-1e-3), T(1e-3));
  z.insert(z.end(), tiny.begin(), tiny.end());
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    SCOPED_TRACE(name(path));
    for (const Activation act :
         {Activation::kTanh, Activation::kSigmoid, Activation::kRelu, Activation::kGelu,
          Activation::kIdentity}) {
      const std::vector<T> a = forward<T>(act, z);
      std::vector<T> d(z.size(), T(3));
      activate_backward<T>(act, z.size(), z.data(), a.data(), d.data());
      for (std::size_t i = 0; i < z.size(); ++i) {
        const Real x = z[i];
        Real exact = 1;
        Real tol = 0;
        switch (act) {
          case Activation::kTanh: {
            const Real t = std::tanh(x);
            exact = 1 - t * t;
            tol = 8 * eps;
            break;
          }
          case Activation::kSigmoid: {
            const Real s = sigmoid_ref(x);
            exact = s * (1 - s);
            tol = 4 * eps;
            break;
          }
          case Activation::kRelu: exact = x > 0 ? 1 : 0; break;
          case Activation::kGelu: {
            Real scale = 0;
            exact = gelu_grad_ref(x, &scale);
            // double: the terms' rounding and v's (as for gelu itself). float: v in double, the
            // rest in float; e = exp(-|v|) may be subnormal while gelu' is not: its absolute
            // error (half the smallest subnormal) is multiplied by about 1 + |z v'(z)|.
            const Real eps_d = std::numeric_limits<double>::epsilon();
            const Real zv = std::fabs(x) * 1.6L * (1 + 3 * 0.044715L * x * x);
            tol = sizeof(T) == 4 ? 8 * eps * scale
                                 : (4 + 2 * std::fabs(gelu_v_ref(x))) * eps_d * scale;
            tol += (1 + zv) * std::numeric_limits<T>::denorm_min();
            break;
          }
          case Activation::kIdentity: exact = 1; break;
        }
        ASSERT_LE(std::fabs(static_cast<Real>(d[i]) / 3 - exact), tol)
            << "act " << static_cast<int>(act) << " z=" << static_cast<double>(z[i])
            << " got " << static_cast<double>(d[i]) / 3 << " exact " << static_cast<double>(exact);
      }
    }
  }
}

TEST(MlpKernels, DerivativesMatchClosedFormsFloat) { check_derivatives<float>(); }
TEST(MlpKernels, DerivativesMatchClosedFormsDouble) { check_derivatives<double>(); }

// The derivatives are derivatives of the forward functions as computed: central differences of
// activate_forward (double) agree with activate_backward.
TEST(MlpKernels, DerivativesMatchFiniteDifferences) {
  std::mt19937_64 rng(47);
  const std::vector<double> z = random_vector<double>(2000, rng, -6.0, 6.0);
  for (const Activation act :
       {Activation::kTanh, Activation::kSigmoid, Activation::kRelu, Activation::kGelu}) {
    const std::vector<double> a = forward<double>(act, z);
    std::vector<double> d(z.size(), 1.0);
    activate_backward<double>(act, z.size(), z.data(), a.data(), d.data());
    std::vector<double> zp(z.size()), zm(z.size());
    std::vector<double> h(z.size());
    for (std::size_t i = 0; i < z.size(); ++i) {
      h[i] = 1e-6;
      zp[i] = z[i] + h[i];
      zm[i] = z[i] - h[i];
      h[i] = (zp[i] - zm[i]) / 2;  // the step actually taken
    }
    const std::vector<double> ap = forward<double>(act, zp), am = forward<double>(act, zm);
    for (std::size_t i = 0; i < z.size(); ++i) {
      if (act == Activation::kRelu && std::fabs(z[i]) < 1e-5) continue;  // the kink
      const double fd = (ap[i] - am[i]) / (2 * h[i]);
      EXPECT_NEAR(d[i], fd, 1e-8 * (1 + std::fabs(fd)))
          << "act " << static_cast<int>(act) << " z=" << z[i];
    }
  }
}

// Every target against the SCALAR one: every activation forward and backward, bits, on counts
// that leave remainders (the tail goes through a padded vector).
template <class T>
void check_activation_targets() {
  std::vector<T> z = activation_points<T>(100'003, 53);
  z.push_back(std::numeric_limits<T>::quiet_NaN());
  std::mt19937_64 rng(59);
  const std::vector<T> d0 = random_vector<T>(z.size(), rng, T(-2), T(2));
  const std::vector<TargetInfo> all = targets();
  for (const Activation act : {Activation::kTanh, Activation::kSigmoid, Activation::kRelu,
                               Activation::kGelu, Activation::kIdentity}) {
    for (const std::size_t count : {z.size(), std::size_t{1}, std::size_t{5}, std::size_t{13}, std::size_t{17},
                                    std::size_t{31}}) {
      std::vector<T> a_ref, d_ref;
      {
        ScopedTarget scalar("scalar");
        a_ref.assign(count, T(0));
        activate_forward<T>(act, count, z.data(), a_ref.data());
        d_ref.assign(d0.begin(), d0.begin() + static_cast<long>(count));
        activate_backward<T>(act, count, z.data(), a_ref.data(), d_ref.data());
      }
      for (const TargetInfo& t : all) {
        ScopedTarget scoped(t);
        std::vector<T> a(count, T(0)), d(d0.begin(), d0.begin() + static_cast<long>(count));
        activate_forward<T>(act, count, z.data(), a.data());
        activate_backward<T>(act, count, z.data(), a_ref.data(), d.data());
        EXPECT_EQ(first_difference(a, a_ref), -1) << t.name << " forward act " << static_cast<int>(act)
                                                  << " count " << count;
        EXPECT_EQ(first_difference(d, d_ref), -1) << t.name << " backward act " << static_cast<int>(act)
                                                  << " count " << count;
      }
    }
  }
}

TEST(MlpKernels, ActivationsSameBitsOnEveryTargetFloat) { check_activation_targets<float>(); }
TEST(MlpKernels, ActivationsSameBitsOnEveryTargetDouble) { check_activation_targets<double>(); }

TEST(MlpKernels, ActivationInPlace) {
  std::mt19937_64 rng(61);
  const std::vector<float> z = random_vector<float>(37, rng, -4.0f, 4.0f);
  for (const TargetInfo& path : targets()) {
    ScopedTarget scoped(path);
    for (const Activation act : {Activation::kTanh, Activation::kGelu, Activation::kIdentity}) {
      std::vector<float> inplace = z;
      activate_forward<float>(act, inplace.size(), inplace.data(), inplace.data());
      EXPECT_EQ(first_difference(inplace, forward<float>(act, z)), -1);
    }
  }
}

}  // namespace
}  // namespace parafit::detail

namespace parafit::detail {
namespace {

// The trainer's hand-over loops on every target against plain conversions: -0 becomes +0 in
// widen_sums, and narrowing rounds as a conversion does, overflow to inf included (Highway's
// scalar DemoteTo would saturate).
template <class T>
void check_hand_over() {
  using L = std::numeric_limits<double>;
  std::mt19937_64 rng(67);
  std::vector<double> theta = wide_range_vector<double>(1000, rng);
  for (const double x : {0.0, -0.0, L::infinity(), -L::infinity(), L::quiet_NaN(), 1e300, -1e300, 3.4028235677973366e38,
                         1e-310, -1e-46, 1.0 + 0x1p-30})
    theta.push_back(x);
  for (const TargetInfo& t : targets()) {
    ScopedTarget scoped(t);
    for (const std::size_t count : {theta.size(), std::size_t{1}, std::size_t{7}, std::size_t{17}}) {
      std::vector<T> narrow(count, T(5));
      narrow_parameters<T>(count, theta.data(), narrow.data());
      std::vector<T> expected(count);
      for (std::size_t i = 0; i < count; ++i) expected[i] = static_cast<T>(theta[i]);
      EXPECT_EQ(first_difference(narrow, expected), -1) << t.name << " count " << count;

      std::vector<T> sum = narrow;
      sum[0] = T(-0.0);
      std::vector<double> out(count + 1, 7.0);
      widen_sums<T>(count, sum.data(), out.data());
      for (std::size_t i = 0; i < count; ++i) {
        const double want = i == 0 ? 0.0 : static_cast<double>(narrow[i]) + 0.0;
        ASSERT_TRUE(same_bits(out[i], want)) << t.name << " " << i << ": " << out[i];
      }
      EXPECT_EQ(out[count], 7.0);  // nothing written past the end
    }
  }
}

TEST(MlpKernels, HandOverLoopsConvertExactlyOnEveryTargetFloat) { check_hand_over<float>(); }
TEST(MlpKernels, HandOverLoopsConvertExactlyOnEveryTargetDouble) { check_hand_over<double>(); }

}  // namespace
}  // namespace parafit::detail
