#include "solve/spd_inverse.h"

#include <cassert>
#include <cmath>
#include <type_traits>

#include "solve/small_ldlt.h"

namespace parafit::detail {

namespace {

template <class N>
bool invert(N k, const double* A, double* inv, std::span<double> work) {
  double* L = work.data();
  double* s = L + k * k;  // 1 / sqrt(diag A)
  double* piv = s + k;
  double* w = piv + k;
  for (std::size_t a = 0; a < k; ++a) {
    const double h = A[a * k + a];
    if (!(h > 0) || !std::isfinite(h)) return false;
    s[a] = 1.0 / std::sqrt(h);
  }
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = 0; b <= a; ++b) L[a * k + b] = s[a] * A[a * k + b] * s[b];
  if (!ldlt_in_place(k, L, piv, w)) return false;
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (!std::isfinite(L[a * k + b])) return false;
  // Column c of the scaled inverse solves L D L^T x = e_c (ldlt_solve), w holds it. The forward
  // solve leaves the c leading zeros of e_c zero (finite factor, positive pivots), so it starts at
  // c: the same result to the bit, in half the operations.
  for (std::size_t c = 0; c < k; ++c) {
    for (std::size_t a = 0; a < k; ++a) w[a] = a == c ? 1.0 : 0.0;
    for (std::size_t i = c + 1; i < k; ++i)
      for (std::size_t j = c; j < i; ++j) w[i] -= L[i * k + j] * w[j];
    for (std::size_t i = c; i < k; ++i) w[i] /= piv[i];
    for (std::size_t i = k; i-- > 0;)
      for (std::size_t j = i + 1; j < k; ++j) w[i] -= L[j * k + i] * w[j];
    for (std::size_t a = 0; a < k; ++a) inv[a * k + c] = s[a] * w[a] * s[c];
  }
  for (std::size_t i = 0; i < k * k; ++i)
    if (!std::isfinite(inv[i])) return false;
  return true;
}

}  // namespace

bool scaled_spd_inverse(std::size_t k, const double* A, double* inv, std::span<double> work) {
  assert(work.size() >= spd_inverse_work(k));
  switch (k) {  // the batch's usual sizes unrolled: the same operations as the general loop
    case 1: return invert(std::integral_constant<std::size_t, 1>{}, A, inv, work);
    case 2: return invert(std::integral_constant<std::size_t, 2>{}, A, inv, work);
    case 3: return invert(std::integral_constant<std::size_t, 3>{}, A, inv, work);
    case 4: return invert(std::integral_constant<std::size_t, 4>{}, A, inv, work);
    case 5: return invert(std::integral_constant<std::size_t, 5>{}, A, inv, work);
    case 6: return invert(std::integral_constant<std::size_t, 6>{}, A, inv, work);
    default: return invert(k, A, inv, work);
  }
}

}  // namespace parafit::detail
