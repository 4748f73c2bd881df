// solve/rank_deficiency.h — is J^T W J (over the estimated parameters) of full rank, and if not,
// which parameters cannot be told apart?
//
// Only J^T W J is known (the Jacobian is streamed, never stored), so the test is on its
// eigenvalues after scaling it to unit diagonal (each Jacobian column to unit length, as R's QR
// pivoting judges each column against its own norm). With lambda_max the largest eigenvalue of the
// scaled matrix, an eigenvalue at most kRankTolerance * lambda_max spans a null direction: the
// scaled Jacobian's singular values sigma_i = sqrt(lambda_i) then satisfy
// sigma_min / sigma_max <= sqrt(kRankTolerance) = 1e-7, R's default tolerance for qr() in nls
// (which stops with "singular gradient" when the QR's rank is short).
//
// Why 1e-14 on the eigenvalues: J^T W J is accumulated in double precision, so an exactly
// singular scaled matrix comes out with eigenvalues of a few times eps * lambda_max (1e-16 to
// 1e-13 for millions of rows); 1e-14 sits just above that floor for typical sizes. The worst
// conditioned NIST problem at its certified solution (Bennett5, tests/nist) has
// sigma_min / sigma_max = 1.8e-5 after scaling, 175 times clear of the tolerance; the Lanczos
// problems come next at 9e-5.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

namespace parafit::detail {

inline constexpr double kRankTolerance = 1e-14;

struct RankDeficiency {
  std::size_t rank = 0;              // numerical rank of the matrix
  std::size_t size = 0;              // its order
  // Positions (rows of the matrix) with a large component, |v_j| >= 0.1 max |v|, in some null
  // vector v, in increasing order: the parameters a null direction moves.
  std::vector<std::size_t> involved;
  // sqrt(lambda_min / lambda_max) of the scaled matrix: the scaled Jacobian's reciprocal condition
  // number (0 when a diagonal entry is not positive).
  double reciprocal_condition = 0;
  bool deficient() const { return rank < size; }
};

// Ranks the symmetric positive semi-definite matrix H (J^T W J). A zero or negative diagonal
// entry (a parameter without any effect) is a null direction of its own.
RankDeficiency rank_deficiency(const Eigen::MatrixXd& H);

}  // namespace parafit::detail
