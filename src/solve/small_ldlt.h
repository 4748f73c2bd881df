// solve/small_ldlt.h — LDL^T of a small symmetric positive definite matrix without pivoting, and
// its solves, written out with fixed loop orders: the LM step (solve/damped_step.cpp) and the
// covariance (solve/spd_inverse.cpp) of `fit` and of the batch solver use these, so the two give
// the same bits whatever matrix types their callers hold, and a batch fit pays no decomposition
// set-up for its 2 to 6 parameters. Without pivoting the factorisation is stable for positive
// definite matrices; a pivot that is not positive and finite says the matrix is not (numerically)
// positive definite.
#pragma once

#include <cmath>
#include <cstddef>

namespace parafit::detail {

// N is std::size_t, or std::integral_constant<std::size_t, n> for a size known when compiling
// (the same operations in the same order, unrolled).

// Factors the n x n row-major matrix in L (lower triangle read) in place: its strictly lower
// triangle becomes the unit lower factor, piv the diagonal. w: n doubles of workspace. Returns
// false at a pivot that is not positive and finite.
template <class N>
inline bool ldlt_in_place(N n, double* L, double* piv, double* w) {
  for (std::size_t k = 0; k < n; ++k) {
    double dk = L[k * n + k];
    for (std::size_t j = 0; j < k; ++j) {
      w[j] = L[k * n + j] * piv[j];
      dk -= L[k * n + j] * w[j];
    }
    if (!(dk > 0) || !std::isfinite(dk)) return false;
    piv[k] = dk;
    for (std::size_t i = k + 1; i < n; ++i) {
      double v = L[i * n + k];
      for (std::size_t j = 0; j < k; ++j) v -= L[i * n + j] * w[j];
      L[i * n + k] = v / dk;
    }
  }
  return true;
}

// Solves L D L^T x = z in place (z becomes x) with ldlt_in_place's factor.
template <class N>
inline void ldlt_solve(N n, const double* L, const double* piv, double* z) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j) z[i] -= L[i * n + j] * z[j];
  for (std::size_t i = 0; i < n; ++i) z[i] /= piv[i];
  for (std::size_t i = n; i-- > 0;)
    for (std::size_t j = i + 1; j < n; ++j) z[i] -= L[j * n + i] * z[j];
}

}  // namespace parafit::detail
