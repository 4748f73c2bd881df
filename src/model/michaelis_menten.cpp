// michaelis-menten: vmax*x/(km + x).
#include <algorithm>
#include <cmath>
#include <vector>

#include "model/family.h"
#include "model/self_start.h"

namespace parafit::detail {

namespace {

// The row loops take __restrict pointer parameters because GCC honours restrict only there;
// without it a loop writing f and several J columns needs more run-time alias checks than GCC
// will emit, and stays scalar. Both variants compute f the same way, so that f does not depend
// on whether J is wanted.

void mm_values(std::size_t n, double vmax, double km, const double* __restrict x,
               double* __restrict f) {
  for (std::size_t i = 0; i < n; ++i) f[i] = vmax * (x[i] * (1.0 / (km + x[i])));
}

void mm_rows(std::size_t n, double vmax, double km, const double* __restrict x,
             double* __restrict f, double* __restrict jv, double* __restrict jk) {
  for (std::size_t i = 0; i < n; ++i) {
    const double r = 1.0 / (km + x[i]);  // one division per row
    const double sat = x[i] * r;
    f[i] = vmax * sat;
    jv[i] = sat;
    jk[i] = -vmax * sat * r;
  }
}

class MichaelisMenten final : public FamilyModel {
 public:
  MichaelisMenten() : FamilyModel("michaelis-menten", "vmax*x/(km + x)", {"vmax", "km"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      mm_values(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      mm_rows(block.size, theta[0], theta[1], block.inputs[0], f, J, J + ldj);
    }
  }

  // Hanes–Woolf (x/y = km/vmax + x/vmax) on binned means gives km; it is then refined by a search
  // over log km with vmax solved exactly, which repairs what the linearisation's noise
  // amplification near y = 0 does to it.
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = sorted_subsample(name(), single_input(name(), inputs, y), y, 2);
    const std::size_t n = s.size();

    double typical_x = 0.0;  // median |x|: the fallback km and the search's centre without one
    {
      std::vector<double> ax(n);
      for (std::size_t i = 0; i < n; ++i) ax[i] = std::fabs(s.x[i]);
      std::nth_element(ax.begin(), ax.begin() + static_cast<std::ptrdiff_t>(n / 2), ax.end());
      typical_x = ax[n / 2] > 0.0 ? ax[n / 2] : 1.0;
    }

    double km0 = typical_x;
    const Sample bins = quantile_bins(s, 20);
    const Sample usable =
        filter(bins, [](double xv, double yv) { return xv > 0.0 && yv != 0.0; });
    std::vector<double> ratio(usable.size());
    for (std::size_t i = 0; i < usable.size(); ++i) ratio[i] = usable.x[i] / usable.y[i];
    const LineFit hw = fit_line(usable.x, ratio);
    if (hw.ok && hw.slope != 0.0) {
      const double km = hw.intercept / hw.slope;  // (km/vmax) / (1/vmax)
      if (std::isfinite(km) && km > 0.0) km0 = km;
    }

    std::vector<double> g(n);
    auto fit_at = [&](double km) {
      for (std::size_t i = 0; i < n; ++i) g[i] = s.x[i] / (km + s.x[i]);
      return fit_scale(g, s.y);
    };
    const double lk0 = std::log(km0);
    const double km =
        std::exp(minimise_1d([&](double lk) { return fit_at(std::exp(lk)).rss; }, lk0 - 4.0,
                             lk0 + 4.0));
    const LinearFit fit = fit_at(km);
    if (!std::isfinite(fit.rss)) {
      const auto [lo, hi] = std::minmax_element(s.y.begin(), s.y.end());
      return {std::fabs(*hi) >= std::fabs(*lo) ? *hi : *lo, km0};
    }
    return {fit.scale, km};
  }
};

}  // namespace

std::unique_ptr<Model> make_michaelis_menten() { return std::make_unique<MichaelisMenten>(); }

}  // namespace parafit::detail
