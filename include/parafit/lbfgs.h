// parafit/lbfgs.h — full-batch limited-memory BFGS for a smooth cost with a gradient.
//
//   LbfgsOptions      every default written where it is declared, plus IsValid()
//   LbfgsSummary      why it stopped, how much work it took, reports, IsSolutionUsable()
//   LbfgsSolver       step-wise (Init, Step) or all at once (Minimize), like LevenbergMarquardt
//   lbfgs_minimize    minimizes in place, with a callback after every iteration
//
// The search direction comes from the two-loop recursion over the last `memory` curvature pairs
// (s = x_{k+1} - x_k, y = g_{k+1} - g_k) with the initial inverse Hessian gamma I, gamma = s'y/y'y
// of the newest pair (Nocedal & Wright, Numerical Optimization, Algorithm 7.4 and eq. 7.20); the
// step length from a line search for the strong Wolfe conditions
//   cost(x + a d) <= cost(x) + c1 a g'd      and      |g(x + a d)'d| <= c2 |g'd|
// that brackets an acceptable step, then narrows the bracket with safeguarded cubic
// interpolation (quadratic when the cubic has no minimizer, bisection towards the last finite point
// when the far end is not finite; N&W Algorithms 3.5 and 3.6). A pair whose s'y is not safely
// positive (s'y <= 1e-10 ||s|| ||y||, a test independent of the scales of cost and x) is skipped.
// If the line search finds no step with sufficient decrease along a quasi-Newton direction, the
// memory is cleared and the steepest-descent direction tried once before giving up
// (kLineSearchFailed). The first iteration, and any after such a restart, tries a steepest-descent
// step that moves no parameter by more than 1.
//
// Determinism: every quantity is computed in a fixed order from the costs and gradients the
// objective returns (dot products use a fixed 4-lane order, not Eigen's alignment-dependent
// one), there are no threads or random numbers, and the objective is called at a sequence of
// points that depends only on the values it returned. An objective whose result is the same on
// every rank (a deterministic data-parallel reduction) therefore makes every rank take the same
// steps, call it the same number of times, and stop at the same iteration for the same reason.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parafit/termination.h"

namespace parafit {

struct LbfgsOptions {
  // Curvature pairs kept (m). N&W find 3-20 enough in practice; 10 is SciPy's and libLBFGS's
  // default (Ceres uses 20). Costs 2 m n doubles and ~4 m n flops per iteration, nothing next to a
  // full-batch gradient.
  int memory = 10;
  // Iterations (accepted steps) before stopping with kMaxIterations.
  int max_iterations = 1000;
  // Converged when max_i |g_i| <= gradient_tolerance * max(1, |cost|). Relative to the cost
  // (when |cost| > 1) so that scaling the objective does not change the answer; 1e-10 leaves a
  // well-conditioned problem within ~1e-10 / (smallest curvature) of its minimum and is still far
  // above the rounding noise of a gradient of a cost of order 1.
  double gradient_tolerance = 1e-10;
  // Converged when a quasi-Newton step decreases the cost by less than function_tolerance *
  // max(|cost before|, |cost after|); 0 switches this rule off. 1e-12 is ~5000 units of rounding
  // of the cost: a step that gains less is lost in the noise of a sum over many rows, and for
  // training it means progress has stalled. It limits accuracy: near a minimum the decrease is
  // about the cost's excess over the minimum, so stopping here leaves x roughly
  // sqrt(2 function_tolerance |cost| / curvature) from it (1e-5 for a cost of 50 and unit
  // curvature). Set it to 0 to converge on the gradient rule. (Not applied to steepest-descent
  // steps, whose length is a guess. A cost that tends to 0 keeps falling by a large fraction of
  // itself and ends on the gradient rule anyway.)
  double function_tolerance = 1e-12;
  // Converged when a quasi-Newton step changes no parameter by more than parameter_tolerance *
  // (max_i |x_i| + parameter_tolerance); 0: only a step that changes nothing stops. 1e-10: the
  // remaining distance to the minimum is typically within ~10 times the last step (less where
  // convergence is superlinear), so x is then good to ~1e-9 relative. (Not applied to
  // steepest-descent steps.)
  double parameter_tolerance = 1e-10;
  // Objective evaluations one line search may make before it gives up. The first trial (a = 1
  // along a quasi-Newton direction) is accepted in most iterations; 20 allows a bracket to shrink
  // by ~1e-6, or a non-finite region to be backed out of by 2^-20.
  int max_line_search_evaluations = 20;
  // c1: the sufficient-decrease (Armijo) constant. N&W's value: almost any decrease is accepted.
  double sufficient_decrease = 1e-4;
  // c2: the curvature constant of the strong Wolfe conditions, c1 < c2 < 1. 0.9 (N&W's value for
  // quasi-Newton methods) accepts the unit step often; smaller values search more exactly.
  double curvature = 0.9;

