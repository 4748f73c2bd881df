// log and power: the families defined only for x > 0.
//
// The row loops are written once on Highway vectors, compiled per SIMD target (foreach_target.h)
// and run on the target HWY_DYNAMIC_DISPATCH picks. ln x is simd's Log and x^b = exp(b ln x) takes
// simd's Exp: branch-free, vectorised, and the same bits on every target and every libm (and the
// same as a formula's log and exp, so the formula "a + b*log(x)" rounds like this model).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "model/log_power.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstddef>
#include <limits>

#include "model/family_ops-inl.h"
#include "simd/exp-inl.h"
#include "simd/log-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace simd = parafit::simd::HWY_NAMESPACE;

using D = hn::ScalableTag<double>;
using V = hn::Vec<D>;

// f and J compute f the same way, so that f does not depend on whether J is wanted.

void LogValues(std::size_t n, double a, double b, const double* x, double* f) {
  const D d;
  const V av = hn::Set(d, a), bv = hn::Set(d, b);
  simd::ForEachVector(d, n, [&](auto load, auto store) {
    store(f, hn::Add(av, hn::Mul(bv, LogPositive(d, load(x)))));
  });
}

void LogRows(std::size_t n, double a, double b, const double* x, double* f, double* ja, double* jb) {
  const D d;
  const V av = hn::Set(d, a), bv = hn::Set(d, b), one = hn::Set(d, 1.0);
  simd::ForEachVector(d, n, [&](auto load, auto store) {
    const V l = LogPositive(d, load(x));
    store(f, hn::Add(av, hn::Mul(bv, l)));
    store(ja, hn::Add(hn::Sub(l, l), one));  // 1, or NaN with the rest of an undefined row
    store(jb, l);
  });
}

// power: a*x^b = a*exp(b*ln x).

void PowerValues(std::size_t n, double a, double b, const double* x, double* f) {
  const D d;
  const V av = hn::Set(d, a), bv = hn::Set(d, b);
  simd::ForEachVector(d, n, [&](auto load, auto store) {
    store(f, hn::Mul(av, simd::Exp(d, hn::Mul(bv, LogPositive(d, load(x))))));
  });
}

void PowerRows(std::size_t n, double a, double b, const double* x, double* f, double* ja, double* jb) {
  const D d;
  const V av = hn::Set(d, a), bv = hn::Set(d, b);
  simd::ForEachVector(d, n, [&](auto load, auto store) {
    const V l = LogPositive(d, load(x));
    const V p = simd::Exp(d, hn::Mul(bv, l));
    const V v = hn::Mul(av, p);
    store(f, v);
    store(ja, p);
    store(jb, hn::Mul(v, l));
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>
#include <vector>

#include "model/family.h"
#include "model/self_start.h"

namespace parafit::detail {
HWY_EXPORT(LogValues);
HWY_EXPORT(LogRows);
HWY_EXPORT(PowerValues);
HWY_EXPORT(PowerRows);

namespace {

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

class Log final : public FamilyModel {
 public:
  Log() : FamilyModel("log", "a + b*ln(x)", {"a", "b"}) {}

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    if (J == nullptr) {
      HWY_DYNAMIC_DISPATCH(LogValues)(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(LogRows)(block.size, theta[0], theta[1], block.inputs[0], f, J, J + ldj);
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
      HWY_DYNAMIC_DISPATCH(PowerValues)(block.size, theta[0], theta[1], block.inputs[0], f);
    } else {
      HWY_DYNAMIC_DISPATCH(PowerRows)(block.size, theta[0], theta[1], block.inputs[0], f, J, J + ldj);
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
#endif  // HWY_ONCE
