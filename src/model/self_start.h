// self_start.h — shared machinery for the built-in models' starting values.
//
// Every family works the same way: take a deterministic, evenly spaced subsample of the rows
// (a few thousand are plenty for a start and keep 10M-row data sets fast), sort it by x, smooth
// it into quantile bins, read rough values off the bins with family-specific closed forms, then
// polish the nonlinear parameters by 1-D searches on the subsample while the parameters that
// enter linearly are solved exactly ("variable projection"). The result only has to land in the
// basin of the least-squares solution; the solver does the rest.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parafit::detail {

// Rows with finite x and y, sorted by x (then y).
struct Sample {
  std::vector<double> x;
  std::vector<double> y;
  std::size_t size() const { return x.size(); }
};

inline constexpr std::size_t kMaxSampleRows = 2048;

// Throws parafit::Error "cannot compute starting values for model '<model>': <why>; give them
// with --start".
[[noreturn]] void throw_no_start(std::string_view model, std::string_view why);

// Checks that there is exactly one input with as many rows as y and returns it.
std::span<const double> single_input(std::string_view model,
                                     std::span<const std::span<const double>> inputs,
                                     std::span<const double> y);

// A deterministic evenly spaced subsample of at most `max_rows` finite rows, sorted by x. Throws
// (via throw_no_start) when fewer than `min_rows` finite rows exist.
Sample sorted_subsample(std::string_view model, std::span<const double> x,
                        std::span<const double> y, std::size_t min_rows,
                        std::size_t max_rows = kMaxSampleRows);

// Means of x and y over `bins` consecutive groups of (nearly) equal count of a sorted sample; as
// many bins as rows when the sample is smaller.
Sample quantile_bins(const Sample& sample, std::size_t bins);

// Keeps the rows for which keep(x, y) holds.
template <class Pred>
Sample filter(const Sample& s, Pred keep) {
  Sample out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (keep(s.x[i], s.y[i])) {
      out.x.push_back(s.x[i]);
      out.y.push_back(s.y[i]);
    }
  }
  return out;
}

// Ordinary least-squares line y = intercept + slope*x (centred sums). ok is false with fewer than
// two distinct x or non-finite results.
struct LineFit {
  double intercept = 0.0;
  double slope = 0.0;
  bool ok = false;
};
LineFit fit_line(std::span<const double> x, std::span<const double> y);

// Least squares y = scale*g + offset, and y = scale*g. rss is +inf when g is not finite or
// the fit is degenerate (all g equal for the affine fit, all zero for the scale fit).
struct LinearFit {
  double scale = 0.0;
  double offset = 0.0;
  double rss = std::numeric_limits<double>::infinity();
};
LinearFit fit_affine(std::span<const double> g, std::span<const double> y);

// fit_affine against one y for many g (a self-start's search): y's mean and deviations are taken
// once; each call gives fit_affine(g, y)'s bits.
class AffineFit {
 public:
  explicit AffineFit(std::span<const double> y);
  LinearFit operator()(std::span<const double> g) const;

 private:
  double my_ = 0;
  std::vector<double> dy_;  // y - mean(y)
};
LinearFit fit_scale(std::span<const double> g, std::span<const double> y);

// Minimises f over [lo, hi]: a grid of `grid` points, then golden-section search between the
// neighbours of the best grid point. Non-finite values of f count as +inf. Returns the argmin (lo
// when every value was non-finite) and writes the minimum to *fmin when given.
template <class F>
double minimise_1d(F f, double lo, double hi, int grid = 21, int golden_steps = 30,
                   double* fmin = nullptr);

// Alternating 1-D searches (minimise_1d) of f(p, q) over p in [p_lo, p_hi] and q in [q_lo, q_hi],
// starting from and updating p and q: for two nonlinear parameters whose linear companions f
// solves exactly.
template <class F>
void coordinate_search(F f, double& p, double p_lo, double p_hi, double& q, double q_lo,
                       double q_hi, int rounds = 2);

