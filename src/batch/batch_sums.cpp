#include "batch/batch_sums.h"

#include "batch/deviance.h"
#include "simd/log_scalar.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace parafit::detail {

namespace {

// Least squares: the sums exactly as `fit` takes them (solve/normal_equations.cpp, gram_block.cpp),
// so that a batch fit follows `fit`'s path bit for bit. S(k, l) = sum_i (w_i v_k[i]) v_l[i] over the
// columns v = [r, J_free...], k <= l: row i of each block of kBlockRows rows goes to lane i mod 4,
// the block's lanes start at zero and are added into the fit's lanes at its end, and the lanes are
// combined as (l0 + l1) + (l2 + l3).
constexpr std::size_t kBlockRows = 256;
constexpr std::size_t kLanes = 4;

void least_squares_sums(const FitRows& rows, const double* f, const double* const* cols, Eigen::Index q,
                        SmallSums& out) {
  constexpr std::size_t kMaxSums = (kMaxBatchParameters + 1) * (kMaxBatchParameters + 2) / 2;
  const std::size_t m = std::size_t(q) + 1;
  const std::size_t sums = m * (m + 1) / 2;
  double acc[kLanes][kMaxSums];
  double block[kLanes][kMaxSums];
  double v[kMaxBatchParameters + 1];
  // One block (n <= kBlockRows, every small fit) needs no separate fit lanes: 0 + s is s.
  const bool one_block = rows.n <= kBlockRows;
  double(*lanes)[kMaxSums] = one_block ? acc : block;
  if (!one_block)
    for (auto& lane : acc) std::fill_n(lane, sums, 0.0);
  for (std::size_t b = 0; b < rows.n || b == 0; b += kBlockRows) {
    const std::size_t end = std::min(rows.n, b + kBlockRows);
    for (std::size_t lane = 0; lane < kLanes; ++lane) std::fill_n(lanes[lane], sums, 0.0);
    for (std::size_t i = b; i < end; ++i) {
      double* s = lanes[(i - b) % kLanes];
      v[0] = rows.y[i] - f[i];
      for (std::size_t a = 1; a < m; ++a) v[a] = cols[a - 1][i];
      std::size_t t = 0;
      for (std::size_t k = 0; k < m; ++k) {
        const double u = rows.w != nullptr ? rows.w[i] * v[k] : v[k];
        for (std::size_t l = k; l < m; ++l) s[t++] += u * v[l];
      }
    }
    if (!one_block)
      for (std::size_t lane = 0; lane < kLanes; ++lane)
        for (std::size_t t = 0; t < sums; ++t) acc[lane][t] += block[lane][t];
    if (end == rows.n) break;
  }
  std::size_t t = 0;
  for (std::size_t k = 0; k < m; ++k)
    for (std::size_t l = k; l < m; ++l, ++t) {
      const double total = (acc[0][t] + acc[1][t]) + (acc[2][t] + acc[3][t]);
      if (k == 0 && l == 0) out.cost = total;
      else if (k == 0) out.g(Eigen::Index(l - 1)) = total;
      else out.H(Eigen::Index(k - 1), Eigen::Index(l - 1)) = out.H(Eigen::Index(l - 1), Eigen::Index(k - 1)) = total;
    }
}

// One count's deviance term (batch/deviance.h), the operations of the lane kernel's in order.
double deviance_term(double y, double m) {
  if (!(y > 0)) return m;
  const double u = (m - y) / y;
  if (!(std::abs(u) < kDevianceSeriesLimit)) return (m - y) + y * simd::log_scalar(y / m);
  const double s = u / (2.0 + u), s2 = s * s;
  double power = s * s2, series = 0;
  for (std::size_t k = 0; k < kDevianceSeriesTerms; ++k) {
    series = series + power * kDevianceSeries[k];
    power = power * s2;
  }
  return y * (u * s - 2.0 * series);
}

void poisson_sums(const FitRows& rows, const double* f, const double* const* cols, Eigen::Index q, SmallSums& out) {
  out.g.setZero(q);
  out.H.setZero(q, q);
  double cost = 0;
  const std::size_t step = rows.stride;
  for (std::size_t i = 0; i < rows.n; ++i) {
    const std::size_t at = i * step;
    const double w = rows.w != nullptr ? rows.w[at] : 1.0;
    if (w == 0) continue;
    const double y = rows.y[at], m = f[at];
    if (!(m > 0)) {
      out.cost = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    cost += 2.0 * w * deviance_term(y, m);
    const double e = w / m, c = e * (y - m);
    for (Eigen::Index a = 0; a < q; ++a) {
      const double ja = cols[a][at];
      out.g(a) += c * ja;
      const double ea = e * ja;
      for (Eigen::Index b = 0; b <= a; ++b) out.H(a, b) += ea * cols[b][at];
    }
  }
  for (Eigen::Index a = 0; a < q; ++a)
    for (Eigen::Index b = 0; b < a; ++b) out.H(b, a) = out.H(a, b);
  out.cost = cost;
}

}  // namespace

void batch_sums(Estimator estimator, const FitRows& rows, const double* f, const double* J,
                std::span<const std::size_t> free, SmallSums& out) {
  const Eigen::Index q = Eigen::Index(free.size());
  out.g.resize(q);
  out.H.resize(q, q);
  const double* cols[kMaxBatchParameters];
  for (Eigen::Index a = 0; a < q; ++a) cols[a] = J + free[std::size_t(a)] * rows.n * rows.stride;
  if (estimator == Estimator::kLeastSquares) least_squares_sums(rows, f, cols, q, out);
  else poisson_sums(rows, f, cols, q, out);
}

}  // namespace parafit::detail
