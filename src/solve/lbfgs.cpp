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

struct LbfgsSolver::State {
  State(const Objective& f, std::size_t n, const LbfgsOptions& options)
      : f(f),
        options(options),
        n(n),
        x(n),
        g(n),
        d(n),
        x_old(n),
        memory(n, static_cast<std::size_t>(options.memory)),
        line_search(f, n, options) {}

  const Objective& f;
  LbfgsOptions options;
  std::size_t n;
  std::vector<double> x, g, d, x_old;
  double cost = 0, gnorm = 0;
  int k = 0;  // iterations begun
  bool done = true;
  PairMemory memory;
  detail::StrongWolfeLineSearch line_search;
  LbfgsSummary summary;
  std::chrono::steady_clock::time_point start_time;

  bool finish(Termination t, std::string message) {
    summary.termination = t;
    summary.message = std::move(message);
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
    done = true;
    return false;
  }
  bool gradient_converged() const { return gnorm <= options.gradient_tolerance * std::max(1.0, std::abs(cost)); }
  std::string gradient_message() const {
    return fmt::format("converged: the largest gradient component {:.3g} is within gradient_tolerance "
                       "{:g} x max(1, |cost|)",
                       gnorm, options.gradient_tolerance);
  }
};

LbfgsSolver::LbfgsSolver(const Objective& f, std::size_t n, const LbfgsOptions& options) {
  std::string why;
  if (!options.IsValid(&why)) throw Error("invalid L-BFGS options: " + why);
  if (n == 0) throw Error("L-BFGS: there are no parameters to optimize");
  s_ = std::make_unique<State>(f, n, options);
}

LbfgsSolver::~LbfgsSolver() = default;

std::span<const double> LbfgsSolver::x() const { return s_->x; }
double LbfgsSolver::cost() const { return s_->cost; }
bool LbfgsSolver::done() const { return s_->done; }
const LbfgsSummary& LbfgsSolver::summary() const { return s_->summary; }

bool LbfgsSolver::Init(std::span<const double> x0) {
  State& s = *s_;
  if (x0.size() != s.n) throw Error(fmt::format("L-BFGS: {} starting values for {} parameters", x0.size(), s.n));
  s.start_time = std::chrono::steady_clock::now();
  s.summary = LbfgsSummary{};
  s.memory.clear();
  s.k = 0;
  s.done = false;
  std::copy(x0.begin(), x0.end(), s.x.begin());
  s.cost = s.f(std::span<const double>(s.x), std::span<double>(s.g));
  s.summary.evaluations = 1;
  s.summary.initial_cost = s.summary.final_cost = s.cost;
  s.summary.cost_history = {s.cost};
  if (!std::isfinite(s.cost) || !std::all_of(s.g.begin(), s.g.end(), [](double v) { return std::isfinite(v); }))
    return s.finish(Termination::kNonFiniteStart,
                    fmt::format("failed: the cost ({}) or the gradient is not finite at the starting point", s.cost));
  s.gnorm = max_abs(s.g);
  s.summary.gradient_norm = s.gnorm;
  if (s.gradient_converged()) return s.finish(Termination::kGradientTolerance, s.gradient_message());
  return true;
}

