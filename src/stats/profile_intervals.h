// stats/profile_intervals.h — profile-likelihood intervals of a least-squares fit, as R's confint
// gives them for an nls fit (MASS's profile.nls and confint.profile.nls).
//
// For parameter j the profile t statistic is tau(b) = sign(b - est_j) sqrt(S(b) - S_min) / s, where
// S(b) is the RSS minimised over the other parameters with parameter j held at b, S_min the fit's
// RSS and s its residual standard error (so tau^2 is the F statistic of the hypothesis est_j = b).
// The interval at level L is where tau crosses -t and +t, t = qt((1 + L) / 2, df). R profiles on a
// grid and interpolates a spline through it; here each end is found by root-finding on tau itself
// (bracketed from the Wald end outwards, then Illinois regula falsi to 1e-10 of the standard error),
// each tau(b) a full refit warm-started from the last point of the trace.
#pragma once

#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/fit.h"

namespace parafit::detail {

struct ProfileInterval {
  double lower, upper;  // NaN where the profile does not cross within 50 standard errors, or its refits fail
};

// One per parameter of `fit` (NaN for parameters not estimated); `fit` must be a converged
// least-squares fit of `data` (the same rows, on every rank of context's communicator).
std::vector<ProfileInterval> profile_intervals(const Dataset& data, const FitResult& fit, const Context& context,
                                               double level);

}  // namespace parafit::detail
