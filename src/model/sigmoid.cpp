// logistic4 and gompertz: the S-shaped families.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/family.h"
#include "model/fast_exp.h"
#include "model/self_start.h"

namespace parafit::detail {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The row loops take __restrict pointer parameters because GCC honours restrict only there;
// without it a loop writing f and several J columns needs more run-time alias checks than GCC
// will emit, and stays scalar. Both variants compute f the same way, so that f does not depend
// on whether J is wanted. They are always_inline and called through run_dispatched
// (model/fast_exp.h), which compiles each into a baseline and an AVX2 copy; they use vexp, never
// std::exp, so both copies give the same bits.

// ln(x/c) per row into `l`, -inf at x = 0 and NaN where x/c < 0. std::log is a library call, so
// this loop stays scalar; it is kept apart from the exp loop that follows so that one vectorises.
[[gnu::always_inline]] inline void log_ratio(std::size_t n, double inv_c,
                                             const double* __restrict x, double* __restrict l) {
  for (std::size_t i = 0; i < n; ++i) {
    const double u = x[i] * inv_c;
    l[i] = u > 0.0 ? std::log(u) : (u == 0.0 ? -kInf : kNaN);
  }
}

// (x/c)^b = exp(b*ln(x/c)) from l = ln(x/c). At x = 0, b*l = -+inf gives the right limits once
// clamped; the clamp also keeps q finite so that w and s below never become 0*inf. It is written
// with copysign, like vexp's own: a constant would make GCC split the loop body into branches
// and leave it scalar.
[[gnu::always_inline]] inline double clamped_power(double b, double l) {
  double z = b * l;
  z = std::fabs(z) > 700.0 ? std::copysign(700.0, z) : z;
  return vexp(z);
}

// logistic4 uses f to hold ln(x/c) between its two loops.
[[gnu::always_inline]] inline void logistic4_values(std::size_t n, double a, double b, double c,
                                                    double d, const double* __restrict x,
                                                    double* __restrict f) {
  const double amd = a - d;
  log_ratio(n, 1.0 / c, x, f);
  for (std::size_t i = 0; i < n; ++i) {
    const double q = clamped_power(b, f[i]);
    const double w = 1.0 / (1.0 + q);  // weight of a
    f[i] = d + amd * w;
  }
}

[[gnu::always_inline]] inline void logistic4_rows(std::size_t n, double a, double b, double c,
                                                  double d, const double* __restrict x,
                                                  double* __restrict f, double* __restrict ja,
                                                  double* __restrict jb, double* __restrict jc,
                                                  double* __restrict jd) {
  const double amd = a - d;
  const double inv_c = 1.0 / c;
  const double jc_factor = amd * b * inv_c;
  log_ratio(n, inv_c, x, f);
  for (std::size_t i = 0; i < n; ++i) {
    const double l = f[i];
    const double q = clamped_power(b, l);
    const double w = 1.0 / (1.0 + q);  // weight of a
    const double s = q * w;            // weight of d, = 1 - w without cancellation
    f[i] = d + amd * w;
    const double ws = w * s;  // -dw/dz
    // The b- and c-derivatives vanish as x -> 0 (w*s decays faster than ln x grows); l = -inf
    // exactly where x/c is 0.
    const double l_safe = l == -kInf ? 0.0 : l;
    ja[i] = w;
    jb[i] = -amd * ws * l_safe;
    jc[i] = jc_factor * ws;
    jd[i] = s;
  }
}

[[gnu::always_inline]] inline void gompertz_values(std::size_t n, double a, double b, double c,
                                                   const double* __restrict x,
                                                   double* __restrict f) {
  const double nb = -b;
  const double nc = -c;
  for (std::size_t i = 0; i < n; ++i) f[i] = a * vexp(nb * vexp(nc * x[i]));
}

[[gnu::always_inline]] inline void gompertz_rows(std::size_t n, double a, double b, double c,
                                                 const double* __restrict x, double* __restrict f,
                                                 double* __restrict ja, double* __restrict jb,
                                                 double* __restrict jc) {
  const double nb = -b;
  const double nc = -c;
  const double ab = a * b;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = vexp(nc * x[i]);
    const double h = vexp(nb * g);
    const double gh = g * h;
    f[i] = a * h;
    ja[i] = h;
    jb[i] = -a * gh;
    jc[i] = ab * x[i] * gh;
  }
}