bool LbfgsSolver::Step() {
  State& s = *s_;
  if (s.done) return false;
  const std::size_t n = s.n;
  const int k = ++s.k;
  LbfgsSummary& summary = s.summary;
  if (k > s.options.max_iterations)
    return s.finish(Termination::kMaxIterations,
                    fmt::format("not converged: reached max_iterations ({}) with the largest gradient "
                                "component at {:.3g}",
                                s.options.max_iterations, s.gnorm));
  // The direction: quasi-Newton if there are pairs and it descends, else steepest descent.
  bool quasi_newton = s.memory.size() > 0;
  double slope = 0;
  if (quasi_newton) {
    s.memory.Direction(s.g, s.d);
    slope = detail::fixed_order_dot(s.g, s.d);
    if (!(slope < 0)) {  // only through rounding: H is positive definite
      s.memory.clear();
      ++summary.restarts;
      quasi_newton = false;
    }
  }
  auto steepest_descent = [&] {
    for (std::size_t i = 0; i < n; ++i) s.d[i] = -s.g[i];
    slope = -detail::fixed_order_dot(s.g, s.g);
  };
  // A steepest-descent trial moves no parameter by more than 1.
  const double sd_alpha = std::min(1.0, 1.0 / s.gnorm);
  if (!quasi_newton) steepest_descent();
  const std::span<const double> xc(s.x.data(), n);
  detail::LineSearchResult ls = s.line_search.Search(xc, s.cost, s.d, slope, quasi_newton ? 1.0 : sd_alpha);
  summary.evaluations += ls.evaluations;
  if (!ls.found && quasi_newton) {
    s.memory.clear();
    ++summary.restarts;
    quasi_newton = false;
    steepest_descent();
    ls = s.line_search.Search(xc, s.cost, s.d, slope, sd_alpha);
    summary.evaluations += ls.evaluations;
  }
  if (!ls.found)
    return s.finish(Termination::kLineSearchFailed,
                    fmt::format("not converged: no step along the search direction or the steepest "
                                "descent decreased the cost sufficiently within {} evaluations each; the gradient "
                                "may be inconsistent with the cost, or the cost at its rounding floor "
                                "(largest gradient component {:.3g})",
                                s.options.max_line_search_evaluations, s.gnorm));

  // Accept the step.
  if (!s.memory.Push(xc, s.line_search.x_best(), s.g, s.line_search.g_best())) ++summary.skipped_updates;
  std::copy(s.x.begin(), s.x.end(), s.x_old.begin());
  const double x_scale = max_abs(s.x_old);
  std::copy(s.line_search.x_best().begin(), s.line_search.x_best().end(), s.x.begin());
  std::copy(s.line_search.g_best().begin(), s.line_search.g_best().end(), s.g.begin());
  double step_norm = 0;
  for (std::size_t i = 0; i < n; ++i) step_norm = std::max(step_norm, std::abs(s.x[i] - s.x_old[i]));
  const double old_cost = s.cost;
  s.cost = ls.cost;
  s.gnorm = max_abs(s.g);
  summary.iterations = k;
  summary.final_cost = s.cost;
  summary.gradient_norm = s.gnorm;
  summary.cost_history.push_back(s.cost);

  const double decrease = old_cost - s.cost;
  if (s.gradient_converged()) return s.finish(Termination::kGradientTolerance, s.gradient_message());
  if (quasi_newton && decrease < s.options.function_tolerance * std::max(std::abs(old_cost), std::abs(s.cost)))
    return s.finish(Termination::kFunctionTolerance,
                    fmt::format("converged: the cost decreased by {:.3g} of itself, less than "
                                "function_tolerance {:g}",
                                decrease / std::max(std::abs(old_cost), std::abs(s.cost)),
                                s.options.function_tolerance));
  if (quasi_newton && step_norm <= s.options.parameter_tolerance * (x_scale + s.options.parameter_tolerance))
    return s.finish(Termination::kParameterTolerance,
                    fmt::format("converged: the largest parameter change {:.3g} is within "
                                "parameter_tolerance {:g} x (max |x| + parameter_tolerance)",
                                step_norm, s.options.parameter_tolerance));
  return true;
}

void LbfgsSolver::Stop(std::string message) {
  if (!s_->done) s_->finish(Termination::kUserStopped, std::move(message));
}

LbfgsSummary LbfgsSolver::Minimize(std::span<const double> x0) {
  if (Init(x0))
    while (Step()) {
    }
  return s_->summary;
}

LbfgsSummary lbfgs_minimize(const Objective& f, std::span<double> x, const LbfgsOptions& options,
                            const LbfgsCallback& callback) {
  LbfgsSolver solver(f, x.size(), options);
  // x follows the solver's iterate, also when the objective or the callback throws.
  struct CopyBack {
    LbfgsSolver& solver;
    std::span<double> x;
    ~CopyBack() { std::copy(solver.x().begin(), solver.x().end(), x.begin()); }
  } copy_back{solver, x};
  if (!solver.Init(x)) return solver.summary();
  for (;;) {
    const std::size_t accepted = solver.summary().cost_history.size();
    const bool go_on = solver.Step();
    // The callback sees every iteration that took a step, the converging one included.
    const bool stepped = solver.summary().cost_history.size() > accepted;
    const int k = solver.summary().iterations;
    const bool keep = !stepped || !callback || callback(k, solver.cost(), solver.x());
    if (!go_on) return solver.summary();
    if (!keep) {
      solver.Stop(fmt::format("stopped by the callback after iteration {}", k));
      return solver.summary();
    }
  }
}

}  // namespace parafit
