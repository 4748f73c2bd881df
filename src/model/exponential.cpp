// exp-decay, asymptotic and exp-growth: the exponential families.
#include <cmath>
#include <string_view>
#include <vector>

#include "model/family.h"
#include "model/fast_exp.h"
#include "model/self_start.h"

namespace parafit::detail {

namespace {

// Rates are searched in units of 1/(x range): from barely curved to decayed within the first
// few percent of the range.
constexpr double kMinRate = 0.02;
constexpr double kMaxRate = 100.0;

// The row loops. They take __restrict pointer parameters because GCC honours restrict only
// there; without it a loop writing f and several J columns needs more run-time alias checks than
// GCC will emit, and stays scalar. f and the J columns must be computed the same way in both
// variants so that f does not depend on whether J is wanted. They are always_inline and called
// through run_dispatched (model/fast_exp.h), which compiles each into a baseline and an AVX2
// copy; they use vexp, never std::exp, so both copies (and every machine) give the same bits.

[[gnu::always_inline]] inline void exp_decay_values(std::size_t n, double a, double b, double c,
                                                    const double* __restrict x,
                                                    double* __restrict f) {
  const double nb = -b;
  for (std::size_t i = 0; i < n; ++i) f[i] = a * vexp(nb * x[i]) + c;
}

[[gnu::always_inline]] inline void exp_decay_rows(std::size_t n, double a, double b, double c,
                                                  const double* __restrict x, double* __restrict f,
                                                  double* __restrict ja, double* __restrict jb,
                                                  double* __restrict jc) {
  const double nb = -b;
  const double na = -a;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = vexp(nb * x[i]);
    f[i] = a * e + c;
    ja[i] = e;
    jb[i] = na * x[i] * e;
    jc[i] = 1.0;
  }
}

[[gnu::always_inline]] inline void asymptotic_values(std::size_t n, double asym, double r0,
                                                     double lrc, const double* __restrict x,
                                                     double* __restrict f) {
  const double range = r0 - asym;
  const double nrate = -vexp(lrc);  // vexp here too: evaluate() uses no libm exp
  for (std::size_t i = 0; i < n; ++i) f[i] = asym + range * vexp(nrate * x[i]);
}

[[gnu::always_inline]] inline void asymptotic_rows(std::size_t n, double asym, double r0,
                                                   double lrc, const double* __restrict x,
                                                   double* __restrict f, double* __restrict j_asym,
                                                   double* __restrict j_r0,
                                                   double* __restrict j_lrc) {
  const double range = r0 - asym;
  const double rate = vexp(lrc);
  const double nrate = -rate;
  const double k = -range * rate;  // d/dlrc of exp(-exp(lrc)*x) is -exp(lrc)*x*e
  for (std::size_t i = 0; i < n; ++i) {
    const double e = vexp(nrate * x[i]);
    f[i] = asym + range * e;
    j_asym[i] = 1.0 - e;
    j_r0[i] = e;
    j_lrc[i] = k * x[i] * e;
  }
}

[[gnu::always_inline]] inline void exp_growth_values(std::size_t n, double a, double b,
                                                     const double* __restrict x,
                                                     double* __restrict f) {
  for (std::size_t i = 0; i < n; ++i) f[i] = a * vexp(b * x[i]);
}

[[gnu::always_inline]] inline void exp_growth_rows(std::size_t n, double a, double b,
                                                   const double* __restrict x,
                                                   double* __restrict f, double* __restrict ja,
                                                   double* __restrict jb) {
  for (std::size_t i = 0; i < n; ++i) {
    const double e = vexp(b * x[i]);
    const double v = a * e;
    f[i] = v;
    ja[i] = e;
    jb[i] = v * x[i];
  }
}

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
  auto fit_at = [&](double b) {
    for (std::size_t i = 0; i < n; ++i) g[i] = std::exp(-b * (s.x[i] - x0));
    return fit_affine(g, s.y);
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
      run_dispatched<exp_decay_values>(block.size, theta[0], theta[1], theta[2], block.inputs[0],
                                       f);
    } else {
      run_dispatched<exp_decay_rows>(block.size, theta[0], theta[1], theta[2], block.inputs[0], f,
                                     J, J + ldj, J + 2 * ldj);
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
    if (J == nullptr) {
      run_dispatched<asymptotic_values>(block.size, theta[0], theta[1], theta[2], block.inputs[0],
                                        f);
    } else {
      run_dispatched<asymptotic_rows>(block.size, theta[0], theta[1], theta[2], block.inputs[0], f,
                                      J, J + ldj, J + 2 * ldj);
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
      run_dispatched<exp_growth_values>(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      run_dispatched<exp_growth_rows>(block.size, theta[0], theta[1], block.inputs[0], f, J,
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
