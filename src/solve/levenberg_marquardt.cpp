#include "parafit/levenberg_marquardt.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "parafit/error.h"
#include "solve/nonfinite_row.h"
#include "solve/damped_step.h"
#include "solve/lm_rules.h"
#include "solve/normal_equations.h"
#include "solve/rank_deficiency.h"

namespace parafit {

using detail::kNegligibleEffect;

bool LevenbergMarquardtOptions::IsValid(std::string* why) const {
  auto fail = [&](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  if (max_iterations < 1) return fail("max_iterations must be at least 1");
  if (!(function_tolerance >= 0)) return fail("function_tolerance must be >= 0");
  if (!(gradient_tolerance >= 0)) return fail("gradient_tolerance must be >= 0");
  if (!(parameter_tolerance >= 0)) return fail("parameter_tolerance must be >= 0");
  if (!(initial_damping > 0) || !std::isfinite(initial_damping))
    return fail("initial_damping must be finite and > 0");
  if (!(max_damping > initial_damping)) return fail("max_damping must exceed initial_damping");
  if (!(min_relative_decrease >= 0 && min_relative_decrease < 1))
    return fail("min_relative_decrease must lie in [0, 1)");
  if (!(flat_region_threshold >= 0 && flat_region_threshold < 1))
    return fail("flat_region_threshold must lie in [0, 1)");
  return true;
}

std::string LevenbergMarquardtSummary::BriefReport() const {
  return fmt::format("Levenberg-Marquardt: {} after {} iterations ({} accepted); RSS {:.6g} -> {:.6g}; {}",
                     IsSolutionUsable() ? "converged" : "NOT converged", iterations,
                     accepted_iterations, initial_rss, final_rss, to_string(termination));
}

std::string LevenbergMarquardtSummary::FullReport() const {
  std::string out = "Levenberg-Marquardt report\n";
  out += fmt::format("  termination            {} ({})\n", to_string(termination),
                     IsSolutionUsable() ? "converged" : "not converged");
  out += fmt::format("  message                {}\n", message);
  out += fmt::format("  iterations             {} ({} accepted)\n", iterations, accepted_iterations);
  out += fmt::format("  function evaluations   {}\n", function_evaluations);
  out += fmt::format("  jacobian evaluations   {}\n", jacobian_evaluations);
  out += fmt::format("  initial RSS            {:.10g}\n", initial_rss);
  out += fmt::format("  final RSS              {:.10g}\n", final_rss);
  out += fmt::format("  max gradient cosine    {:.3g}\n", max_gradient_cosine);
  out += fmt::format("  time                   {:.3f} s\n", seconds);
  for (const auto& a : attempts) out += fmt::format("  {}\n", a);
  return out;
}

LevenbergMarquardt::LevenbergMarquardt(const Problem& problem,
                                       const LevenbergMarquardtOptions& options,
                                       const Context& context)
    : problem_(problem), options_(options), context_(context) {
  std::string why;
  if (!options_.IsValid(&why)) throw Error("invalid solver options: " + why);
  problem_.validate(context_);
  free_ = problem_.free_parameters();
}

void LevenbergMarquardt::Evaluate(const std::vector<double>& theta, double& rss,
                                  Eigen::VectorXd& g, Eigen::MatrixXd& H) {
  detail::NormalEquations ne =
      detail::accumulate_normal_equations(problem_, context_, theta, free_);
  ++summary_.function_evaluations;
  ++summary_.jacobian_evaluations;
  rss = ne.rss;
  g = std::move(ne.g);
  H = std::move(ne.H);
}

// Parameters on a bound whose gradient points out of the box take no part in the next step.
std::vector<bool> LevenbergMarquardt::ActiveBounds(const std::vector<double>& theta,
                                                   const Eigen::VectorXd& g) const {
  std::vector<bool> active(free_.size(), false);
  for (std::size_t a = 0; a < free_.size(); ++a) {
    const ParameterBounds b = problem_.bounds_of(free_[a]);
    const double t = theta[free_[a]];
    // The descent direction of the RSS is +g (g = J^T W r).
    active[a] = (t <= b.lower && g(Eigen::Index(a)) <= 0) || (t >= b.upper && g(Eigen::Index(a)) >= 0);
  }
  return active;
}

double LevenbergMarquardt::GradientCosine(const Eigen::VectorXd& g, const Eigen::MatrixXd& H,
                                          double rss, const std::vector<bool>& active) const {
  if (!(rss > 0)) return 0.0;  // a perfect fit: the gradient is zero
  double worst = 0.0;
  for (Eigen::Index a = 0; a < g.size(); ++a) {
    if (active[std::size_t(a)] || !(H(a, a) > 0)) continue;
    worst = std::max(worst, std::abs(g(a)) / std::sqrt(H(a, a) * rss));
  }
  return worst;
}

// A parameter has lost its influence when its Jacobian column has collapsed against the largest
// it has been on the way AND moving it by its whole value would change the fitted values by far
// less than the residuals' size. (The first alone also fires in valleys whose scale changes by
// many orders of magnitude, such as NIST's MGH10; the second alone fires for a parameter at 0.)
std::optional<std::size_t> LevenbergMarquardt::FlatParameter() const {
  for (Eigen::Index a = 0; a < H_.rows(); ++a) {
    const std::size_t j = free_[std::size_t(a)];
    const bool collapsed = !(H_(a, a) > options_.flat_region_threshold * scale2_(a));
    const bool negligible = std::abs(theta_[j]) * std::sqrt(std::max(H_(a, a), 0.0)) <=
                            kNegligibleEffect * std::sqrt(rss_);
    if (collapsed && negligible) return j;
  }
  return std::nullopt;
}

std::optional<std::string> LevenbergMarquardt::SingularGradient(const std::vector<bool>& active) const {
  std::vector<Eigen::Index> est;
  for (std::size_t a = 0; a < free_.size(); ++a)
    if (!active[a]) est.push_back(Eigen::Index(a));
  const Eigen::MatrixXd H = H_(est, est);
  const detail::RankDeficiency rd = detail::rank_deficiency(H);
  if (!rd.deficient()) return std::nullopt;
  std::vector<std::string> names;
  for (const std::size_t a : rd.involved)
    names.push_back("'" + problem_.model->parameter_names()[free_[std::size_t(est[a])]] + "'");
  return fmt::format("singular gradient: J^T W J has rank {} for {} parameters at the estimates; "
                     "{} cannot be told apart (some combination of them leaves the fitted values "
                     "unchanged), so the model is not identifiable from these data: fix a parameter "
                     "or reparameterise",
                     rd.rank, rd.size, fmt::join(names, ", "));
}

void LevenbergMarquardt::Finish(Termination t, std::string message) {
  if (converged(t) && H_.rows() > 0) {
    if (const auto j = FlatParameter()) {
      message = fmt::format("stopped ({}) where parameter '{}' has lost its influence on the model "
                            "(its Jacobian column vanished): a flat region, not a minimum",
                            to_string(t), problem_.model->parameter_names()[*j]);
      t = Termination::kFlatRegion;
    } else if (g_.size() == H_.rows()) {
      if (auto singular = SingularGradient(ActiveBounds(theta_, g_))) {
        message = std::move(*singular);
        t = Termination::kSingularGradient;
      }
    }
  }
  done_ = true;
  summary_.termination = t;
  summary_.message = std::move(message);
  summary_.parameters = theta_;
  summary_.final_rss = rss_;
  summary_.free_parameters = free_;
  summary_.jtwj = H_;
  summary_.jtwr = g_;
  summary_.at_bound.assign(theta_.size(), false);
  if (g_.size() == Eigen::Index(free_.size())) {
    const std::vector<bool> active = ActiveBounds(theta_, g_);
    for (std::size_t a = 0; a < free_.size(); ++a) summary_.at_bound[free_[a]] = active[a];
    summary_.max_gradient_cosine = GradientCosine(g_, H_, rss_, active);
  }
}

bool LevenbergMarquardt::Init(std::span<const double> theta0) {
  problem_.check_parameters(theta0, "start value");
  summary_ = LevenbergMarquardtSummary{};
  theta_.assign(theta0.begin(), theta0.end());
  Evaluate(theta_, rss_, g_, H_);
  summary_.initial_rss = rss_;
  summary_.rss_history = {rss_};
  if (!std::isfinite(rss_) || !g_.allFinite() || !H_.allFinite()) {
    // Say which row and what is wrong there: an undefined model or an overflowing data value is
    // not cured by other starting values.
    const auto bad = detail::first_nonfinite_row(problem_, theta_);
    if (bad) summary_.nonfinite_row = bad->row;
    Finish(Termination::kNonFiniteStart,
           bad ? fmt::format("at data row {}: {}", bad->row + 1, bad->what)
               : "the sums of squares overflow at the starting values although every row's terms "
                 "are finite: the data or the model's values are too large");
    return false;
  }
  // Moré's scaling: D_j^2 is the running maximum of the diagonal of J^T W J. A parameter without
  // influence at the start gets 1, so the damped system stays regular.
  scale2_ = H_.diagonal();
  for (Eigen::Index a = 0; a < scale2_.size(); ++a)
    if (!(scale2_(a) > 0)) scale2_(a) = 1.0;
  lambda_ = options_.initial_damping;
  nu_ = 2.0;
  done_ = false;
  const std::vector<bool> active = ActiveBounds(theta_, g_);
  if (GradientCosine(g_, H_, rss_, active) <= options_.gradient_tolerance) {
    Finish(Termination::kGradientTolerance, "the starting values already satisfy the gradient tolerance");
    return true;
  }
  return true;
}

void LevenbergMarquardt::Trace(double lambda, double step_norm, bool accepted) const {
  if (!options_.on_iteration) return;
  LmIteration it;
  it.run = run_;
  it.iteration = summary_.iterations;
  it.cost = rss_;
  it.lambda = lambda;
  it.step_norm = step_norm;
  it.accepted = accepted;
  // The cost's gradient is -2 g (g = J^T W r over the free parameters).
  for (Eigen::Index a = 0; a < g_.size(); ++a) it.gradient_norm = std::max(it.gradient_norm, 2.0 * std::abs(g_(a)));
  it.parameters = theta_;
  it.names = problem_.model->parameter_names();
  options_.on_iteration(it);
}

bool LevenbergMarquardt::Step() {
  if (done_) return false;
  if (summary_.iterations >= options_.max_iterations) {
    Finish(Termination::kMaxIterations,
           fmt::format("stopped after the maximum of {} iterations without converging",
                       options_.max_iterations));
    return false;
  }
  ++summary_.iterations;
  const std::vector<bool> active = ActiveBounds(theta_, g_);

  // The damped step over the parameters not held at a bound (solve/damped_step.h).
  const std::size_t nq = free_.size();
  std::vector<double> free_theta(nq), lower(nq), upper(nq), free_trial(nq), work(detail::damped_step_work(nq));
  const std::unique_ptr<bool[]> held(new bool[nq]);
  for (std::size_t a = 0; a < nq; ++a) {
    const ParameterBounds b = problem_.bounds_of(free_[a]);
    free_theta[a] = theta_[free_[a]];
    lower[a] = b.lower;
    upper[a] = b.upper;
    held[a] = active[a];
  }
  const detail::DampedStep ds = detail::damped_step(
      {nq, H_.data(), g_.data(), scale2_.data(), held.get(), lambda_, free_theta.data(), lower.data(),
       upper.data()},
      free_trial.data(), work);

  bool accept = false;
  double rho = 0;
  std::vector<double> trial = theta_;
  double rss_trial = 0;
  Eigen::VectorXd g_trial;
  Eigen::MatrixXd H_trial;
  if (ds.solved) {
    for (std::size_t a = 0; a < nq; ++a) trial[free_[a]] = free_trial[a];
    const double predicted = ds.predicted;
    if (ds.scaled_step <= options_.parameter_tolerance * (ds.scaled_theta + options_.parameter_tolerance)) {
      Trace(lambda_, ds.scaled_step, false);
      Finish(Termination::kParameterTolerance,
             fmt::format("the relative step fell below the parameter tolerance {:.1e}",
                         options_.parameter_tolerance));
      return false;
    }
    if (predicted > 0) {
      Evaluate(trial, rss_trial, g_trial, H_trial);
      const double actual = rss_ - rss_trial;
      if (std::isfinite(rss_trial) && g_trial.allFinite() && H_trial.allFinite()) {
        rho = actual / predicted;
        accept = rho > options_.min_relative_decrease;
        if (accept && std::abs(actual) <= options_.function_tolerance * rss_ &&
            predicted <= options_.function_tolerance * rss_ && rho <= 2.0) {
          theta_ = trial;
          rss_ = rss_trial;
          g_ = g_trial;
          H_ = H_trial;
          ++summary_.accepted_iterations;
          summary_.rss_history.push_back(rss_);
          Trace(lambda_, ds.scaled_step, true);
          Finish(Termination::kFunctionTolerance,
                 fmt::format("the relative decrease of the RSS fell below the function tolerance {:.1e}",
                             options_.function_tolerance));
          return false;
        }
      }
    }
  }

  if (accept) {
    theta_ = std::move(trial);
    rss_ = rss_trial;
    g_ = std::move(g_trial);
    H_ = std::move(H_trial);
    ++summary_.accepted_iterations;
    scale2_ = scale2_.cwiseMax(H_.diagonal());
  }
  const double lambda_used = lambda_;
  detail::update_damping(accept, rho, lambda_, nu_);
  summary_.rss_history.push_back(rss_);
  Trace(lambda_used, ds.solved ? ds.scaled_step : 0.0, accept);

  const std::vector<bool> now_active = ActiveBounds(theta_, g_);
  if (GradientCosine(g_, H_, rss_, now_active) <= options_.gradient_tolerance) {
    Finish(Termination::kGradientTolerance,
           fmt::format("the gradient fell below the gradient tolerance {:.1e}",
                       options_.gradient_tolerance));
    return false;
  }
  if (lambda_ > options_.max_damping) {
    Finish(Termination::kNoProgress,
           "no step decreased the residual sum of squares, even with maximal damping");
    return false;
  }
  return true;
}

LevenbergMarquardtSummary LevenbergMarquardt::Run(std::span<const double> theta0) {
  if (Init(theta0)) {
    while (Step()) {
    }
  }
  return summary_;
}

LevenbergMarquardtSummary LevenbergMarquardt::Minimize(std::span<const double> theta0) {
  const auto start = std::chrono::steady_clock::now();
  run_ = 1;
  LevenbergMarquardtSummary best = Run(theta0);
  if (options_.restart_on_failure && !best.IsSolutionUsable() &&
      best.termination != Termination::kNonFiniteStart) {
    // Start again with much heavier damping (solve/lm_rules.h).
    std::vector<std::string> attempts = {
        fmt::format("run 1 (initial damping {:.0e}): {} at RSS {:.10g} after {} iterations",
                    options_.initial_damping, to_string(best.termination), best.final_rss, best.iterations)};
    const LevenbergMarquardtOptions original = options_;
    int evaluations = best.function_evaluations;
    for (const double damping : detail::kRestartDamping) {
      options_ = original;
      options_.initial_damping = damping;
      options_.max_damping = std::max(original.max_damping, damping * 1e3);
      ++run_;
      LevenbergMarquardtSummary retry = Run(theta0);
      evaluations += retry.function_evaluations;
      attempts.push_back(fmt::format("run {} (initial damping {:.0e}): {} at RSS {:.10g} after {} iterations",
                                     attempts.size() + 1, damping, to_string(retry.termination),
                                     retry.final_rss, retry.iterations));
      const bool better = retry.IsSolutionUsable() ||
                          (!best.IsSolutionUsable() && retry.final_rss < best.final_rss);
      if (better) best = std::move(retry);
      if (best.IsSolutionUsable()) break;
    }
    options_ = original;
    best.attempts = std::move(attempts);
    best.function_evaluations = evaluations;
    best.jacobian_evaluations = evaluations;
  }
  summary_ = best;
  summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary_;
}

}  // namespace parafit
