// Helpers for the formula tests: compile a formula over named columns and evaluate it on vectors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/formula.h"

namespace parafit::formula_test {

using Columns = std::map<std::string, std::vector<double>>;

struct Evaluation {
  std::vector<double> f;
  std::vector<double> J;  // column-major, ld = rows
};

// Evaluates a compiled model over `columns` (looked up by the model's input names) in blocks of
// `block` rows; J too when `with_j`.
inline Evaluation evaluate(const CompiledFormula& c, const Columns& columns, const std::vector<double>& theta,
                           std::size_t block = 1u << 30, bool with_j = true) {
  const std::size_t rows = columns.begin()->second.size();
  const std::size_t p = c.model->num_parameters();
  Evaluation e;
  e.f.assign(rows, -12345.0);
  if (with_j) e.J.assign(rows * p, -12345.0);
  std::vector<const double*> in(c.inputs.size());
  for (std::size_t b = 0; b < rows; b += block) {
    const std::size_t n = std::min(block, rows - b);
    for (std::size_t k = 0; k < c.inputs.size(); ++k) in[k] = columns.at(c.inputs[k]).data() + b;
    c.model->evaluate(theta.data(), RowBlock{n, in.data()}, e.f.data() + b, with_j ? e.J.data() + b : nullptr,
                      rows);
  }
  return e;
}

// Relative closeness that treats two NaNs as equal.
inline ::testing::AssertionResult close(double got, double want, double rel = 1e-14) {
  if (std::isnan(got) && std::isnan(want)) return ::testing::AssertionSuccess();
  if (got == want) return ::testing::AssertionSuccess();
  if (std::abs(got - want) <= rel * std::max(1.0, std::abs(want))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (difference " << got - want
                                       << ")";
}

// The message compile_formula throws, or "" if it compiles.
inline std::string error_of(const FormulaSpec& spec) {
  try {
    compile_formula(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace parafit::formula_test
