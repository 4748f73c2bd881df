// parafit/levenberg_marquardt.h — the Levenberg–Marquardt least-squares solver.
//
//   Options      every default written where it is declared, plus IsValid()
//   Summary      why it stopped, how much work it took, reports, IsSolutionUsable()
//   Solver       step-wise (Init, Step) or all at once (Minimize)
//
// The solver streams the data: each evaluation is one parallel pass that accumulates J^T W J,
// J^T W r and the residual sum of squares over fixed chunks (see context.h); the n x p Jacobian is
// never formed. Every trial point is evaluated with its Jacobian, so an accepted step costs one pass.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parafit/context.h"
#include "parafit/problem.h"
#include "parafit/termination.h"

namespace parafit {

// Termination (parafit/termination.h): the LM rules are kGradientTolerance, kFunctionTolerance and
// kParameterTolerance (converged); kMaxIterations, kNoProgress, kFlatRegion and kSingularGradient
// (not converged: a convergence rule fired but J^T W J is rank-deficient there, see
// solve/rank_deficiency.h); kNonFiniteStart (failed).

// One LM iteration, as `fit --trace` prints it (LevenbergMarquardtOptions::on_iteration).
struct LmIteration {
  int run = 1;                 // 1: the first run; 2, 3: Minimize's restarts
  int iteration = 0;           // trial steps of this run so far (1-based)
  double cost = 0;             // at the point kept: the RSS, or sum rho for a robust loss
  double lambda = 0;           // the damping this step was taken with
  double step_norm = 0;        // its scaled length ||D delta|| (0 when the damped system was refused)
  double gradient_norm = 0;    // max_j |d cost / d theta_j| over the free parameters, at the point kept
  bool accepted = false;       // the step was taken
  std::vector<double> parameters;  // all parameters, at the point kept
  std::span<const std::string> names;  // the parameters' names (the model's; valid during the call only)
};

struct LevenbergMarquardtOptions {
  // Iterations (trial steps, accepted or not) before giving up. Most fits need fewer than 50; a few
  // hard problems in long curved valleys (NIST's MGH10 from its first start) need thousands.
  int max_iterations = 10000;
  // Converged when an accepted step's actual and predicted decrease of the residual sum of squares
  // are both at most this fraction of it (MINPACK's ftol).
  double function_tolerance = 1e-15;
  // Converged when max_j |J_j^T W r| / (||J_j||_W ||r||_W) <= this: the residual is orthogonal to
  // every Jacobian column to this cosine (MINPACK's gtol; scale-free).
  double gradient_tolerance = 1e-10;
  // Converged when the scaled step ||D delta|| <= this * (||D theta|| + this) (MINPACK's xtol).
  double parameter_tolerance = 1e-10;
  // Starting damping lambda, relative to the scaled diagonal of J^T W J.
  double initial_damping = 1e-3;
  // Stop (no progress) when lambda exceeds this without finding a decrease.
  double max_damping = 1e32;
  // A step is accepted when actual/predicted decrease exceeds this.
  double min_relative_decrease = 1e-4;
  // A parameter whose J^T W J diagonal has fallen below this fraction of the largest it has been
  // has lost its influence: if the solver stops there, it is on a plateau (kFlatRegion).
  double flat_region_threshold = 1e-20;
  // When a run does not converge (or stops on a plateau), Minimize restarts from the start with
  // more cautious damping, as an analyst would, and keeps the first run that converges.
  bool restart_on_failure = true;
  // Called after every iteration (accepted or not) with what it did, on every rank alike (the
  // numbers are global); null: nothing is called. For progress and traces; it must not throw.
  std::function<void(const LmIteration&)> on_iteration;

  // True if every option is in range; otherwise false and *why (if given) says which is not.
  bool IsValid(std::string* why = nullptr) const;
};

struct LevenbergMarquardtSummary {
  Termination termination = Termination::kMaxIterations;
  std::string message;                 // one sentence on why it stopped
  int iterations = 0;                  // trial steps taken
  int accepted_iterations = 0;         // of which accepted
  int function_evaluations = 0;        // passes over the data computing f
  int jacobian_evaluations = 0;        // of which also computed J (all of them, here)
  double initial_rss = 0;              // residual sum of squares at the start
  double final_rss = 0;                // ... at the returned parameters
  std::vector<double> rss_history;     // RSS at the start and after each iteration
  double max_gradient_cosine = 0;      // the gradient measure at the returned parameters
  double seconds = 0;                  // wall time of the solve
  std::vector<std::string> attempts;   // one line per run when Minimize had to restart
  // kNonFiniteStart: the first row (global, 0-based) of this process's rows where a term of the
  // sums is not finite, named in the message; empty when none of its rows is (only the sum
  // overflows, or another rank holds the row).
  std::optional<std::size_t> nonfinite_row;

  std::vector<double> parameters;      // all parameters (fixed ones at their given values)
  std::vector<std::size_t> free_parameters;  // indices of the parameters that were fitted
  std::vector<bool> at_bound;          // per parameter: lies on a bound with the gradient outward
  Eigen::MatrixXd jtwj;                // J^T W J over free_parameters at the returned parameters
  Eigen::VectorXd jtwr;                // J^T W r over free_parameters at the returned parameters

  bool IsSolutionUsable() const { return converged(termination); }
  std::string BriefReport() const;
  std::string FullReport() const;
};

class LevenbergMarquardt {
 public:
  // Throws parafit::Error if the problem or the options are invalid.
  LevenbergMarquardt(const Problem& problem, const LevenbergMarquardtOptions& options = {},
                     const Context& context = {});

  // Starts at theta0 (checked against bounds). Returns false when the start is unusable
  // (Termination::kNonFiniteStart; see summary().message).
  bool Init(std::span<const double> theta0);
  // One trial step. Returns true while the solver should go on.
  bool Step();
  // Init + Step until done; restarts with cautious damping if that fails (restart_on_failure).
  LevenbergMarquardtSummary Minimize(std::span<const double> theta0);

  const LevenbergMarquardtSummary& summary() const { return summary_; }

 private:
  void Evaluate(const std::vector<double>& theta, double& rss, Eigen::VectorXd& g, Eigen::MatrixXd& H);
  double GradientCosine(const Eigen::VectorXd& g, const Eigen::MatrixXd& H, double rss,
                        const std::vector<bool>& active) const;
  std::vector<bool> ActiveBounds(const std::vector<double>& theta, const Eigen::VectorXd& g) const;
  void Finish(Termination t, std::string message);
  // Tells options_.on_iteration what this iteration did (the step taken with `lambda`).
  void Trace(double lambda, double step_norm, bool accepted) const;
  LevenbergMarquardtSummary Run(std::span<const double> theta0);
  // The first free parameter that has lost its influence, if any.
  std::optional<std::size_t> FlatParameter() const;
  // When J^T W J over the parameters not held at a bound is rank-deficient: the message naming
  // the parameters that its null space moves.
  std::optional<std::string> SingularGradient(const std::vector<bool>& active) const;

  const Problem& problem_;
  LevenbergMarquardtOptions options_;
  Context context_;
  std::vector<std::size_t> free_;
  std::vector<double> theta_;
  double rss_ = 0;
  Eigen::VectorXd g_;
  Eigen::MatrixXd H_;
  Eigen::VectorXd scale2_;  // D^2: Moré's running max of diag(H)
  double lambda_ = 0;
  double nu_ = 2;
  bool done_ = true;
  int run_ = 1;  // which run of Minimize (for the trace)
  LevenbergMarquardtSummary summary_;
};

}  // namespace parafit
