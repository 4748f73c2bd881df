// logistic4 and gompertz: the S-shaped families.
//
// The exp row loops are written once on Highway (per-target code below, compiled for each target
// by hwy/foreach_target.h and dispatched at run time) with simd's Exp, which has exp_scalar's
// bits: every target gives the same f and J, the bits of the scalar formulas written in the
// comments, operation for operation (Mul then Add, never fused). f is computed the same way with
// and without J, so that it does not depend on whether J is wanted.
#include <cstddef>
#include <limits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/sigmoid.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "model/family_ops-inl.h"
#include "simd/exp-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::Exp;
using simd::HWY_NAMESPACE::ForEachVector;

// f holds l = ln(x/c) on entry. q as above, w = 1/(1 + q); f = d + (a - d)*w
void Logistic4Values(std::size_t n, double b, double amd, double dd, double* f) {
  const hn::ScalableTag<double> d;
  const auto vb = hn::Set(d, b), vamd = hn::Set(d, amd), vd = hn::Set(d, dd);
  const auto one = hn::Set(d, 1.0);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto q = ClampedPower(d, vb, load(f));
    const auto w = hn::Div(one, hn::Add(one, q));  // weight of a
    store(f, hn::Add(vd, hn::Mul(vamd, w)));
  });
}

// f holds l = ln(x/c) on entry. q and w as above, s = q*w, ws = w*s;
// f = d + (a - d)*w; J = (w, (-(a - d)*ws)*l0, jc_factor*ws, s), l0 = 0 where l = -inf
void Logistic4Rows(std::size_t n, double b, double amd, double dd, double jc_factor, double* f,
                   double* ja, double* jb, double* jc, double* jd) {
  const hn::ScalableTag<double> d;
  const auto vb = hn::Set(d, b), vamd = hn::Set(d, amd), vd = hn::Set(d, dd);
  const auto vnamd = hn::Set(d, -amd), vjc = hn::Set(d, jc_factor);
  const auto one = hn::Set(d, 1.0), zero = hn::Zero(d);
  const auto minus_inf = hn::Set(d, -std::numeric_limits<double>::infinity());
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto l = load(f);
    const auto q = ClampedPower(d, vb, l);
    const auto w = hn::Div(one, hn::Add(one, q));  // weight of a
    const auto s = hn::Mul(q, w);                  // weight of d, = 1 - w without cancellation
    store(f, hn::Add(vd, hn::Mul(vamd, w)));
    const auto ws = hn::Mul(w, s);  // -dw/dz
    // The b- and c-derivatives vanish as x -> 0 (w*s decays faster than ln x grows); l = -inf
    // exactly where x/c is 0.
    const auto l_safe = hn::IfThenElse(hn::Eq(l, minus_inf), zero, l);
    store(ja, w);
    store(jb, hn::Mul(hn::Mul(vnamd, ws), l_safe));
    store(jc, hn::Mul(vjc, ws));
    store(jd, s);
  });
}

// f = a*exp(-b*exp(-c*x))
void GompertzValues(std::size_t n, double a, double b, double c, const double* x, double* f) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vnb = hn::Set(d, -b), vnc = hn::Set(d, -c);
  ForEachVector(d, n, [&](auto load, auto store) {
    store(f, hn::Mul(va, Exp(d, hn::Mul(vnb, Exp(d, hn::Mul(vnc, load(x)))))));
  });
}

// g = exp(-c*x), h = exp(-b*g), gh = g*h; f = a*h; J = (h, -a*gh, (a*b*x)*gh)
void GompertzRows(std::size_t n, double a, double b, double c, const double* x, double* f,
                  double* ja, double* jb, double* jc) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vnb = hn::Set(d, -b), vnc = hn::Set(d, -c);
  const auto vna = hn::Set(d, -a), vab = hn::Set(d, a * b);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    const auto g = Exp(d, hn::Mul(vnc, xv));
    const auto h = Exp(d, hn::Mul(vnb, g));
    const auto gh = hn::Mul(g, h);
    store(f, hn::Mul(va, h));
    store(ja, h);
    store(jb, hn::Mul(vna, gh));
    store(jc, hn::Mul(hn::Mul(vab, xv), gh));
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/family.h"
#include "model/self_start.h"
#include "simd/array_ops.h"

namespace parafit::detail {

HWY_EXPORT(Logistic4Values);
HWY_EXPORT(Logistic4Rows);
HWY_EXPORT(GompertzValues);
HWY_EXPORT(GompertzRows);

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ln(x/c) per row into `l`, -inf at x = 0 and NaN where x/c < 0. std::log is a library call (its
// bits are glibc's), so this loop is scalar on every target, and kept apart from the exp loop.
void log_ratio(std::size_t n, double inv_c, const double* __restrict x, double* __restrict l) {
  for (std::size_t i = 0; i < n; ++i) {
    const double u = x[i] * inv_c;
    l[i] = u > 0.0 ? std::log(u) : (u == 0.0 ? -kInf : kNaN);
  }
}

// d + (a - d)/(1 + (x/c)^b): a at x = 0, d as x grows (for b > 0), midpoint at x = c.
class Logistic4 final : public FamilyModel {
 public:
  Logistic4() : FamilyModel("logistic4", "d + (a - d)/(1 + (x/c)^b)", {"a", "b", "c", "d"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    const double a = theta[0], b = theta[1], c = theta[2], d = theta[3];
    const double amd = a - d;
    const double inv_c = 1.0 / c;
    log_ratio(block.size, inv_c, block.inputs[0], f);  // f holds ln(x/c) until the exp loop
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(Logistic4Values)(block.size, b, amd, d, f);
    } else {
      HWY_DYNAMIC_DISPATCH(Logistic4Rows)(block.size, b, amd, d, amd * b * inv_c, f, J, J + ldj,
                                          J + 2 * ldj, J + 3 * ldj);
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
      HWY_DYNAMIC_DISPATCH(GompertzValues)(block.size, theta[0], theta[1], theta[2],
                                           block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(GompertzRows)(block.size, theta[0], theta[1], theta[2], block.inputs[0],
                                         f, J, J + ldj, J + 2 * ldj);
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
  const AffineFit affine(s.y);
  // About 200 evaluations: the exponentials in SIMD lanes (simd/array_ops.h).
  auto fit_at = [&](double lc, double lb) {
    const double b = std::exp(lb);
    for (std::size_t i = 0; i < n; ++i) w[i] = std::clamp(b * (lxs[i] - lc), -700.0, 700.0);
    simd::exp_array(n, w.data());
    for (std::size_t i = 0; i < n; ++i) w[i] = 1.0 / (1.0 + w[i]);
    return affine(w);  // y = (a - d)*w + d
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
  // About 200 evaluations: the exponentials in SIMD lanes (simd/array_ops.h).
  auto fit_at = [&](double lc, double xi) {
    const double c = std::exp(lc);
    for (std::size_t i = 0; i < n; ++i) h[i] = -c * (s.x[i] - xi);
    simd::exp_array(n, h.data());
    for (std::size_t i = 0; i < n; ++i) h[i] = -h[i];
    simd::exp_array(n, h.data());
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
#endif  // HWY_ONCE