// d + (a - d)/(1 + (x/c)^b): a at x = 0, d as x grows (for b > 0), midpoint at x = c.
class Logistic4 final : public FamilyModel {
 public:
  Logistic4() : FamilyModel("logistic4", "d + (a - d)/(1 + (x/c)^b)", {"a", "b", "c", "d"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      run_dispatched<logistic4_values>(block.size, theta[0], theta[1], theta[2], theta[3],
                                       block.inputs[0], f);
    } else {
      run_dispatched<logistic4_rows>(block.size, theta[0], theta[1], theta[2], theta[3],
                                     block.inputs[0], f, J, J + ldj, J + 2 * ldj, J + 3 * ldj);
    }
  }

  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override;
};

// a*exp(-b*exp(-c*x)): rises from 0 to a with its inflection at x = ln(b)/c.
class Gompertz final : public FamilyModel {
 public:
  Gompertz() : FamilyModel("gompertz", "a*exp(-b*exp(-c*x))", {"a", "b", "c"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      run_dispatched<gompertz_values>(block.size, theta[0], theta[1], theta[2], block.inputs[0],
                                      f);
    } else {
      run_dispatched<gompertz_rows>(block.size, theta[0], theta[1], theta[2], block.inputs[0], f,
                                    J, J + ldj, J + 2 * ldj);
    }
  }

  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override;
};

// The ends of the binned curve give a and d; the logit ln((a - y)/(y - d)) = b*ln x - b*ln c of
// the bins in between gives b and c. Then (ln c, ln b) are searched with (a, d) solved exactly.
std::vector<double> Logistic4::initial_values(std::span<const std::span<const double>> inputs,
                                              std::span<const double> y) const {
  const Sample all = sorted_subsample(name(), single_input(name(), inputs, y), y, 4);
  const Sample s = filter(all, [](double xv, double) { return xv >= 0.0; });
  const Sample pos = filter(s, [](double xv, double) { return xv > 0.0; });
  if (pos.size() < 2) {
    throw_no_start(name(), "it needs rows with x > 0 (it is a curve in ln x)");
  }
  const Sample bins = quantile_bins(s, 20);
  const double a_end = bins.y.front();
  const double d_end = bins.y.back();
  const double lx_lo = std::log(pos.x.front());
  const double lx_hi = std::log(pos.x.back());
  const double median_x = pos.x[pos.size() / 2];
  if (a_end == d_end) return {a_end, 1.0, median_x, d_end};  // flat: any curve will do

  // Widen the ends a little so that bins at the plateaus still have a finite logit.
  const double widen = 0.05 * (a_end - d_end);
  const double a_w = a_end + widen;
  const double d_w = d_end - widen;
  std::vector<double> lx;
  std::vector<double> logit;
  for (std::size_t i = 0; i < bins.size(); ++i) {
    const double ratio = (a_w - bins.y[i]) / (bins.y[i] - d_w);
    if (bins.x[i] > 0.0 && ratio > 0.0 && std::isfinite(ratio)) {
      lx.push_back(std::log(bins.x[i]));
      logit.push_back(std::log(ratio));
    }
  }
  double b0 = 1.0;
  double lc0 = std::log(median_x);
  const double mid_x = first_crossing(bins.x, bins.y, 0.5 * (a_end + d_end));
  if (mid_x > 0.0) lc0 = std::log(mid_x);
  const LineFit line = fit_line(lx, logit);
  if (line.ok && line.slope > 0.0) {
    b0 = line.slope;
    lc0 = finite_or(-line.intercept / line.slope, lc0);
  }

  const std::size_t n = s.size();
  std::vector<double> lxs(n);
  for (std::size_t i = 0; i < n; ++i) {
    lxs[i] = s.x[i] > 0.0 ? std::log(s.x[i]) : -std::numeric_limits<double>::infinity();
  }
  std::vector<double> w(n);
  auto fit_at = [&](double lc, double lb) {
    const double b = std::exp(lb);
    for (std::size_t i = 0; i < n; ++i) {
      const double z = std::clamp(b * (lxs[i] - lc), -700.0, 700.0);
      w[i] = 1.0 / (1.0 + std::exp(z));
    }
    return fit_affine(w, s.y);  // y = (a - d)*w + d
  };
  double lc = std::clamp(lc0, lx_lo - 1.0, lx_hi + 1.0);
  double lb = std::log(b0);
  const double lb0 = lb;
  coordinate_search([&](double p, double q) { return fit_at(p, q).rss; }, lc, lx_lo - 1.0,
                    lx_hi + 1.0, lb, lb0 - 2.5, lb0 + 2.5);
  const LinearFit fit = fit_at(lc, lb);
  if (!std::isfinite(fit.rss)) return {a_end, b0, std::exp(lc0), d_end};
  return {fit.scale + fit.offset, std::exp(lb), std::exp(lc), fit.offset};
}

