#include "solve/lbfgs_line_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace parafit::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Extrapolation while the slope is still steeply negative: the next trial lies between 1.1 and 4
// times the last increase beyond the current one (the bounds Moré & Thuente use).
constexpr double kMinExtrapolation = 1.1;
constexpr double kMaxExtrapolation = 4.0;
// Interpolated trials keep this fraction of the bracket's width from either end, so the bracket
// shrinks by at least that much per evaluation.
constexpr double kBracketMargin = 0.1;
// Towards the last finite point: the factor applied to the distance to a non-finite trial.
constexpr double kNonFiniteShrink = 0.5;

}  // namespace

double fixed_order_dot(std::span<const double> a, std::span<const double> b) {
  const std::size_t n = a.size();
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

double cubic_minimizer(double a, double fa, double ga, double b, double fb, double gb) {
  const double d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
  const double s = std::max({std::abs(d1), std::abs(ga), std::abs(gb)});
  if (!(s > 0) || !std::isfinite(s)) return kNaN;
  const double disc = (d1 / s) * (d1 / s) - (ga / s) * (gb / s);
  if (!(disc >= 0)) return kNaN;
  const double d2 = std::copysign(s * std::sqrt(disc), b - a);
  const double denominator = gb - ga + 2.0 * d2;
  if (!(denominator != 0)) return kNaN;
  const double c = b - (b - a) * (gb + d2 - d1) / denominator;
  return std::isfinite(c) ? c : kNaN;
}

double quadratic_minimizer(double a, double fa, double ga, double b, double fb) {
  const double h = b - a;
  const double denominator = 2.0 * (fb - fa - ga * h);
  if (!(denominator > 0)) return kNaN;
  const double c = a - ga * h * h / denominator;
  return std::isfinite(c) ? c : kNaN;
}

StrongWolfeLineSearch::StrongWolfeLineSearch(const Objective& f, std::size_t n,
                                             const LbfgsOptions& options)
    : f_(f), options_(options), x_trial_(n), g_trial_(n), x_best_(n), g_best_(n) {}

StrongWolfeLineSearch::Trial StrongWolfeLineSearch::Evaluate(double alpha) {
  const std::size_t n = x_trial_.size();
  for (std::size_t i = 0; i < n; ++i) x_trial_[i] = x_[i] + alpha * d_[i];
  Trial t;
  t.alpha = alpha;
  t.cost = f_(std::span<const double>(x_trial_), std::span<double>(g_trial_));
  ++evaluations_;
  // A NaN or infinite gradient component makes the slope NaN or infinite (0 * inf is NaN).
  t.slope = fixed_order_dot(g_trial_, d_);
  t.finite = std::isfinite(t.cost) && std::isfinite(t.slope);
  return t;
}

void StrongWolfeLineSearch::KeepTrial() {
  std::swap(x_trial_, x_best_);
  std::swap(g_trial_, g_best_);
}

LineSearchResult StrongWolfeLineSearch::Accept(const Trial& t, bool wolfe) const {
  LineSearchResult r;
  r.found = true;
  r.wolfe = wolfe;
  r.alpha = t.alpha;
  r.cost = t.cost;
  r.evaluations = evaluations_;
  return r;
}

LineSearchResult StrongWolfeLineSearch::Search(std::span<const double> x, double f0,
                                               std::span<const double> d, double slope0,
                                               double alpha0) {
  x_ = x;
  d_ = d;
  f0_ = f0;
  slope0_ = slope0;
  evaluations_ = 0;
  const double c1 = options_.sufficient_decrease;
  const double c2 = options_.curvature;

  // Bracketing (N&W Algorithm 3.5): step out until the cost rises, stops decreasing enough, or
  // the slope turns non-negative; each of these brackets a strong Wolfe step with `prev`.
  Trial prev{0.0, f0, slope0, true};
  double alpha = alpha0;
  while (evaluations_ < options_.max_line_search_evaluations) {
    const Trial t = Evaluate(alpha);
    if (!t.finite || t.cost > f0 + c1 * alpha * slope0 || (prev.alpha > 0 && t.cost >= prev.cost))
      return Zoom(prev, t);
    KeepTrial();  // t has sufficient decrease and is the lowest point so far
    if (std::abs(t.slope) <= -c2 * slope0) return Accept(t, true);
    if (t.slope >= 0) return Zoom(t, prev);
    // Still descending steeply: extrapolate with the cubic through prev and t, safeguarded.
    const double step = alpha - prev.alpha;
    const double lower = alpha + kMinExtrapolation * step;
    const double upper = alpha + kMaxExtrapolation * step;
    double next = cubic_minimizer(prev.alpha, prev.cost, prev.slope, alpha, t.cost, t.slope);
    if (!(next > alpha)) next = upper;
    prev = t;
    alpha = std::clamp(next, lower, upper);
  }
  // Out of evaluations while stepping out: prev is the best point, with sufficient decrease.
  if (prev.alpha > 0) return Accept(prev, false);
  LineSearchResult failed;
  failed.evaluations = evaluations_;
  return failed;
}

// N&W Algorithm 3.6. Invariants: lo has sufficient decrease and the lowest cost of all trials
// with sufficient decrease (its point is in x_best_/g_best_, unless lo.alpha == 0: the start);
// hi is a trial that either fails sufficient decrease / is not finite, or lies beyond a point
// where the slope changed sign; the bracket between them holds a strong Wolfe step.
LineSearchResult StrongWolfeLineSearch::Zoom(Trial lo, Trial hi) {
  const double c1 = options_.sufficient_decrease;
  const double c2 = options_.curvature;
  while (evaluations_ < options_.max_line_search_evaluations) {
    const double left = std::min(lo.alpha, hi.alpha);
    const double right = std::max(lo.alpha, hi.alpha);
    const double width = right - left;
    double alpha;
    if (hi.finite) {
      alpha = cubic_minimizer(lo.alpha, lo.cost, lo.slope, hi.alpha, hi.cost, hi.slope);
      if (std::isnan(alpha)) alpha = quadratic_minimizer(lo.alpha, lo.cost, lo.slope, hi.alpha, hi.cost);
      if (std::isnan(alpha)) alpha = left + 0.5 * width;
      alpha = std::clamp(alpha, left + kBracketMargin * width, right - kBracketMargin * width);
    } else {
      alpha = lo.alpha + kNonFiniteShrink * (hi.alpha - lo.alpha);
    }
    if (!(alpha > left && alpha < right)) break;  // the bracket has shrunk to rounding
    const Trial t = Evaluate(alpha);
    if (!t.finite || t.cost > f0_ + c1 * alpha * slope0_ || t.cost >= lo.cost) {
      hi = t;
      continue;
    }
    KeepTrial();
    if (std::abs(t.slope) <= -c2 * slope0_) return Accept(t, true);
    if (t.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
    lo = t;
  }
  if (lo.alpha > 0) return Accept(lo, false);
  LineSearchResult failed;
  failed.evaluations = evaluations_;
  return failed;
}

}  // namespace parafit::detail
