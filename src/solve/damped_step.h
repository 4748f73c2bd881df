// solve/damped_step.h — Levenberg-Marquardt's trial step: one definition for `fit`'s solver
// (solve/levenberg_marquardt.cpp) and the batch solver (batch/small_lm.cpp), so that both step
// alike to the bit.
//
// The damped normal equations (H + lambda D^2) delta = g are solved over the free parameters that
// are not held at a bound, in the scaled variables D delta (D^2 = scale2, Moré's scaling), where
// the system is far better conditioned: the scaled matrix D^-1 H D^-1 + lambda I is symmetric
// positive definite for lambda > 0, so LDL^T without pivoting is stable; a pivot that is not
// positive says the damped matrix is numerically indefinite, and the step is refused (the caller
// damps harder). The factorisation is written out rather than taken from Eigen because the batch
// solver takes this step millions of times on 2 to 6 parameters, where a general decomposition's
// set-up costs more than its arithmetic, and because fixed loop orders give the same bits for any
// matrix type the callers hold.
#pragma once

#include <cstddef>
#include <span>

namespace parafit::detail {

struct DampedStepInput {
  std::size_t q = 0;               // free parameters
  const double* H = nullptr;       // q x q, symmetric (J^T W J or the Fisher information)
  const double* g = nullptr;       // q: J^T W r, the descent direction
  const double* scale2 = nullptr;  // q: D^2
  const bool* active = nullptr;    // q: held at a bound, no part in the step
  double lambda = 0;               // the damping
  const double* theta = nullptr;   // q: the free parameters' values
  const double* lower = nullptr;   // q: their bounds
  const double* upper = nullptr;
};

struct DampedStep {
  bool solved = false;      // the damped system was positive definite and its solution finite
  double predicted = 0;     // the linear model's decrease of the cost, 2 g^T s - s^T H s
  double scaled_step = 0;   // |D s|
  double scaled_theta = 0;  // |D theta|
};

// Doubles of workspace damped_step needs for q free parameters.
constexpr std::size_t damped_step_work(std::size_t q) { return q * q + 5 * q; }

// Solves for delta, clamps theta + delta into the bounds (trial, q values) and measures the step
// s = trial - theta actually taken. trial is written only when the system was solved.
DampedStep damped_step(const DampedStepInput& in, double* trial, std::span<double> work);

}  // namespace parafit::detail
