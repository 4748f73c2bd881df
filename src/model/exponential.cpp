// exp-decay, asymptotic and exp-growth: the exponential families.
//
// The row loops are written once on Highway (per-target code below, compiled for each target by
// hwy/foreach_target.h and dispatched at run time) with simd's Exp, which has exp_scalar's bits:
// every target gives the same f and J, the bits of the scalar formulas written in the comments,
// operation for operation (Mul then Add, never fused). f is computed the same way with and
// without J, so that it does not depend on whether J is wanted.
#include <cstddef>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/exponential.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/exp-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::Exp;
using simd::HWY_NAMESPACE::ForEachVector;

// f = a*exp(-b*x) + c
void ExpDecayValues(std::size_t n, double a, double b, double c, const double* x, double* f) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vnb = hn::Set(d, -b), vc = hn::Set(d, c);
  ForEachVector(d, n, [&](auto load, auto store) {
    store(f, hn::Add(hn::Mul(va, Exp(d, hn::Mul(vnb, load(x)))), vc));
  });
}

// e = exp(-b*x); f = a*e + c; J = (e, (-a*x)*e, 1)
void ExpDecayRows(std::size_t n, double a, double b, double c, const double* x, double* f,
                  double* ja, double* jb, double* jc) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vnb = hn::Set(d, -b), vc = hn::Set(d, c), vna = hn::Set(d, -a);
  const auto one = hn::Set(d, 1.0);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    const auto e = Exp(d, hn::Mul(vnb, xv));
    store(f, hn::Add(hn::Mul(va, e), vc));
    store(ja, e);
    store(jb, hn::Mul(hn::Mul(vna, xv), e));
    store(jc, one);
  });
}

// f = asym + range*exp(nrate*x), range = r0 - asym, nrate = -exp(lrc)
void AsymptoticValues(std::size_t n, double asym, double range, double nrate, const double* x,
                      double* f) {
  const hn::ScalableTag<double> d;
  const auto vasym = hn::Set(d, asym), vrange = hn::Set(d, range), vnrate = hn::Set(d, nrate);
  ForEachVector(d, n, [&](auto load, auto store) {
    store(f, hn::Add(vasym, hn::Mul(vrange, Exp(d, hn::Mul(vnrate, load(x))))));
  });
}

// e = exp(nrate*x); f = asym + range*e; J = (1 - e, e, (k*x)*e), k = -range*exp(lrc)
void AsymptoticRows(std::size_t n, double asym, double range, double nrate, double k,
                    const double* x, double* f, double* j_asym, double* j_r0, double* j_lrc) {
  const hn::ScalableTag<double> d;
  const auto vasym = hn::Set(d, asym), vrange = hn::Set(d, range), vnrate = hn::Set(d, nrate);
  const auto vk = hn::Set(d, k), one = hn::Set(d, 1.0);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    const auto e = Exp(d, hn::Mul(vnrate, xv));
    store(f, hn::Add(vasym, hn::Mul(vrange, e)));
    store(j_asym, hn::Sub(one, e));
    store(j_r0, e);
    store(j_lrc, hn::Mul(hn::Mul(vk, xv), e));
  });
}

// f = a*exp(b*x)
void ExpGrowthValues(std::size_t n, double a, double b, const double* x, double* f) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vb = hn::Set(d, b);
  ForEachVector(d, n, [&](auto load, auto store) { store(f, hn::Mul(va, Exp(d, hn::Mul(vb, load(x))))); });
}

