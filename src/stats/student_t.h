// Student's t distribution, through the regularized incomplete beta function of Eigen.
#pragma once

namespace parafit::detail {

// P(|T| > |t|) for T ~ t(df): the two-sided p value of a t statistic.
double student_t_two_sided_p(double t, double df);
// The t value with P(T <= t) = prob, for prob in (0.5, 1).
double student_t_quantile(double prob, double df);

}  // namespace parafit::detail
