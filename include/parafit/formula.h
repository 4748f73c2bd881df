// parafit/formula.h — models written as formulas: "b1*(1-exp(-b2*x))", "log(y) ~ b1 - b2*x1*exp(-b3*x2)".
//
// A formula is parsed once and compiled into a tape that is evaluated over blocks of rows with exact
// first derivatives by forward-mode automatic differentiation (no finite differences anywhere).
//
// Language: + - * / ^ ** (power, right-associative, binding tighter than unary minus: -x^2 = -(x^2)),
// unary minus and plus, ( ) and [ ] for grouping, numbers (1, 1.5, .5, 1e-3, 2.5E+02), functions
// exp log (natural) log10 log2 sqrt cbrt abs sin cos tan asin acos atan sinh cosh tanh erf erfc
// (one argument), atan2 pow min max hypot (two arguments), constants pi and e.
// Names that are data columns are variables; every other name is a parameter, in order of first
// appearance unless FormulaSpec::parameters lists them. An optional response side "lhs ~ rhs"
// fits a transformed response lhs(columns) = rhs(columns; parameters).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parafit/model.h"

namespace parafit {

struct FormulaSpec {
  std::string text;                      // the formula as the user wrote it
  std::vector<std::string> columns;      // names of the data columns available
  // Explicit parameter names, in order (--params). Empty: every name that is not a column, in
  // order of first appearance. When given, every non-column name must be listed, and a listed
  // name that is also a column is an error.
  std::vector<std::string> parameters;
  // Explicit input columns, in order (--x). Empty: the columns the right-hand side names, in order
  // of first appearance. When given, each must be a column, and the model reads exactly these
  // columns in this order (a listed column the formula does not use is an error).
  std::vector<std::string> inputs;
};

struct CompiledFormula {
  std::shared_ptr<const Model> model;    // the right-hand side; reads `inputs` in this order
  std::vector<std::string> inputs;       // input columns of the model
  // The left-hand side, if the formula has one ("log(y)"); empty otherwise.
  std::string response_text;
  std::vector<std::string> response_columns;  // columns the left-hand side reads, in order
  // Evaluates the left-hand side over a block whose inputs are `response_columns`:
  // out[i] = lhs(row i). Empty std::function when there is no left-hand side.
  std::function<void(const RowBlock& block, double* out)> response;
};

// Parses and compiles. Throws parafit::Error for a bad formula with a message that shows the formula
// with a caret under the fault:
//   formula error: unknown function 'exq' (did you mean 'exp'?)
//     b1*exq(-b2*x)
//        ^
CompiledFormula compile_formula(const FormulaSpec& spec);

// True if `text` is meant as a formula rather than a built-in model name. Built-in names are made
// only of letters, digits, '_', ':' and '-' ("exp-decay", "poly:3"); any other character (an
// operator, a parenthesis, a bracket, a blank, '~', ...) makes it a formula ("a*exp(-b*x)").
bool looks_like_formula(const std::string& text);

}  // namespace parafit