// e = exp(b*x); f = a*e; J = (e, f*x)
void ExpGrowthRows(std::size_t n, double a, double b, const double* x, double* f, double* ja,
                   double* jb) {
  const hn::ScalableTag<double> d;
  const auto va = hn::Set(d, a), vb = hn::Set(d, b);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto xv = load(x);
    const auto e = Exp(d, hn::Mul(vb, xv));
    const auto v = hn::Mul(va, e);
    store(f, v);
    store(ja, e);
    store(jb, hn::Mul(v, xv));
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>
#include <string_view>
#include <vector>

#include "model/family.h"
#include "model/self_start.h"
#include "simd/exp_scalar.h"

namespace parafit::detail {

HWY_EXPORT(ExpDecayValues);
HWY_EXPORT(ExpDecayRows);
HWY_EXPORT(AsymptoticValues);
HWY_EXPORT(AsymptoticRows);
HWY_EXPORT(ExpGrowthValues);
HWY_EXPORT(ExpGrowthRows);

namespace {

// Rates are searched in units of 1/(x range): from barely curved to decayed within the first
// few percent of the range.
constexpr double kMinRate = 0.02;
constexpr double kMaxRate = 100.0;

// a*exp(-b*x) + c. For a given b the model is linear in (a, c), so only b is searched; the
// exponential is taken relative to the smallest x so that it stays in range for any offset of x.
struct DecayStart {
  double a, b, c;
};

DecayStart exp_decay_start(const Sample& s, bool positive_rate_only) {
  const double x0 = s.x.front();
  const double span = s.x.back() - x0;
  const std::size_t n = s.size();
  std::vector<double> g(n);
  const AffineFit affine(s.y);
  auto fit_at = [&](double b) {
    for (std::size_t i = 0; i < n; ++i) g[i] = std::exp(-b * (s.x[i] - x0));
    return affine(g);
  };
  const double scale = span > 0.0 ? span : 1.0;
  double b = minimise_rate([&](double rho) { return fit_at(rho / scale).rss; }, kMinRate, kMaxRate,
                           !positive_rate_only) /
             scale;
  LinearFit fit = fit_at(b);
  if (!std::isfinite(fit.rss)) {
    // Degenerate data (all x equal, say): any decay through the mean is as good as another.
    b = 1.0 / scale;
    fit.scale = 0.0;
    fit.offset = mean(s.y);
  }
  DecayStart st{fit.scale * std::exp(b * x0), b, fit.offset};
  if (!std::isfinite(st.a)) st.a = fit.scale;  // exp(b*x0) overflowed: keep the scale's sign
  return st;
}

class ExpDecay final : public FamilyModel {
 public:
  ExpDecay() : FamilyModel("exp-decay", "a*exp(-b*x) + c", {"a", "b", "c"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(ExpDecayValues)(block.size, theta[0], theta[1], theta[2],
                                           block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(ExpDecayRows)(block.size, theta[0], theta[1], theta[2], block.inputs[0],
                                         f, J, J + ldj, J + 2 * ldj);
    }
  }

  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = sorted_subsample(name(), single_input(name(), inputs, y), y, 3);
    const DecayStart st = exp_decay_start(s, false);
    return {st.a, st.b, st.c};
  }
};

// Asym + (R0 - Asym)*exp(-exp(lrc)*x): exp-decay with c = Asym, a = R0 - Asym, b = exp(lrc).
class Asymptotic final : public FamilyModel {
 public:
  Asymptotic()
      : FamilyModel("asymptotic", "Asym + (R0 - Asym)*exp(-exp(lrc)*x)", {"Asym", "R0", "lrc"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    const double asym = theta[0];
    const double range = theta[1] - asym;
    const double rate = simd::exp_scalar(theta[2]);  // not std::exp: evaluate() uses no libm exp
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(AsymptoticValues)(block.size, asym, range, -rate, block.inputs[0], f);
    } else {
      // d/dlrc of exp(-exp(lrc)*x) is -exp(lrc)*x*e
      HWY_DYNAMIC_DISPATCH(AsymptoticRows)(block.size, asym, range, -rate, -range * rate,
                                           block.inputs[0], f, J, J + ldj, J + 2 * ldj);
    }
  }

  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = sorted_subsample(name(), single_input(name(), inputs, y), y, 3);
    const DecayStart st = exp_decay_start(s, true);
    return {st.c, st.a + st.c, std::log(st.b)};
  }
};

class ExpGrowth final : public FamilyModel {
 public:
  ExpGrowth() : FamilyModel("exp-growth", "a*exp(b*x)", {"a", "b"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(ExpGrowthValues)(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(ExpGrowthRows)(block.size, theta[0], theta[1], block.inputs[0], f, J,
                                          J + ldj);
    }
  }

  // The log-linear regression of ln|y| on x is the classic start, but it is biased by noise and
  // useless when y crosses zero, so it is only one candidate next to a search over the rate with
  // a solved exactly.
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = sorted_subsample(name(), single_input(name(), inputs, y), y, 2);
    const double x0 = s.x.front();
    const double span = s.x.back() - x0;
    const double scale = span > 0.0 ? span : 1.0;
    const std::size_t n = s.size();
    std::vector<double> g(n);
    auto fit_at = [&](double b) {
      for (std::size_t i = 0; i < n; ++i) g[i] = std::exp(b * (s.x[i] - x0));
      return fit_scale(g, s.y);
    };
    const auto rss_at_rate = [&](double rho) { return fit_at(rho / scale).rss; };
    double b = minimise_rate(rss_at_rate, kMinRate, kMaxRate, true) / scale;
    LinearFit best = fit_at(b);

    const double sign = mean(s.y) >= 0.0 ? 1.0 : -1.0;
    const Sample same_sign = filter(s, [sign](double, double yv) { return sign * yv > 0.0; });
    std::vector<double> log_y(same_sign.size());
    for (std::size_t i = 0; i < same_sign.size(); ++i) log_y[i] = std::log(sign * same_sign.y[i]);
    const LineFit line = fit_line(same_sign.x, log_y);
    if (line.ok) {
      const LinearFit at_line = fit_at(line.slope);
      if (at_line.rss < best.rss) {
        best = at_line;
        b = line.slope;
      }
    }
    if (!std::isfinite(best.rss)) return {finite_or(mean(s.y), 1.0), 0.0};
    double a = best.scale * std::exp(-b * x0);
    if (!std::isfinite(a)) a = best.scale;
    return {a, b};
  }
};

}  // namespace

std::unique_ptr<Model> make_exp_decay() { return std::make_unique<ExpDecay>(); }
std::unique_ptr<Model> make_asymptotic() { return std::make_unique<Asymptotic>(); }
std::unique_ptr<Model> make_exp_growth() { return std::make_unique<ExpGrowth>(); }

}  // namespace parafit::detail
#endif  // HWY_ONCE
