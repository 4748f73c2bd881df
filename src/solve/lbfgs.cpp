// Limited-memory BFGS: options, summary, and the iteration (the line search is in
// lbfgs_line_search.cpp). See parafit/lbfgs.h.
#include "parafit/lbfgs.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "parafit/error.h"
#include "solve/lbfgs_line_search.h"

namespace parafit {
namespace {

// A curvature pair is kept only if s'y > kCurvatureCosine * ||s|| ||y||: the cosine of the angle
// between s and y must clear the rounding error of s'y (about n eps ||s|| ||y|| at worst, 2e-11
// for n = 1e5) with room to spare. The test does not depend on the scale of the cost or of x,
// unlike L-BFGS-B's s'y > eps y'y (which drops every pair of a cost of order 1e30).
constexpr double kCurvatureCosine = 1e-10;

double max_abs(std::span<const double> v) {
  double m = 0;
  for (const double e : v) m = std::max(m, std::abs(e));
  return m;
}

// The memory of curvature pairs: a ring of capacity + 1 slots of n values each; the slot after the
// newest pair is always free, so a candidate pair is written there and only then tested.
class PairMemory {
 public:
  PairMemory(std::size_t n, std::size_t capacity)
      : n_(n),
        capacity_(capacity),
        slots_(capacity + 1),
        s_(n * slots_),
        y_(n * slots_),
        rho_(slots_),
        a_(slots_) {}

  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }

  // Appends s = x1 - x0, y = g1 - g0 if s'y > kCurvatureCosine ||s|| ||y|| (dropping the oldest
  // pair when full); returns whether it was kept.
  bool Push(std::span<const double> x0, std::span<const double> x1, std::span<const double> g0,
            std::span<const double> g1) {
    const std::size_t slot = (first_ + size_) % slots_;
    double* s = &s_[slot * n_];
    double* y = &y_[slot * n_];
    for (std::size_t i = 0; i < n_; ++i) {
      s[i] = x1[i] - x0[i];
      y[i] = g1[i] - g0[i];
    }
    const double sy = detail::fixed_order_dot({s, n_}, {y, n_});
    const double yy = detail::fixed_order_dot({y, n_}, {y, n_});
    const double ss = detail::fixed_order_dot({s, n_}, {s, n_});
    if (!(sy > kCurvatureCosine * (std::sqrt(ss) * std::sqrt(yy))) || !std::isfinite(sy) ||
        !std::isfinite(yy) || !std::isfinite(ss))
      return false;
    rho_[slot] = 1.0 / sy;
    newest_gamma_ = sy / yy;
    if (size_ == capacity_)
      first_ = (first_ + 1) % slots_;
    else
      ++size_;
    return true;
  }

  // d = -H g by the two-loop recursion (N&W Algorithm 7.4), H0 = gamma I with gamma = s'y/y'y of
  // the newest pair. Needs size() > 0.
  void Direction(std::span<const double> g, std::span<double> d) {
    for (std::size_t i = 0; i < n_; ++i) d[i] = -g[i];
    for (std::size_t k = size_; k-- > 0;) {
      const std::size_t slot = (first_ + k) % slots_;
      const double* s = &s_[slot * n_];
      const double* y = &y_[slot * n_];
      const double a = rho_[slot] * detail::fixed_order_dot({s, n_}, d);
      a_[slot] = a;
      for (std::size_t i = 0; i < n_; ++i) d[i] -= a * y[i];
    }
    for (std::size_t i = 0; i < n_; ++i) d[i] *= newest_gamma_;
    for (std::size_t k = 0; k < size_; ++k) {
      const std::size_t slot = (first_ + k) % slots_;
      const double* s = &s_[slot * n_];
      const double* y = &y_[slot * n_];
      const double b = rho_[slot] * detail::fixed_order_dot({y, n_}, d);
      const double c = a_[slot] - b;
      for (std::size_t i = 0; i < n_; ++i) d[i] += c * s[i];
    }
  }

 private:
  std::size_t n_, capacity_, slots_;
  std::vector<double> s_, y_, rho_, a_;
  std::size_t first_ = 0, size_ = 0;
  double newest_gamma_ = 1.0;
};

}  // namespace

const char* to_string(LbfgsTermination t) {
  switch (t) {
    case LbfgsTermination::kGradientTolerance: return "gradient tolerance";
    case LbfgsTermination::kFunctionTolerance: return "function tolerance";
    case LbfgsTermination::kParameterTolerance: return "parameter tolerance";
    case LbfgsTermination::kMaxIterations: return "maximum iterations";
    case LbfgsTermination::kLineSearchFailed: return "line search failed";
    case LbfgsTermination::kNonFinite: return "non-finite start";
    case LbfgsTermination::kUserStopped: return "stopped by callback";
  }
  return "unknown";
}