// a a little beyond the largest binned y, then ln(-ln(y/a)) = ln b - c*x is a line. The search
// then runs over (ln c, inflection point) with a solved exactly; the inflection point keeps
// exp(-c*(x - x_i)) in range where b = exp(c*x_i) itself might not be.
std::vector<double> Gompertz::initial_values(std::span<const std::span<const double>> inputs,
                                             std::span<const double> y) const {
  const Sample s = sorted_subsample(name(), single_input(name(), inputs, y), y, 3);
  const Sample bins = quantile_bins(s, 20);
  const double x_lo = s.x.front();
  const double x_hi = s.x.back();
  const double span = x_hi > x_lo ? x_hi - x_lo : 1.0;

  const double sign = mean(s.y) >= 0.0 ? 1.0 : -1.0;  // a < 0 mirrors the curve
  double top = 0.0;
  for (double v : bins.y) top = std::max(top, sign * v);
  double c0 = 4.0 / span;
  double xi0 = 0.5 * (x_lo + x_hi);
  if (top > 0.0) {
    const double a0 = 1.05 * top;
    std::vector<double> xs;
    std::vector<double> zs;
    for (std::size_t i = 0; i < bins.size(); ++i) {
      const double r = sign * bins.y[i] / a0;
      if (r > 0.0 && r < 1.0) {
        xs.push_back(bins.x[i]);
        zs.push_back(std::log(-std::log(r)));
      }
    }
    const LineFit line = fit_line(xs, zs);
    if (line.ok && line.slope < 0.0) {
      c0 = -line.slope;
      xi0 = line.intercept / c0;  // ln b / c
    }
  }

  const std::size_t n = s.size();
  std::vector<double> h(n);
  auto fit_at = [&](double lc, double xi) {
    const double c = std::exp(lc);
    for (std::size_t i = 0; i < n; ++i) h[i] = std::exp(-std::exp(-c * (s.x[i] - xi)));
    return fit_scale(h, s.y);
  };
  double lc = std::log(c0);
  double xi = std::clamp(xi0, x_lo - span, x_hi + span);
  const double lc0 = lc;
  coordinate_search([&](double p, double q) { return fit_at(p, q).rss; }, lc, lc0 - 2.5,
                    lc0 + 2.5, xi, x_lo - 0.5 * span, x_hi + 0.5 * span);
  const LinearFit fit = fit_at(lc, xi);
  const double c = std::exp(lc);
  const double b = std::exp(c * xi);
  if (!std::isfinite(fit.rss) || !std::isfinite(b)) {
    return {sign * top * 1.05, finite_or(std::exp(c0 * xi0), 1.0), c0};
  }
  return {fit.scale, b, c};
}

}  // namespace

std::unique_ptr<Model> make_logistic4() { return std::make_unique<Logistic4>(); }
std::unique_ptr<Model> make_gompertz() { return std::make_unique<Gompertz>(); }

}  // namespace parafit::detail
