// gauss: a*exp(-(x - mu)^2/(2*s^2)) + c, a peak on a baseline.
//
// The row loops are written once on Highway (per-target code below, compiled for each target by
// hwy/foreach_target.h and dispatched at run time) with simd's Exp, which has exp_scalar's bits:
// every target gives the same f and J, the bits of the scalar formulas written in the comments,
// operation for operation (Mul then Add, never fused). f is computed the same way with and
// without J, so that it does not depend on whether J is wanted.
#include <cstddef>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/gauss.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/exp-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::Exp;
using simd::HWY_NAMESPACE::ForEachVector;

// z = (x - mu)*inv_s; f = a*exp((-0.5*z)*z) + c
void GaussValues(std::size_t n, double a, double mu, double inv_s, double c, const double* x,
                 double* f) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vmu = hn::Set(d, mu), vinv_s = hn::Set(d, inv_s);
  const auto vc = hn::Set(d, c), half = hn::Set(d, -0.5);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto z = hn::Mul(hn::Sub(load(x), vmu), vinv_s);
    store(f, hn::Add(hn::Mul(va, Exp(d, hn::Mul(hn::Mul(half, z), z))), vc));
  });
}

// z and e = exp((-0.5*z)*z) as above, t = (a_inv_s*e)*z; f = a*e + c; J = (e, t, t*z, 1)
void GaussRows(std::size_t n, double a, double mu, double inv_s, double c, const double* x,
               double* f, double* ja, double* jmu, double* js, double* jc) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vmu = hn::Set(d, mu), vinv_s = hn::Set(d, inv_s);
  const auto vc = hn::Set(d, c), half = hn::Set(d, -0.5), one = hn::Set(d, 1.0);
  const auto va_inv_s = hn::Set(d, a * inv_s);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto z = hn::Mul(hn::Sub(load(x), vmu), vinv_s);
    const auto e = Exp(d, hn::Mul(hn::Mul(half, z), z));
    const auto t = hn::Mul(hn::Mul(va_inv_s, e), z);  // a*e*(x - mu)/s^2
    store(f, hn::Add(hn::Mul(va, e), vc));
    store(ja, e);
    store(jmu, t);
    store(js, hn::Mul(t, z));
    store(jc, one);
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "model/family.h"
#include "model/self_start.h"
#include "simd/array_ops.h"

namespace parafit::detail {

HWY_EXPORT(GaussValues);
HWY_EXPORT(GaussRows);

namespace {

class Gauss final : public FamilyModel {
 public:
  Gauss() : FamilyModel("gauss", "a*exp(-(x - mu)^2/(2*s^2)) + c", {"a", "mu", "s", "c"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    const double inv_s = 1.0 / theta[2];
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(GaussValues)(block.size, theta[0], theta[1], inv_s, theta[3],
                                        block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(GaussRows)(block.size, theta[0], theta[1], inv_s, theta[3],
                                      block.inputs[0], f, J, J + ldj, J + 2 * ldj, J + 3 * ldj);
    }
  }

  // Baseline from the tails of the binned curve, the peak where the bins depart most from it,
  // the width from the area under the peak (a*s*sqrt(2*pi)) — binning smears the height but not
  // the area — or the half-width if the area is unusable. Then (mu, ln s) are searched on the
  // unbinned subsample with (a, c) solved exactly, which also undoes the smearing.
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = sorted_subsample(name(), single_input(name(), inputs, y), y, 4);
    const double x_lo = s.x.front();
    const double x_hi = s.x.back();
    const double span = x_hi > x_lo ? x_hi - x_lo : 1.0;
    const Sample bins = quantile_bins(s, 30);
    const std::size_t nb = bins.size();

    const std::size_t tail = std::max<std::size_t>(1, nb / 10);
    double c0 = 0.0;
    for (std::size_t i = 0; i < tail; ++i) c0 += bins.y[i] + bins.y[nb - 1 - i];
    c0 /= static_cast<double>(2 * tail);

    std::size_t peak = 0;
    for (std::size_t i = 1; i < nb; ++i) {
      if (std::fabs(bins.y[i] - c0) > std::fabs(bins.y[peak] - c0)) peak = i;
    }
    const double mu0 = bins.x[peak];
    const double a0 = bins.y[peak] - c0;

    double area = 0.0;
    for (std::size_t i = 0; i + 1 < nb; ++i) {
      area += 0.5 * ((bins.y[i] - c0) + (bins.y[i + 1] - c0)) * (bins.x[i + 1] - bins.x[i]);
    }
    double s0 = area / (a0 * std::sqrt(2.0 * std::numbers::pi));
    if (!(s0 > 0.0 && s0 < span)) {
      // Half width at half maximum on either side of the peak; FWHM = 2.3548*s.
      std::size_t left = peak;
      while (left > 0 && std::fabs(bins.y[left] - c0) > 0.5 * std::fabs(a0)) --left;
      std::size_t right = peak;
      while (right + 1 < nb && std::fabs(bins.y[right] - c0) > 0.5 * std::fabs(a0)) ++right;
      s0 = (bins.x[right] - bins.x[left]) / 2.3548;
      if (!(s0 > 0.0 && s0 < span)) s0 = span / 6.0;
    }

    const std::size_t n = s.size();
    std::vector<double> g(n);
    const AffineFit affine(s.y);
    // About 200 evaluations: the exponentials in SIMD lanes (simd/array_ops.h).
    auto fit_at = [&](double mu, double ls) {
      const double inv = std::exp(-ls);
      for (std::size_t i = 0; i < n; ++i) {
        const double z = (s.x[i] - mu) * inv;
        g[i] = -0.5 * z * z;
      }
      simd::exp_array(n, g.data());
      return affine(g);  // y = a*g + c
    };
    double mu = mu0;
    double ls = std::log(s0);
    const double ls0 = ls;
    const double mu_lo = std::max(x_lo, mu0 - 3.0 * s0);
    const double mu_hi = std::min(x_hi, mu0 + 3.0 * s0);
    coordinate_search([&](double p, double q) { return fit_at(p, q).rss; }, mu, mu_lo, mu_hi, ls,
                      ls0 - 1.5, ls0 + 1.5);
    const LinearFit fit = fit_at(mu, ls);
    if (!std::isfinite(fit.rss)) return {a0, mu0, s0, c0};
    return {fit.scale, mu, std::exp(ls), fit.offset};
  }
};

}  // namespace

std::unique_ptr<Model> make_gauss() { return std::make_unique<Gauss>(); }

}  // namespace parafit::detail
#endif  // HWY_ONCE
