// solve/nonfinite_row.h — why the least-squares sums are not finite: the first data row where the
// model, one of its derivatives or a weighted square is not finite, and which of them. Serial and
// only for messages (the hot kernel never checks per row).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "parafit/problem.h"

namespace parafit::detail {

struct NonFiniteRow {
  std::size_t row = 0;   // global 0-based row (problem.first_row + local row)
  // What is wrong there, saying whether the model or the data value is at fault, in words that
  // follow "at data row N: ", e.g. "the model is undefined there (its value is -inf)".
  std::string what;
};

// The first row where w r^2, w r J_j or w J_j J_k is not finite at theta, or nullopt if every
// row's terms are finite (then only their sum overflows).
std::optional<NonFiniteRow> first_nonfinite_row(const Problem& problem, std::span<const double> theta);

}  // namespace parafit::detail
