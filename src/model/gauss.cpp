// gauss: a*exp(-(x - mu)^2/(2*s^2)) + c, a peak on a baseline.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "model/family.h"
#include "model/fast_exp.h"
#include "model/self_start.h"

namespace parafit::detail {

namespace {

// The row loops take __restrict pointer parameters because GCC honours restrict only there;
// without it a loop writing f and several J columns needs more run-time alias checks than GCC
// will emit, and stays scalar. Both variants compute f the same way, so that f does not depend
// on whether J is wanted. They are always_inline and called through run_dispatched
// (model/fast_exp.h), which compiles each into a baseline and an AVX2 copy; they use vexp, never
// std::exp, so both copies (and every machine) give the same bits.

[[gnu::always_inline]] inline void gauss_values(std::size_t n, double a, double mu, double s,
                                                double c, const double* __restrict x,
                                                double* __restrict f) {
  const double inv_s = 1.0 / s;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = (x[i] - mu) * inv_s;
    f[i] = a * vexp(-0.5 * z * z) + c;
  }
}

[[gnu::always_inline]] inline void gauss_rows(std::size_t n, double a, double mu, double s,
                                              double c, const double* __restrict x,
                                              double* __restrict f, double* __restrict ja,
                                              double* __restrict jmu, double* __restrict js,
                                              double* __restrict jc) {
  const double inv_s = 1.0 / s;
  const double a_inv_s = a * inv_s;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = (x[i] - mu) * inv_s;
    const double e = vexp(-0.5 * z * z);
    const double t = a_inv_s * e * z;  // a*e*(x - mu)/s^2
    f[i] = a * e + c;
    ja[i] = e;
    jmu[i] = t;
    js[i] = t * z;
    jc[i] = 1.0;
  }
}

class Gauss final : public FamilyModel {
 public:
  Gauss() : FamilyModel("gauss", "a*exp(-(x - mu)^2/(2*s^2)) + c", {"a", "mu", "s", "c"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      run_dispatched<gauss_values>(block.size, theta[0], theta[1], theta[2], theta[3],
                                   block.inputs[0], f);
    } else {
      run_dispatched<gauss_rows>(block.size, theta[0], theta[1], theta[2], theta[3],
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
    auto fit_at = [&](double mu, double ls) {
      const double inv = std::exp(-ls);
      for (std::size_t i = 0; i < n; ++i) {
        const double z = (s.x[i] - mu) * inv;
        g[i] = std::exp(-0.5 * z * z);
      }
      return fit_affine(g, s.y);  // y = a*g + c
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
