// train/objective.h — what the trainer asks of a model: the squared error and its gradient over
// rows, as two row kernels (parallel/row_kernel.h) that the strata engine runs.
//
// The gradient kernel's sums are [g_0 .. g_{P-1}, L] with g = sum_i r_i * d f(x_i)/d theta and
// L = sum_i r_i^2, r_i = f(x_i) - y_i (g is the gradient of L/2); the loss kernel's are [L]. A
// worker folds the rows in the order given: each r_i * df/dtheta into g in the model's own
// precision (float for a float32 MLP) and each r_i^2 into L in double. With a robust loss (the
// TrainSpec's), L = sum_i rho(r_i^2) and g = sum_i rho'(r_i^2) r_i * df/dtheta (loss/row_loss.h);
// the squared-error kernel still sums r_i^2, for the final MSE.
#pragma once

#include <cstddef>

#include "parallel/row_kernel.h"

namespace parafit::detail {

class TrainObjective {
 public:
  virtual ~TrainObjective() = default;
  virtual std::size_t num_parameters() const = 0;
  // Sums [gradient (num_parameters() values), loss].
  virtual const RowKernel& gradient() const = 0;
  // Sums [loss].
  virtual const RowKernel& loss() const = 0;
  // Sums [sum r_i^2] whatever the loss (for squared error: the loss kernel itself).
  virtual const RowKernel& squared_error() const = 0;
  // Factor from the internal squared error to response units (an MLP trains on a standardised
  // response: its y_scale^2).
  virtual double loss_scale() const { return 1.0; }
};

}  // namespace parafit::detail
