// parafit/diagnostics.h — per-row diagnostics of a fit: fitted values, residuals, standardised
// residuals and leverages (`parafit fit --residuals FILE`).
#pragma once

#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/fit.h"

namespace parafit {

// One entry per row of `data` (under MPI: this rank's rows, the shard the fit ran on):
//   response      y_i, the response the fit used (a formula's left side evaluated)
//   fitted        f(x_i; theta)
//   residual      r_i = y_i - f (y the response the fit used: a formula's left side evaluated)
//   standardized  sqrt(w_i) r_i / (sigma sqrt(1 - h_i)), R's rstandard (NaN where w_i = 0)
//   leverage      h_i = w_i J_i^T (J^T W J)^-1 J_i over the estimated parameters (free, off their
//                 bounds): the hat matrix's diagonal at the estimates, summing to their number
// J^T W J is taken at the estimates without the loss (a robust fit's leverages are least
// squares' at its estimates).
struct RowDiagnostics {
  // False (and the vectors empty) when J^T W J is rank-deficient at the estimates: no leverages.
  // The same on every rank (J^T W J is global).
  bool available = false;
  std::vector<double> response, fitted, residual, standardized, leverage;
};

RowDiagnostics row_diagnostics(const Dataset& data, const FitResult& fit, const Context& context = {});

}  // namespace parafit
