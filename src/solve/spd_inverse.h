// solve/spd_inverse.h — the inverse of J^T W J (or a Fisher information) for a covariance,
// computed in the scaled variables (unit diagonal), where it is far better conditioned: one
// definition for `fit`'s statistics (stats/fit_statistics.cpp) and the batch solver's standard
// errors (batch/fit_batch.cpp), so a batch fit's standard errors are `fit`'s to the bit.
#pragma once

#include <cstddef>
#include <span>

namespace parafit::detail {

// Doubles of workspace scaled_spd_inverse needs for a k x k matrix.
constexpr std::size_t spd_inverse_work(std::size_t k) { return k * k + 3 * k; }

// inv (k x k, row-major) = A^-1 for the symmetric k x k matrix A (lower triangle read, row-major;
// either storage of a symmetric matrix), as D^-1 (D^-1 A D^-1)^-1 D^-1 with D = sqrt(diag A).
// Returns false (inv unspecified) when A is not numerically positive definite: a diagonal entry
// or a pivot of the scaled matrix that is not positive and finite.
bool scaled_spd_inverse(std::size_t k, const double* A, double* inv, std::span<double> work);

}  // namespace parafit::detail
