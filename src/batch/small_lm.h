// batch/small_lm.h — one small fit's Levenberg-Marquardt, turned inside out for batches.
//
// The rules are LevenbergMarquardt's (solve/levenberg_marquardt.cpp), step for step: Moré's
// scaling, the damped system solved by LDLT in the scaled variables, steps clamped into the bounds,
// the function/gradient/parameter tolerances, Nielsen's damping update, and the flat-region and
// singular verdicts. What differs is who evaluates: the solver never calls the model. It says where
// it wants the cost and its normal equations (trial()), and the batch engine feeds them back
// (feed_sums(), then take_step()) after evaluating many fits together. Its matrices have a fixed capacity
// (kMaxBatchParameters), so a fit allocates nothing and formats no message.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <span>

#include "parafit/batch.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/termination.h"
#include "solve/damped_step.h"

namespace parafit::detail {

using SmallMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, int(kMaxBatchParameters),
                                  int(kMaxBatchParameters)>;
using SmallVector = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, int(kMaxBatchParameters), 1>;

// The cost and its normal equations over the free parameters at one point.
struct SmallSums {
  double cost = 0;
  SmallVector g;  // J^T W r (least squares) or its Poisson counterpart: minus half the cost's gradient
  SmallMatrix H;  // J^T W J, or the Poisson Fisher information; half the cost's Hessian model
  bool finite() const { return std::isfinite(cost) && g.allFinite() && H.allFinite(); }
};

// What every fit of a batch shares.
struct SmallLmSetup {
  LevenbergMarquardtOptions options;
  std::span<const std::size_t> free;         // the free parameters' indices
  std::span<const ParameterBounds> bounds;   // one per parameter
  bool bounded = true;  // false when no free parameter has a finite bound: none is ever held
  // The sums come from float arithmetic (float32 batches): a refused step whose predicted and
  // actual changes are both within the function tolerance ends the fit, converged.
  bool rounded_cost = false;
};

class SmallLm {
 public:
  // Starts a run at theta0 (all parameters) with this initial and maximal damping: it then wants
  // the sums at trial() (= theta0).
  void start(const SmallLmSetup& setup, std::span<const double> theta0, double initial_damping, double max_damping);
  // Where it wants the next evaluation (all parameters).
  std::span<const double> trial() const { return {trial_.data(), std::size_t(trial_.size())}; }
  // The sums at trial() in two halves, so that an engine may take the damped steps of many fits
  // at once (batch/lane_step.h) or one by one (solve/damped_step.h): feed_sums() says whether a
  // damped step is wanted (kStep) or the run has ended (kDone); the step is then taken from
  // step_input() and handed to take_step(), which says whether the trial wants an evaluation
  // (kEvaluate), another step (kStep), or the run has ended.
  enum class Next { kStep, kEvaluate, kDone };
  Next feed_sums(const SmallSums& sums);
  // The damped step's input for this fit: the caller's arrays of q values (free parameters).
  DampedStepInput step_input(bool* held, double* theta, double* lower, double* upper) const;
  Next take_step(const DampedStep& step, const double* free_trial);

  bool done() const { return done_; }
  Termination termination() const { return termination_; }
  int iterations() const { return iterations_; }
  double cost() const { return cost_; }
  std::span<const double> theta() const { return {theta_.data(), std::size_t(theta_.size())}; }
  const SmallMatrix& H() const { return H_; }
  const SmallVector& g() const { return g_; }
  // Per free parameter: on a bound with the gradient pointing out of the box.
  bool at_bound(Eigen::Index a) const;
  double gradient_cosine() const;
  // After a converged verdict of full rank: the diagonal of H's inverse over the parameters off
  // their bounds (solve/spd_inverse.h, `fit`'s covariance), in their order; null otherwise.
  const SmallVector* inverse_diagonal() const { return inverse_known_ ? &inverse_diagonal_ : nullptr; }

 private:
  Next begin_step();  // counts the iteration, or ends the run at the limit
  bool after_step(bool accepted, double rho);
  void finish(Termination t);
  bool active(Eigen::Index a, const SmallVector& g) const;
  double cosine(const SmallVector& g, const SmallMatrix& H, double cost) const;

  const SmallLmSetup* setup_ = nullptr;
  double max_damping_ = 0;
  SmallVector theta_, trial_;  // all parameters
  double cost_ = 0, predicted_ = 0;
  SmallVector g_, scale2_;
  SmallMatrix H_;
  double lambda_ = 0, nu_ = 2;
  int iterations_ = 0;
  bool inverse_known_ = false;
  SmallVector inverse_diagonal_;
  bool started_ = false, done_ = true;
  Termination termination_ = Termination::kMaxIterations;
};

}  // namespace parafit::detail
