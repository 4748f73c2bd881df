// michaelis-menten: vmax*x/(km + x).
//
// The row loops are written once on Highway (per-target code below, compiled for each target by
// hwy/foreach_target.h and dispatched at run time): every target gives the same f and J, the bits
// of the scalar formulas written in the comments, operation for operation (IEEE division is
// correctly rounded on every target). f is computed the same way with and without J, so that it
// does not depend on whether J is wanted.
#include <cstddef>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/michaelis_menten.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::ForEachVector;

// f = vmax*(x*(1/(km + x)))
void MmValues(std::size_t n, double vmax, double km, const double* x, double* f) {
  const hn::ScalableTag<double> d;
  const auto vvmax = hn::Set(d, vmax), vkm = hn::Set(d, km), one = hn::Set(d, 1.0);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    store(f, hn::Mul(vvmax, hn::Mul(xv, hn::Div(one, hn::Add(vkm, xv)))));
  });
}

// r = 1/(km + x), sat = x*r; f = vmax*sat; J = (sat, (-vmax*sat)*r)
void MmRows(std::size_t n, double vmax, double km, const double* x, double* f, double* jv,
            double* jk) {
  const hn::ScalableTag<double> d;
  const auto vvmax = hn::Set(d, vmax), vnvmax = hn::Set(d, -vmax), vkm = hn::Set(d, km);
  const auto one = hn::Set(d, 1.0);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    const auto r = hn::Div(one, hn::Add(vkm, xv));  // one division per row
    const auto sat = hn::Mul(xv, r);
    store(f, hn::Mul(vvmax, sat));
    store(jv, sat);
    store(jk, hn::Mul(hn::Mul(vnvmax, sat), r));
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <vector>

#include "model/family.h"
#include "model/self_start.h"

namespace parafit::detail {

HWY_EXPORT(MmValues);
HWY_EXPORT(MmRows);

namespace {

class MichaelisMenten final : public FamilyModel {
 public:
  MichaelisMenten() : FamilyModel("michaelis-menten", "vmax*x/(km + x)", {"vmax", "km"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(MmValues)(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(MmRows)(block.size, theta[0], theta[1], block.inputs[0], f, J, J + ldj);
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
#endif  // HWY_ONCE
