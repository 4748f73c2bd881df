// train/objective.h — what the trainer asks of a model: gradients of the squared error over rows,
// folded row by row in the order given.
//
// The trainer hands each stratum's rows to a worker in draw order; the worker adds every row's
// contribution to the stratum's accumulator in that order and continues the loss fold from the
// value passed in. Because nothing is summed in any other order, splitting a stratum's rows over
// several calls (micro-batches, tiles) gives the same bits as one call.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace parafit::detail {

// A gradient sum in the model's own precision (float for a float32 MLP).
class GradientAccumulator {
 public:
  virtual ~GradientAccumulator() = default;
  virtual void zero() = 0;
  // out[j] = the accumulated value j, converted exactly to double (and + 0.0: never -0.0, see
  // strata_tree.h), leaving the accumulator at zero for the next pass — one sweep for both.
  virtual void take(std::span<double> out) = 0;
};

// One per thread.
class TrainWorker {
 public:
  virtual ~TrainWorker() = default;
  // The parameters for the next calls (converted once to the model's precision).
  virtual void set_parameters(std::span<const double> theta) = 0;
  // For the local rows `rows`, in order: acc += r_i * d f(x_i)/d theta with r_i = f(x_i) - y_i.
  // Returns loss + r_1^2 + r_2^2 + ... folded in that order, in double.
  virtual double accumulate(std::span<const std::size_t> rows, GradientAccumulator& acc, double loss) = 0;
  // The same loss fold without the gradient.
  virtual double loss(std::span<const std::size_t> rows, double loss) = 0;
};

class TrainObjective {
 public:
  virtual ~TrainObjective() = default;
  virtual std::size_t num_parameters() const = 0;
  virtual std::unique_ptr<GradientAccumulator> make_accumulator() const = 0;
  virtual std::unique_ptr<TrainWorker> make_worker() const = 0;
  // Factor from the internal squared error to response units (an MLP trains on a standardised
  // response: its y_scale^2).
  virtual double loss_scale() const { return 1.0; }
};

}  // namespace parafit::detail
