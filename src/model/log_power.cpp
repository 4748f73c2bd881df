// log and power: the families defined only for x > 0.
#include <cmath>
#include <limits>
#include <vector>

#include "model/family.h"
#include "model/fast_exp.h"
#include "model/self_start.h"

namespace parafit::detail {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ln x for x > 0, NaN otherwise (std::log would give -inf at 0, which is not "undefined" enough:
// it turns into NaN or +-inf downstream depending on the parameters).
inline double log_positive(double x) { return x > 0.0 ? std::log(x) : kNaN; }

Sample positive_x_sample(std::string_view model, std::span<const double> x,
                         std::span<const double> y) {
  const Sample all = sorted_subsample(model, x, y, 2);
  Sample pos = filter(all, [](double xv, double) { return xv > 0.0; });
  if (pos.size() < 2) {
    throw_no_start(model, pos.size() == 0 ? "no rows have x > 0 (it is defined only for x > 0)"
                                      : "only one row has x > 0 (it is defined only for x > 0)");
  }
  return pos;
}

// The row loops take __restrict pointer parameters because GCC honours restrict only there;
// without it a loop writing f and several J columns needs more run-time alias checks than GCC
// will emit, and stays scalar. Both variants compute f the same way, so that f does not depend
// on whether J is wanted.

void log_values(std::size_t n, double a, double b, const double* __restrict x,
                double* __restrict f) {
  for (std::size_t i = 0; i < n; ++i) f[i] = a + b * log_positive(x[i]);
}

void log_rows(std::size_t n, double a, double b, const double* __restrict x, double* __restrict f,
              double* __restrict ja, double* __restrict jb) {
  for (std::size_t i = 0; i < n; ++i) {
    const double l = log_positive(x[i]);
    f[i] = a + b * l;
    ja[i] = l - l + 1.0;  // 1, or NaN with the rest of an undefined row
    jb[i] = l;
  }
}

// power: x^b = exp(b*ln x). The power loops are always_inline and called through run_dispatched
// (model/fast_exp.h), which compiles each into a baseline and an AVX2 copy, and use vexp, never
// std::exp, so both copies give the same bits. std::log is a library call and keeps a loop
// scalar, so ln x goes into f in a loop of its own and the exp loop after it vectorises.

[[gnu::always_inline]] inline void log_positive_rows(std::size_t n, const double* __restrict x,
                                                     double* __restrict l) {
  for (std::size_t i = 0; i < n; ++i) l[i] = log_positive(x[i]);
}

[[gnu::always_inline]] inline void power_values(std::size_t n, double a, double b,
                                                const double* __restrict x,
                                                double* __restrict f) {
  log_positive_rows(n, x, f);
  for (std::size_t i = 0; i < n; ++i) f[i] = a * vexp(b * f[i]);
}

[[gnu::always_inline]] inline void power_rows(std::size_t n, double a, double b,
                                              const double* __restrict x, double* __restrict f,
                                              double* __restrict ja, double* __restrict jb) {
  log_positive_rows(n, x, f);
  for (std::size_t i = 0; i < n; ++i) {
    const double l = f[i];
    const double p = vexp(b * l);
    const double v = a * p;
    f[i] = v;
    ja[i] = p;
    jb[i] = v * l;
  }
}

class Log final : public FamilyModel {
 public:
  Log() : FamilyModel("log", "a + b*ln(x)", {"a", "b"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      log_values(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      log_rows(block.size, theta[0], theta[1], block.inputs[0], f, J, J + ldj);
    }
  }

  // Linear in both parameters: the least-squares line of y on ln x is the answer.
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = positive_x_sample(name(), single_input(name(), inputs, y), y);
    std::vector<double> lx(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) lx[i] = std::log(s.x[i]);
    const LineFit line = fit_line(lx, s.y);
    if (!line.ok) return {mean(s.y), 0.0};
    return {line.intercept, line.slope};
  }
};

class Power final : public FamilyModel {
 public:
  Power() : FamilyModel("power", "a*x^b", {"a", "b"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      run_dispatched<power_values>(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      run_dispatched<power_rows>(block.size, theta[0], theta[1], block.inputs[0], f, J, J + ldj);
    }
  }

  // Log-log regression on the rows whose y has the majority sign gives b; a search around it
  // with a solved exactly removes the bias that logging noisy y introduces.
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override {
    const Sample s = positive_x_sample(name(), single_input(name(), inputs, y), y);
    const std::size_t n = s.size();
    std::vector<double> lx(n);
    for (std::size_t i = 0; i < n; ++i) lx[i] = std::log(s.x[i]);
    // Powers relative to the mean log x keep x^b in range for any scale of x.
    const double lref = mean(lx);

    const double sign = mean(s.y) >= 0.0 ? 1.0 : -1.0;
    std::vector<double> ll_x;
    std::vector<double> ll_y;
    for (std::size_t i = 0; i < n; ++i) {
      if (sign * s.y[i] > 0.0) {
        ll_x.push_back(lx[i]);
        ll_y.push_back(std::log(sign * s.y[i]));
      }
    }
    const LineFit line = fit_line(ll_x, ll_y);
    const double b0 = line.ok ? line.slope : 1.0;

    std::vector<double> g(n);
    auto fit_at = [&](double b) {
      for (std::size_t i = 0; i < n; ++i) g[i] = std::exp(b * (lx[i] - lref));
      return fit_scale(g, s.y);
    };
    const double b = minimise_1d([&](double bv) { return fit_at(bv).rss; }, b0 - 3.0, b0 + 3.0);
    const LinearFit fit = fit_at(b);
    if (!std::isfinite(fit.rss)) return {finite_or(mean(s.y), 1.0), 1.0};
    double a = fit.scale * std::exp(-b * lref);
    if (!std::isfinite(a)) a = fit.scale;
    return {a, b};
  }
};

}  // namespace

std::unique_ptr<Model> make_log() { return std::make_unique<Log>(); }
std::unique_ptr<Model> make_power() { return std::make_unique<Power>(); }

}  // namespace parafit::detail
