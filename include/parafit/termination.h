// parafit/termination.h — why a solver or a training run stopped: one vocabulary for
// Levenberg–Marquardt, L-BFGS and training.
#pragma once

namespace parafit {

enum class Termination {
  // Converged (LM, L-BFGS).
  kGradientTolerance,   // the gradient measure fell below gradient_tolerance
  kFunctionTolerance,   // the relative decrease of the cost fell below function_tolerance
  kParameterTolerance,  // the relative step fell below parameter_tolerance
  // Training ran its course.
  kCompleted,           // every epoch run (or, for L-BFGS training, the solver converged)
  kEarlyStopped,        // the validation loss stopped improving; the weights are the best epoch's
  // Stopped without converging.
  kMaxIterations,       // the iteration limit was reached
  kNoProgress,          // LM: the damping grew past max_damping without a decrease
  kFlatRegion,          // LM: stopped where a parameter lost its influence (a plateau)
  kSingularGradient,    // LM: J^T W J is rank-deficient where it stopped: the parameters are not
                        // identifiable there (R's "singular gradient")
  kNotAMinimum,         // LM: a convergence rule fired where the gradient is far from zero (the
                        // steps down leave the model's domain): not a minimum of the RSS
  kLineSearchFailed,    // L-BFGS: no step decreased the cost enough, even along -g
  kNotConverged,        // training by L-BFGS: the solver stopped without converging (its message says why)
  kDiverged,            // training: the loss became non-finite or exploded; the weights are the last good ones
  kUserStopped,         // a callback asked to stop
  kNonFiniteStart,      // the cost or its derivatives are not finite at the start
};

// "gradient tolerance", "completed", "maximum iterations", ...
const char* to_string(Termination t);
// True for the three convergence rules (gradient, function, parameter tolerance).
bool converged(Termination t);

}  // namespace parafit
