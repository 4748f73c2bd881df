// batch/batch_sums.h — one fit's cost and normal equations from its model values and Jacobian.
#pragma once

#include <cstddef>
#include <span>

#include "batch/small_lm.h"
#include "parafit/batch.h"

namespace parafit::detail {

// One fit's rows as the sums need them.
struct FitRows {
  std::size_t n = 0;
  const double* y = nullptr;
  const double* w = nullptr;  // null: every weight is 1
  std::size_t stride = 1;     // point i of y, w, f and each J column is at [i * stride]
};

// The cost and the normal equations over the free parameters from f (n values) and J (column
// j at J + j * n * stride, all parameters; stride 1 for least squares):
//   least squares  cost = sum w r^2, g = J^T W r, H = J^T W J (r = y - f);
//   Poisson MLE    cost = 2 sum w (f - y + y log(y / f)), g = sum w (y - f) / f J,
//                  H = sum w / f J J^T (the Fisher information; f must be > 0).
// In both, the cost's gradient is -2 g and 2 H its Hessian model, so LM's rules hold unchanged.
// Least squares takes its sums in exactly `fit`'s order and roundings (so a batch fit follows
// `fit`'s path bit for bit); in the Poisson cost rows of zero weight add nothing, whatever f is.
void batch_sums(Estimator estimator, const FitRows& rows, const double* f, const double* J,
                std::span<const std::size_t> free, SmallSums& out);

}  // namespace parafit::detail
