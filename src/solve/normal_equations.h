// The row kernel of least squares: one pass over the data accumulating, for the chosen parameter
// columns c, the weighted residual sum of squares, g = J_c^T W r and H = J_c^T W J_c, where
// r = y - f. Everything LM needs from the data comes from here.
//
// Per block of kBlockRows rows the sums are taken in one fused pass over f and J (up to 3 chosen
// columns; more take a few tiled passes over the L1-resident block), 4 lanes per sum, by a SIMD
// kernel written once on Highway and dispatched to the best target of the CPU
// (solve/gram_block.h). Every target, and any thread count, gives the same bits;
// simd::ScopedTarget (simd/target.h) forces one, for tests and benchmarks.
// residual_sum_of_squares gives the same bits as the rss here.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <span>

#include "parafit/context.h"
#include "parafit/problem.h"

namespace parafit::detail {

struct NormalEquations {
  double rss = 0;          // sum_i w_i r_i^2; with a robust loss, sum_i rho(w_i r_i^2)
  Eigen::VectorXd g;       // J^T W r over the chosen columns
  Eigen::MatrixXd H;       // J^T W J over the chosen columns (full symmetric)
};

// Rows per model call inside a chunk: small enough that f and J stay in L1 cache.
inline constexpr std::size_t kBlockRows = 256;

// With a robust loss (problem.loss): the cost sum rho(s_i), and g and H with each row's weight
// w_i rho'(s_i) (iteratively reweighted least squares; loss/robust_rows.h says why), so that -2 g is
// the cost's gradient and 2 H its Gauss-Newton Hessian model, as for least squares.
NormalEquations accumulate_normal_equations(const Problem& problem, const Context& ctx,
                                            std::span<const double> theta,
                                            std::span<const std::size_t> columns);

// sum_i w_i (y_i - f(x_i; theta))^2 only (no Jacobian), whatever the problem's loss.
double residual_sum_of_squares(const Problem& problem, const Context& ctx,
                               std::span<const double> theta);

// The two halves of a robust fit's sandwich covariance A^-1 B A^-1 over the chosen columns:
// A = sum w (rho' + 2 s rho'') J J^T (half the cost's Hessian, Gauss-Newton in f) and
// B = sum w s rho'^2 J J^T (a quarter of the sum of each row's score outer product).
struct RobustCovarianceSums {
  Eigen::MatrixXd A, B;
};
RobustCovarianceSums robust_covariance_sums(const Problem& problem, const Context& ctx,
                                            std::span<const double> theta, std::span<const std::size_t> columns);

}  // namespace parafit::detail
