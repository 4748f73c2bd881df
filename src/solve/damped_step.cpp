#include "solve/damped_step.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <type_traits>

#include "solve/small_ldlt.h"

namespace parafit::detail {

namespace {

template <class N>
DampedStep step(N q, const DampedStepInput& in, double* trial, std::span<double> work) {
  double* L = work.data();  // q x q row-major: the scaled matrix, then its unit lower factor
  double* d = L + q * q;    // sqrt(scale2)
  double* inv = d + q;      // 1 / d
  double* piv = inv + q;    // the factor's diagonal
  double* z = piv + q;      // the scaled right side, then the scaled solution
  double* w = z + q;        // row k of the factor times the pivots, then the step
  for (std::size_t a = 0; a < q; ++a) {
    d[a] = std::sqrt(in.scale2[a]);
    inv[a] = 1.0 / d[a];
  }
  // The scaled damped matrix (lower triangle) and right side; a parameter held at a bound is an
  // identity row with a zero right side.
  for (std::size_t a = 0; a < q; ++a) {
    for (std::size_t b = 0; b <= a; ++b) {
      double v;
      if (in.active[a] || in.active[b]) {
        v = a == b ? 1.0 : 0.0;
      } else {
        v = in.H[a * q + b];
        if (a == b) v += in.lambda * in.scale2[a];
        v = inv[a] * v * inv[b];
      }
      L[a * q + b] = v;
    }
    z[a] = in.active[a] ? 0.0 : inv[a] * in.g[a];
  }
  if (!ldlt_in_place(q, L, piv, w)) return {};
  ldlt_solve(q, L, piv, z);

  for (std::size_t a = 0; a < q; ++a)
    if (!std::isfinite(inv[a] * z[a])) return {};
  DampedStep out;
  out.solved = true;
  double* s = w;
  for (std::size_t a = 0; a < q; ++a) {
    trial[a] = std::clamp(in.theta[a] + inv[a] * z[a], in.lower[a], in.upper[a]);
    s[a] = trial[a] - in.theta[a];
  }
  double gs = 0, sHs = 0, step2 = 0, theta2 = 0;
  for (std::size_t a = 0; a < q; ++a) {
    gs += in.g[a] * s[a];
    double Hs = 0;
    for (std::size_t b = 0; b < q; ++b) Hs += in.H[a * q + b] * s[b];
    sHs += s[a] * Hs;
    step2 += (d[a] * s[a]) * (d[a] * s[a]);
    theta2 += (d[a] * in.theta[a]) * (d[a] * in.theta[a]);
  }
  out.predicted = 2.0 * gs - sHs;
  out.scaled_step = std::sqrt(step2);
  out.scaled_theta = std::sqrt(theta2);
  return out;
}

}  // namespace

DampedStep damped_step(const DampedStepInput& in, double* trial, std::span<double> work) {
  assert(work.size() >= damped_step_work(in.q));
  // The batch's usual sizes unrolled: the same operations in the same order as the general loop.
  switch (in.q) {
    case 1: return step(std::integral_constant<std::size_t, 1>{}, in, trial, work);
    case 2: return step(std::integral_constant<std::size_t, 2>{}, in, trial, work);
    case 3: return step(std::integral_constant<std::size_t, 3>{}, in, trial, work);
    case 4: return step(std::integral_constant<std::size_t, 4>{}, in, trial, work);
    case 5: return step(std::integral_constant<std::size_t, 5>{}, in, trial, work);
    case 6: return step(std::integral_constant<std::size_t, 6>{}, in, trial, work);
    default: return step(in.q, in, trial, work);
  }
}

}  // namespace parafit::detail
