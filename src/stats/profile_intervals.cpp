#include "stats/profile_intervals.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "parafit/communicator.h"
#include "parafit/error.h"
#include "stats/student_t.h"

namespace parafit::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// The profile is followed out to this many standard errors before an end is declared missing.
constexpr double kMaxStandardErrors = 50.0;
constexpr int kMaxRefinements = 60;

// One parameter's profile: tau(b) by refitting the others with it held at b.
class Profile {
 public:
  Profile(const Dataset& data, const FitResult& fit, const Context& context, std::size_t j)
      : data_(data), fit_(fit), context_(context), j_(j), start_(fit.summary.parameters) {}

  // tau(b), or nothing when the refit fails (does not converge, is singular, or b is refused).
  std::optional<double> tau(double b) {
    const auto& names = fit_.model->parameter_names();
    FitSpec spec = fit_.spec;
    spec.profile_intervals = false;
    spec.solver.on_iteration = nullptr;
    spec.fix.emplace_back(names[j_], b);
    spec.start.clear();
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (k == j_) continue;
      const bool fixed = std::any_of(fit_.spec.fix.begin(), fit_.spec.fix.end(),
                                     [&](const auto& f) { return f.first == names[k]; });
      if (!fixed) spec.start.emplace_back(names[k], start_[k]);
    }
    FitResult r;
    try {
      r = fit(data_, spec, context_);
    } catch (const RankFailed&) {
      throw;  // a rank has gone: nothing to profile with
    } catch (const Error&) {
      return std::nullopt;  // a refused value (on every rank alike: fit agrees on its errors)
    }
    if (!r.summary.IsSolutionUsable()) return std::nullopt;
    start_ = r.summary.parameters;
    const FitStatistics& st = fit_.statistics;
    const double rise = std::max(0.0, r.statistics.rss - st.rss);
    const double sign = b < fit_.summary.parameters[j_] ? -1.0 : 1.0;
    return sign * std::sqrt(rise) / st.sigma;
  }

 private:
  const Dataset& data_;
  const FitResult& fit_;
  const Context& context_;
  std::size_t j_;
  std::vector<double> start_;  // the last point of the trace: the next refit's start
};

// The end of parameter j's interval on one side (-1: lower, +1: upper), where tau = side * t.
double profile_end(const Dataset& data, const FitResult& fit, const Context& context, std::size_t j, double side,
                   double t) {
  const ParameterEstimate& pe = fit.statistics.parameters[j];
  const double est = pe.estimate, se = pe.std_error;
  ParameterBounds box;
  for (const auto& [name, b] : fit.spec.bounds)
    if (name == pe.name) box = b;
  Profile profile(data, fit, context, j);
  const double target = side * t;
  // Bracket: out from the estimate, from the Wald end doubling, until tau passes the target.
  double inner = est, h_inner = -target, outer = kNaN, h_outer = kNaN;
  for (double step = t * se; step <= kMaxStandardErrors * se; step *= 2.0) {
    double b = est + side * step;
    const bool clamped = b < box.lower || b > box.upper;
    b = std::clamp(b, box.lower, box.upper);
    const std::optional<double> tau = profile.tau(b);
    if (!tau) return kNaN;
    if (side * *tau >= t) {
      outer = b;
      h_outer = *tau - target;
      break;
    }
    inner = b;
    h_inner = *tau - target;
    if (clamped) return kNaN;  // the profile reaches a bound first
  }
  if (std::isnan(outer)) return kNaN;  // it levels off
  // Illinois regula falsi on h(b) = tau(b) - target, which changes sign between inner and outer.
  double a = inner, fa = h_inner, b = outer, fb = h_outer;
  for (int it = 0; it < kMaxRefinements; ++it) {
    const double c = b - fb * (b - a) / (fb - fa);
    const std::optional<double> tau = profile.tau(c);
    if (!tau) return kNaN;
    const double fc = *tau - target;
    if (std::abs(fc) <= 1e-10 || std::abs(b - a) <= 1e-12 * (std::abs(est) + se)) return c;
    if ((fc < 0) != (fb < 0)) {
      a = b;
      fa = fb;
    } else {
      fa /= 2.0;
    }
    b = c;
    fb = fc;
  }
  return b;
}

}  // namespace

std::vector<ProfileInterval> profile_intervals(const Dataset& data, const FitResult& fit, const Context& context,
                                               double level) {
  const FitStatistics& st = fit.statistics;
  const double t = student_t_quantile(0.5 + level / 2.0, st.df);
  std::vector<ProfileInterval> out(st.parameters.size(), ProfileInterval{kNaN, kNaN});
  for (std::size_t j = 0; j < st.parameters.size(); ++j) {
    const ParameterEstimate& pe = st.parameters[j];
    if (pe.fixed || pe.at_bound || !std::isfinite(pe.std_error) || !(pe.std_error > 0)) continue;
    out[j].lower = profile_end(data, fit, context, j, -1.0, t);
    out[j].upper = profile_end(data, fit, context, j, +1.0, t);
  }
  return out;
}

}  // namespace parafit::detail
