// parafit/problem.h — a least-squares problem: data, model, weights, fixed parameters, bounds.
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "parafit/context.h"
#include "parafit/loss.h"
#include "parafit/model.h"

namespace parafit {

struct ParameterBounds {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
};

// Minimise sum_i rho(w_i * (y_i - f(x_i; theta))^2) over the free parameters of theta: the
// weighted residual sum of squares for the squared loss (the default), else a robust loss
// (parafit/loss.h).
// The problem does not own its data: the spans must outlive it.
struct Problem {
  const Model* model = nullptr;
  std::vector<std::span<const double>> inputs;  // model->num_inputs() columns, each rows() long
  std::span<const double> y;
  std::span<const double> weights;       // empty: every weight is 1
  std::vector<bool> fixed;               // empty, or one flag per parameter (true: held at start)
  std::vector<ParameterBounds> bounds;   // empty, or one box per parameter
  Loss loss;                             // rho of each row's w r^2
  // Global index of the first row, when these rows are one rank's shard of the data (for messages).
  std::size_t first_row = 0;

  std::size_t rows() const { return y.size(); }
  bool is_fixed(std::size_t j) const { return !fixed.empty() && fixed[j]; }
  ParameterBounds bounds_of(std::size_t j) const { return bounds.empty() ? ParameterBounds{} : bounds[j]; }
  // Indices of the parameters that are not fixed, in order.
  std::vector<std::size_t> free_parameters() const;

  // Throws parafit::Error if the parts do not fit together: sizes, negative or non-finite weights
  // (naming the row), empty bounds (lower > upper), fewer rows with non-zero weight than free
  // parameters. The rows are counted over all ranks of ctx: on every rank, or on none, it throws.
  void validate(const Context& ctx = {}) const;
  // Throws parafit::Error if theta has the wrong size, a non-finite value, or lies outside bounds
  // (naming the parameter). `what` says where theta came from, e.g. "start value".
  void check_parameters(std::span<const double> theta, const std::string& what) const;
};

}  // namespace parafit
