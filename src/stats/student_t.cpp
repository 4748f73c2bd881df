#include "stats/student_t.h"

#include <cmath>
#include <limits>
#include <unsupported/Eigen/SpecialFunctions>

namespace parafit::detail {

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2).
  Eigen::Array<double, 1, 1> a, b, x;
  a << df / 2.0;
  b << 0.5;
  x << df / (df + t * t);
  return Eigen::betainc(a, b, x)(0);
}

double student_t_quantile(double prob, double df) {
  if (!(prob > 0.5 && prob < 1.0) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double tail = 2.0 * (1.0 - prob);  // two-sided tail probability to match
  // The two-sided p value falls monotonically in t: bisect on [0, hi].
  double lo = 0.0, hi = 1.0;
  while (student_t_two_sided_p(hi, df) > tail) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_two_sided_p(mid, df) > tail ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace parafit::detail