// x at which the piecewise-linear curve through (x[i], y[i]) first crosses `level`; NaN if never.
double first_crossing(std::span<const double> x, std::span<const double> y, double level);

double mean(std::span<const double> v);

// Minimises f(rho) over rates rho = +-exp(u), u in [ln lo, ln hi] (negative rates only when
// allowed). Rates are searched on a log scale because their plausible range spans decades.
template <class F>
double minimise_rate(F f, double lo, double hi, bool allow_negative);

// Replaces a non-finite value by a fallback.
inline double finite_or(double v, double fallback) {
  return v - v == 0.0 ? v : fallback;  // false for NaN and +-inf
}

// --- template implementation ---

template <class F>
double minimise_1d(F f, double lo, double hi, int grid, int golden_steps, double* fmin) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  auto eval = [&f](double t) {
    const double v = f(t);
    // (Not kInf: clang 14 refuses that use of a constexpr local inside a template's lambda.)
    return v == v ? v : std::numeric_limits<double>::infinity();  // NaN -> +inf
  };
  if (grid < 2) grid = 2;
  const double step = (hi - lo) / (grid - 1);
  double best_t = lo;
  double best_v = kInf;
  int best_i = 0;
  for (int i = 0; i < grid; ++i) {
    const double t = lo + step * i;
    const double v = eval(t);
    if (v < best_v) {
      best_v = v;
      best_t = t;
      best_i = i;
    }
  }
  if (best_v == kInf) {
    if (fmin) *fmin = kInf;
    return lo;
  }
  // Golden section on the bracket around the best grid point.
  double a = lo + step * (best_i > 0 ? best_i - 1 : 0);
  double b = lo + step * (best_i < grid - 1 ? best_i + 1 : grid - 1);
  constexpr double kInvPhi = 0.6180339887498949;
  double c = b - kInvPhi * (b - a);
  double d = a + kInvPhi * (b - a);
  double fc = eval(c);
  double fd = eval(d);
  for (int k = 0; k < golden_steps; ++k) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - kInvPhi * (b - a);
      fc = eval(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + kInvPhi * (b - a);
      fd = eval(d);
    }
  }
  const double t = fc < fd ? c : d;
  const double v = fc < fd ? fc : fd;
  if (v < best_v) {
    best_v = v;
    best_t = t;
  }
  if (fmin) *fmin = best_v;
  return best_t;
}

template <class F>
double minimise_rate(F f, double lo, double hi, bool allow_negative) {
  double f_pos = std::numeric_limits<double>::infinity();
  const double u_pos = minimise_1d([&f](double u) { return f(std::exp(u)); }, std::log(lo),
                                   std::log(hi), 21, 30, &f_pos);
  double best = std::exp(u_pos);
  if (allow_negative) {
    double f_neg = std::numeric_limits<double>::infinity();
    const double u_neg = minimise_1d([&f](double u) { return f(-std::exp(u)); }, std::log(lo),
                                     std::log(hi), 21, 30, &f_neg);
    if (f_neg < f_pos) best = -std::exp(u_neg);
  }
  return best;
}

template <class F>
void coordinate_search(F f, double& p, double p_lo, double p_hi, double& q, double q_lo,
                       double q_hi, int rounds) {
  // A move is taken only if it improves on the current point, which may lie off the grids.
  double current = f(p, q);
  if (current != current) current = std::numeric_limits<double>::infinity();
  for (int r = 0; r < rounds; ++r) {
    double best = current;
    const double p_new = minimise_1d([&](double v) { return f(v, q); }, p_lo, p_hi, 21, 30, &best);
    if (best < current) {
      p = p_new;
      current = best;
    }
    const double q_new = minimise_1d([&](double v) { return f(p, v); }, q_lo, q_hi, 21, 30, &best);
    if (best < current) {
      q = q_new;
      current = best;
    }
  }
}

}  // namespace parafit::detail