bool converged(LbfgsTermination t) {
  return t == LbfgsTermination::kGradientTolerance || t == LbfgsTermination::kFunctionTolerance ||
         t == LbfgsTermination::kParameterTolerance;
}

bool LbfgsOptions::IsValid(std::string* why) const {
  auto fail = [&](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  auto nonnegative = [](double v) { return v >= 0 && std::isfinite(v); };
  if (memory < 1) return fail(fmt::format("memory must be at least 1, got {}", memory));
  if (max_iterations < 1) return fail(fmt::format("max_iterations must be at least 1, got {}", max_iterations));
  if (!nonnegative(gradient_tolerance))
    return fail(fmt::format("gradient_tolerance must be finite and >= 0, got {}", gradient_tolerance));
  if (!nonnegative(function_tolerance))
    return fail(fmt::format("function_tolerance must be finite and >= 0, got {}", function_tolerance));
  if (!nonnegative(parameter_tolerance))
    return fail(fmt::format("parameter_tolerance must be finite and >= 0, got {}", parameter_tolerance));
  if (max_line_search_evaluations < 1)
    return fail(fmt::format("max_line_search_evaluations must be at least 1, got {}",
                            max_line_search_evaluations));
  if (!(sufficient_decrease > 0 && sufficient_decrease < curvature && curvature < 1))
    return fail(fmt::format("the Wolfe constants must satisfy 0 < sufficient_decrease < curvature < 1, "
                            "got sufficient_decrease {} and curvature {}",
                            sufficient_decrease, curvature));
  return true;
}

std::string LbfgsSummary::BriefReport() const {
  return fmt::format("L-BFGS: {} after {} iterations ({} evaluations); cost {:.6g} -> {:.6g}; {}",
                     IsSolutionUsable() ? "converged" : "NOT converged", iterations, evaluations,
                     initial_cost, final_cost, to_string(termination));
}

std::string LbfgsSummary::FullReport() const {
  std::string out = "L-BFGS report\n";
  out += fmt::format("  termination            {} ({})\n", to_string(termination),
                     IsSolutionUsable() ? "converged" : "not converged");
  out += fmt::format("  message                {}\n", message);
  out += fmt::format("  iterations             {}\n", iterations);
  out += fmt::format("  objective evaluations  {}\n", evaluations);
  out += fmt::format("  skipped updates        {}\n", skipped_updates);
  out += fmt::format("  restarts               {}\n", restarts);
  out += fmt::format("  initial cost           {:.10g}\n", initial_cost);
  out += fmt::format("  final cost             {:.10g}\n", final_cost);
  out += fmt::format("  max |gradient|         {:.3g}\n", gradient_norm);
  out += fmt::format("  time                   {:.3f} s\n", seconds);
  return out;
}

LbfgsSummary lbfgs_minimize(const Objective& f, std::span<double> x, const LbfgsOptions& options,
                            const LbfgsCallback& callback) {
  std::string why;
  if (!options.IsValid(&why)) throw Error("invalid L-BFGS options: " + why);
  if (x.empty()) throw Error("L-BFGS: there are no parameters to optimize");
  const auto start_time = std::chrono::steady_clock::now();
  const std::size_t n = x.size();

  LbfgsSummary summary;
  auto finish = [&](LbfgsTermination t, std::string message) {
    summary.termination = t;
    summary.message = std::move(message);
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
    return summary;
  };

  std::vector<double> g(n), d(n), x_old(n);
  double cost = f(std::span<const double>(x.data(), n), std::span<double>(g));
  summary.evaluations = 1;
  summary.initial_cost = summary.final_cost = cost;
  summary.cost_history = {cost};
  if (!std::isfinite(cost) || !std::all_of(g.begin(), g.end(), [](double v) { return std::isfinite(v); }))
    return finish(LbfgsTermination::kNonFinite,
                  fmt::format("failed: the cost ({}) or the gradient is not finite at the starting point",
                              cost));
  double gnorm = max_abs(g);
  summary.gradient_norm = gnorm;
  auto gradient_converged = [&] { return gnorm <= options.gradient_tolerance * std::max(1.0, std::abs(cost)); };
  auto gradient_message = [&] {
    return fmt::format("converged: the largest gradient component {:.3g} is within gradient_tolerance "
                       "{:g} x max(1, |cost|)",
                       gnorm, options.gradient_tolerance);
  };
  if (gradient_converged()) return finish(LbfgsTermination::kGradientTolerance, gradient_message());

  PairMemory memory(n, static_cast<std::size_t>(options.memory));
  detail::StrongWolfeLineSearch line_search(f, n, options);

  for (int k = 1;; ++k) {
    if (k > options.max_iterations)
      return finish(LbfgsTermination::kMaxIterations,
                    fmt::format("not converged: reached max_iterations ({}) with the largest gradient "
                                "component at {:.3g}",
                                options.max_iterations, gnorm));
    // The direction: quasi-Newton if there are pairs and it descends, else steepest descent.
    bool quasi_newton = memory.size() > 0;
    double slope = 0;
    if (quasi_newton) {
      memory.Direction(g, d);
      slope = detail::fixed_order_dot(g, d);
      if (!(slope < 0)) {  // only through rounding: H is positive definite
        memory.clear();
        ++summary.restarts;
        quasi_newton = false;
      }
    }
    auto steepest_descent = [&] {
      for (std::size_t i = 0; i < n; ++i) d[i] = -g[i];
      slope = -detail::fixed_order_dot(g, g);
    };
    // A steepest-descent trial moves no parameter by more than 1.
    const double sd_alpha = std::min(1.0, 1.0 / gnorm);
    if (!quasi_newton) steepest_descent();
    const std::span<const double> xc(x.data(), n);
    detail::LineSearchResult ls = line_search.Search(xc, cost, d, slope, quasi_newton ? 1.0 : sd_alpha);
    summary.evaluations += ls.evaluations;
    if (!ls.found && quasi_newton) {
      memory.clear();
      ++summary.restarts;
      quasi_newton = false;
      steepest_descent();
      ls = line_search.Search(xc, cost, d, slope, sd_alpha);
      summary.evaluations += ls.evaluations;
    }
    if (!ls.found)
      return finish(LbfgsTermination::kLineSearchFailed,
                    fmt::format("not converged: no step along the search direction or the steepest "
                                "descent decreased the cost sufficiently within {} evaluations each; the gradient "
                                "may be inconsistent with the cost, or the cost at its rounding floor "
                                "(largest gradient component {:.3g})",
                                options.max_line_search_evaluations, gnorm));

    // Accept the step.
    if (!memory.Push(xc, line_search.x_best(), g, line_search.g_best())) ++summary.skipped_updates;
    std::copy(x.begin(), x.end(), x_old.begin());
    const double x_scale = max_abs(x_old);
    std::copy(line_search.x_best().begin(), line_search.x_best().end(), x.begin());
    std::copy(line_search.g_best().begin(), line_search.g_best().end(), g.begin());
    double step_norm = 0;
    for (std::size_t i = 0; i < n; ++i) step_norm = std::max(step_norm, std::abs(x[i] - x_old[i]));
    const double old_cost = cost;
    cost = ls.cost;
    gnorm = max_abs(g);
    summary.iterations = k;
    summary.final_cost = cost;
    summary.gradient_norm = gnorm;
    summary.cost_history.push_back(cost);

    std::optional<std::pair<LbfgsTermination, std::string>> done;
    const double decrease = old_cost - cost;
    if (gradient_converged()) {
      done.emplace(LbfgsTermination::kGradientTolerance, gradient_message());
    } else if (quasi_newton &&
               decrease < options.function_tolerance * std::max(std::abs(old_cost), std::abs(cost))) {
      done.emplace(LbfgsTermination::kFunctionTolerance,
                   fmt::format("converged: the cost decreased by {:.3g} of itself, less than "
                               "function_tolerance {:g}",
                               decrease / std::max(std::abs(old_cost), std::abs(cost)),
                               options.function_tolerance));
    } else if (quasi_newton && step_norm <= options.parameter_tolerance *
                                                (x_scale + options.parameter_tolerance)) {
      done.emplace(LbfgsTermination::kParameterTolerance,
                   fmt::format("converged: the largest parameter change {:.3g} is within "
                               "parameter_tolerance {:g} x (max |x| + parameter_tolerance)",
                               step_norm, options.parameter_tolerance));
    }
    const bool go_on = !callback || callback(k, cost, std::span<const double>(x.data(), n));
    if (done) return finish(done->first, std::move(done->second));
    if (!go_on)
      return finish(LbfgsTermination::kUserStopped,
                    fmt::format("stopped by the callback after iteration {}", k));
  }
}

}  // namespace parafit
