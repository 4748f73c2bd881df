// poly:k — b0 + b1*x + ... + bk*x^k.
//
// The row loop is written once on Highway (per-target code below, compiled for each target by
// hwy/foreach_target.h and dispatched at run time): every target gives the bits of the scalar
// Horner recurrence f = (...(bk*x + b(k-1))*x + ...)*x + b0 and of J_j = J_(j-1)*x, J_0 = 1,
// operation for operation (Mul then Add, never fused).
#include <cstddef>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/poly.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::ForEachVector;

// f = Horner over theta[0..degree]; J (ldj apart, or none when J is nullptr) = 1, x, x*x, ...
void PolyRows(std::size_t n, int degree, const double* theta, const double* x, double* f, double* J,
              std::size_t ldj) {
  const hn::ScalableTag<double> d;
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    auto acc = hn::Set(d, theta[degree]);
    for (int j = degree - 1; j >= 0; --j) acc = hn::Add(hn::Mul(acc, xv), hn::Set(d, theta[j]));
    store(f, acc);
    if (J == nullptr) return;
    auto p = hn::Set(d, 1.0);
    store(J, p);
    for (int j = 1; j <= degree; ++j) {
      p = hn::Mul(p, xv);
      store(J + static_cast<std::size_t>(j) * ldj, p);
    }
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "model/family.h"
#include "model/self_start.h"

namespace parafit::detail {

HWY_EXPORT(PolyRows);

namespace {

std::string poly_formula(int degree) {
  std::string s = "b0";
  if (degree >= 1) s += " + b1*x";
  for (int j = 2; j <= degree; ++j) s += fmt::format(" + b{0}*x^{0}", j);
  return s;
}

std::vector<std::string> poly_parameters(int degree) {
  std::vector<std::string> names;
  for (int j = 0; j <= degree; ++j) names.push_back(fmt::format("b{}", j));
  return names;
}

// t = alpha*x + beta maps [lo, hi] onto [-1, 1].
struct Mapping {
  double alpha = 1.0;
  double beta = 0.0;
  Mapping(double lo, double hi) : beta(-lo) {
    if (hi > lo) {
      alpha = 2.0 / (hi - lo);
      beta = -(hi + lo) / (hi - lo);
    }
  }
};

constexpr int kMaxMoments = 2 * kMaxPolyDegree + 1;

struct Moments {
  Mapping map;
  std::array<double, kMaxMoments> m{};  // sum of T_p(t) over finite rows
  std::array<double, kMaxMoments> r{};  // sum of y*T_p(t)
  double lo = std::numeric_limits<double>::infinity();   // smallest finite x
  double hi = -std::numeric_limits<double>::infinity();  // largest finite x
};

class Poly final : public FamilyModel {
 public:
  explicit Poly(int degree)
      : FamilyModel(fmt::format("poly:{}", degree), poly_formula(degree),
                    poly_parameters(degree)),
        degree_(degree) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    HWY_DYNAMIC_DISPATCH(PolyRows)(block.size, degree_, theta, block.inputs[0], f, J, ldj);
  }

  // The exact least-squares fit over all rows. Monomial normal equations are hopeless beyond a
  // few degrees, so the fit is done in Chebyshev polynomials of x mapped to about [-1, 1]: their
  // Gram matrix is well conditioned, and since T_i*T_j = (T_{i+j} + T_{|i-j|})/2 it needs only the
  // sums of T_0..T_2k and of y*T_0..T_k — O(k) work per row in one sequential pass (so the result
  // does not depend on the thread count).
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const std::span<const double> x = single_input(name(), inputs, y);
    const int k = degree_;

    // The x range comes from the subsample, which saves a pass over data that are read at memory
    // speed. If the full data reach well beyond it the basis would grow large there (T_p(t) is
    // ~cosh(p*acosh|t|) for |t| > 1), so then the pass is repeated with the true range.
    const Sample s = sorted_subsample(name(), x, y, static_cast<std::size_t>(k) + 1);
    const Mapping sampled(s.x.front(), s.x.back());
    Moments mo = accumulate(x, y, sampled);
    if (std::fabs(sampled.alpha * mo.lo + sampled.beta) > 1.25 ||
        std::fabs(sampled.alpha * mo.hi + sampled.beta) > 1.25) {
      mo = accumulate(x, y, Mapping(mo.lo, mo.hi));
    }
    const double alpha = mo.map.alpha;
    const double beta = mo.map.beta;
    const auto& m = mo.m;
    const auto& r = mo.r;

    Eigen::MatrixXd gram(k + 1, k + 1);
    Eigen::VectorXd rhs(k + 1);
    for (int i = 0; i <= k; ++i) {
      rhs(i) = r[i];
      for (int j = 0; j <= k; ++j) gram(i, j) = 0.5 * (m[i + j] + m[std::abs(i - j)]);
    }
    // Complete orthogonal decomposition: with fewer distinct x than coefficients it still gives
    // the minimum-norm solution instead of garbage.
    Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(gram);
    cod.setThreshold(1e-13);
    const Eigen::VectorXd c = cod.solve(rhs);

    // Back to monomials in x: T_{j+1} = 2*(alpha*x + beta)*T_j - T_{j-1} on coefficient vectors.
    std::vector<double> theta(k + 1, 0.0);
    std::vector<double> prev(k + 1, 0.0);
    std::vector<double> cur(k + 1, 0.0);
    std::vector<double> next(k + 1, 0.0);
    prev[0] = 1.0;  // T_0
    theta[0] = c(0);
    if (k >= 1) {
      cur[0] = beta;  // T_1
      cur[1] = alpha;
      for (int p = 0; p <= 1; ++p) theta[p] += c(1) * cur[p];
    }
    for (int j = 2; j <= k; ++j) {
      for (int p = 0; p <= j; ++p) {
        const double shifted = p > 0 ? cur[p - 1] : 0.0;
        next[p] = 2.0 * (alpha * shifted + beta * cur[p]) - prev[p];
      }
      for (int p = 0; p <= j; ++p) theta[p] += c(j) * next[p];
      std::swap(prev, cur);
      std::swap(cur, next);
    }
    for (double& v : theta) v = finite_or(v, 0.0);
    return theta;
  }

  Moments accumulate(std::span<const double> x, std::span<const double> y, Mapping map) const {
    // Low degrees are the common case: with the degree known at compile time the recurrence and
    // the sums live in registers, which makes the pass several times faster.
    switch (degree_) {
      case 0: return accumulate_rows<0>(x, y, map);
      case 1: return accumulate_rows<1>(x, y, map);
      case 2: return accumulate_rows<2>(x, y, map);
      case 3: return accumulate_rows<3>(x, y, map);
      case 4: return accumulate_rows<4>(x, y, map);
      default: return accumulate_rows<-1>(x, y, map);
    }
  }

  // kDegree < 0: the degree is degree_, known only at run time.
  template <int kDegree>
  Moments accumulate_rows(std::span<const double> x, std::span<const double> y,
                          Mapping map) const {
    const int k = kDegree >= 0 ? kDegree : degree_;
    const int np = 2 * k + 1;
    Moments mo{map};
    std::array<double, kMaxMoments> cm{};
    std::array<double, kMaxMoments> cr{};
    std::array<double, kMaxMoments> t{};
    const std::size_t rows = y.size();
    constexpr std::size_t kChunk = 4096;  // partial sums per chunk keep rounding error small
    for (std::size_t start = 0; start < rows; start += kChunk) {
      const std::size_t end = std::min(rows, start + kChunk);
      std::fill(cm.begin(), cm.begin() + np, 0.0);
      std::fill(cr.begin(), cr.begin() + k + 1, 0.0);
      for (std::size_t i = start; i < end; ++i) {
        const double xi = x[i];
        const double yi = y[i];
        if (!((xi - xi) + (yi - yi) == 0.0)) continue;  // skips rows with a NaN or an infinity
        mo.lo = std::min(mo.lo, xi);
        mo.hi = std::max(mo.hi, xi);
        const double u = map.alpha * xi + map.beta;
        t[0] = 1.0;
        t[1] = u;
        for (int p = 2; p < np; ++p) t[p] = 2.0 * u * t[p - 1] - t[p - 2];
        for (int p = 0; p < np; ++p) cm[p] += t[p];
        for (int p = 0; p <= k; ++p) cr[p] += yi * t[p];
      }
      for (int p = 0; p < np; ++p) mo.m[p] += cm[p];
      for (int p = 0; p <= k; ++p) mo.r[p] += cr[p];
    }
    return mo;
  }

 private:
  int degree_;
};

}  // namespace

std::unique_ptr<Model> make_poly(int degree) { return std::make_unique<Poly>(degree); }

}  // namespace parafit::detail
#endif  // HWY_ONCE
