// solve/lm_rules.h — the constants of Levenberg-Marquardt's verdicts, shared by `fit`
// (solve/levenberg_marquardt.cpp, solve/fit.cpp) and the batch solver (batch/small_lm.cpp,
// batch/fit_batch.cpp), so that a batch fit reaches `fit`'s verdicts.
#pragma once

#include <algorithm>
#include <cmath>

namespace parafit::detail {

// A parameter whose effect on the fitted values, relative to the root RSS, is below this has
// none (the flat-region verdict).
inline constexpr double kNegligibleEffect = 1e-6;

// A convergence rule (a tiny step, a tiny decrease) can fire where the residual still points along
// a Jacobian column: at the edge of the model's domain, where every step down leaves it (c +
// sqrt(a*x) with a driven to 0). At a least-squares minimum every gradient cosine is 0 up to
// rounding (NIST's 54 fits: at most 5.4e-8, and 8.8e-4 for the zero-residual Lanczos1). A fit
// that explains all but 1e-12 of the variance is exempt: its residuals are rounding, and so are
// their cosines (noise-free data give 0.3 to 0.98).
inline constexpr double kFalseMinimumCosine = 1e-2;
inline constexpr double kPerfectFitFraction = 1e-12;

// What an analyst does when a fit stalls or wanders off: start again from the same values with
// much heavier damping (these initial dampings, the maximal damping at least 1000 times each), so
// the first steps stay short and cannot jump onto a plateau.
inline constexpr double kRestartDamping[] = {1e3, 1e6};

// The damping after a trial step: Nielsen's update when it was taken (shrink smoothly with the
// step's quality rho), doubling growth when it was not. One definition for every LM here, so
// they damp alike to the bit.
inline void update_damping(bool accepted, double rho, double& lambda, double& nu) {
  if (accepted) {
    lambda *= std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3));
    nu = 2.0;
  } else {
    lambda *= nu;
    nu *= 2.0;
  }
}

}  // namespace parafit::detail