  // True if every option is in range; otherwise false and *why (if given) says which is not.
  bool IsValid(std::string* why = nullptr) const;
};

// Termination (parafit/termination.h): the L-BFGS rules are kGradientTolerance (max |g_i| <=
// gradient_tolerance * max(1, |cost|)), kFunctionTolerance (the relative decrease of a quasi-Newton
// step < function_tolerance) and kParameterTolerance (a quasi-Newton step changed no parameter
// beyond the tolerance) — converged; kMaxIterations, kLineSearchFailed (no step with sufficient
// decrease, even along -g) and kUserStopped (the callback returned false) — not converged;
// kNonFiniteStart — the cost or the gradient is not finite at the starting point.

struct LbfgsSummary {
  Termination termination = Termination::kMaxIterations;
  std::string message;              // one sentence on why it stopped
  int iterations = 0;               // accepted steps
  int evaluations = 0;              // calls of the objective (all of them, the first included)
  int skipped_updates = 0;          // curvature pairs skipped (s'y not safely positive)
  int restarts = 0;                 // times the memory was cleared (a failed line search, or a
                                    // direction that did not descend) and -g tried instead
  double initial_cost = 0;          // cost at the start
  double final_cost = 0;            // cost at the returned x
  double gradient_norm = 0;         // max_i |g_i| at the returned x
  std::vector<double> cost_history; // cost at the start and after each iteration
  double seconds = 0;               // wall time (the only field that varies between runs)

  bool IsSolutionUsable() const { return converged(termination); }
  std::string BriefReport() const;
  std::string FullReport() const;
};

// Computes the cost at x and writes the gradient (all of it) into `gradient` (x.size() values).
// Non-finite results are allowed: at the start they stop the solver (kNonFinite), during a line
// search they shorten the step.
using Objective = std::function<double(std::span<const double> x, std::span<double> gradient)>;
// Called after every iteration with its number (1, 2, ...), the cost and the new x; returning false
// stops the solver with kUserStopped (unless that iteration converged).
using LbfgsCallback = std::function<bool(int iteration, double cost, std::span<const double> x)>;

class LbfgsSolver {
 public:
  // Minimizes f over n parameters. Throws parafit::Error if the options are invalid or n is 0.
  // f must outlive the solver.
  LbfgsSolver(const Objective& f, std::size_t n, const LbfgsOptions& options = {});
  ~LbfgsSolver();
  LbfgsSolver(const LbfgsSolver&) = delete;
  LbfgsSolver& operator=(const LbfgsSolver&) = delete;

  // Evaluates the start x0 (x0.size() == n). Returns false when the solver is already done there
  // (a non-finite start, or a start that meets the gradient tolerance; see summary()).
  bool Init(std::span<const double> x0);
  // One iteration: a search direction, a line search, the step. Returns true while the solver
  // should go on; false once a stopping rule holds (summary().termination says which).
  bool Step();
  // Stops the run with kUserStopped, unless it has already stopped.
  void Stop(std::string message);
  // Init, then Step until done.
  LbfgsSummary Minimize(std::span<const double> x0);

  // The last accepted iterate (the start before the first accepted step) and its cost.
  std::span<const double> x() const;
  double cost() const;
  bool done() const;
  const LbfgsSummary& summary() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Minimizes f starting from x; x holds the last accepted iterate on return (the start if none
// was accepted; also if the objective or the callback throws, the exception passing through).
// The callback runs after every iteration, the converging one included.
// Throws parafit::Error if the options are invalid or x is empty.
LbfgsSummary lbfgs_minimize(const Objective& f, std::span<double> x,
                            const LbfgsOptions& options = {}, const LbfgsCallback& callback = {});

}  // namespace parafit
