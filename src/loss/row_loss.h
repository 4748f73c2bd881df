// loss/row_loss.h — a training objective's loss per row: rho(r^2) and the row's output delta.
//
// Training minimises L = sum rho(r_i^2) (r = f - y, unit weights) and its kernels return the
// gradient of L/2, as they do for squared error (rho(s) = s): d(rho(r^2)/2)/df = rho'(r^2) r, so
// a robust loss changes only the output delta, r -> rho'(r^2) r, and what is summed into L.
#pragma once

#include "parafit/loss.h"

namespace parafit::detail {

// Folds rho(r^2) onto `sum` and returns the output delta rho'(r^2) r.
inline double robust_row(const Loss& loss, double r, double& sum) {
  const LossValue v = evaluate_loss(loss, r * r);
  sum = sum + v.rho;
  return v.d1 * r;
}

// The loss in the units of a response standardised as (y - mean) / y_scale (an MLP's): its scale
// divided by y_scale, so that rho_std(r_std^2) * y_scale^2 = rho(r^2) and a row counts as an
// outlier beyond the same residual in the response's units.
inline Loss standardised_loss(const Loss& loss, double y_scale) {
  Loss out = loss;
  out.delta = loss.delta / y_scale;
  return out;
}

}  // namespace parafit::detail
