#include "solve/rank_deficiency.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

namespace parafit::detail {

RankDeficiency rank_deficiency(const Eigen::MatrixXd& H) {
  const Eigen::Index k = H.rows();
  RankDeficiency out;
  out.size = std::size_t(k);
  out.rank = out.size;
  if (k == 0) return out;
  std::vector<bool> involved(out.size, false);
  // A column without effect is its own null direction; the rest are scaled to unit diagonal.
  std::vector<Eigen::Index> live;
  for (Eigen::Index a = 0; a < k; ++a) {
    if (H(a, a) > 0 && std::isfinite(H(a, a))) live.push_back(a);
    else involved[std::size_t(a)] = true;
  }
  const Eigen::Index m = Eigen::Index(live.size());
  Eigen::MatrixXd S(m, m);
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b)
      S(a, b) = H(live[a], live[b]) / std::sqrt(H(live[a], live[a]) * H(live[b], live[b]));
  std::size_t rank = 0;
  if (m > 0) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(S);
    const Eigen::VectorXd& lambda = eig.eigenvalues();  // increasing
    const double top = lambda(m - 1);
    for (Eigen::Index i = 0; i < m; ++i) {
      if (lambda(i) > kRankTolerance * top) {
        ++rank;
        continue;
      }
      const Eigen::VectorXd v = eig.eigenvectors().col(i);
      const double largest = v.cwiseAbs().maxCoeff();
      for (Eigen::Index a = 0; a < m; ++a)
        if (std::abs(v(a)) >= 0.1 * largest) involved[std::size_t(live[a])] = true;
    }
    if (m == k) out.reciprocal_condition = std::sqrt(std::max(lambda(0), 0.0) / top);
  }
  out.rank = rank;
  for (std::size_t a = 0; a < out.size; ++a)
    if (involved[a]) out.involved.push_back(a);
  return out;
}

}  // namespace parafit::detail
