// Checks shared by the step optimizers (sgd.cpp, adam.cpp): step() arguments and set_state().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "parafit/optimizer.h"

namespace parafit::detail {

// Throws parafit::Error unless params and grad have n elements each, do not overlap, and lr is
// finite and >= 0.
void check_step_arguments(std::string_view optimizer, std::size_t n, std::span<const double> params,
                          std::span<const double> grad, double lr);

// One entry set_state() expects: "step" holds one whole number; the others hold `size` finite
// values, >= 0 if `nonnegative`.
struct ExpectedStateEntry {
  std::string_view name;
  bool nonnegative = false;
};

// Validates `state` against the entries "step" + `moments` (exactly these names, any order, each
// once; every moment of n values) and returns the step count and, in the order of `moments`, a
// pointer to each moment's values. Throws parafit::Error naming the optimizer and the first problem.
struct CheckedState {
  std::uint64_t step = 0;
  std::vector<const std::vector<double>*> moments;
};
CheckedState check_state(std::string_view optimizer, std::size_t n, const OptimizerState& state,
                         std::span<const ExpectedStateEntry> moments);

}  // namespace parafit::detail
