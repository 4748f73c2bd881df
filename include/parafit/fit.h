// parafit/fit.h — one call from a Dataset to a fitted model with statistics: what `parafit fit`
// does, for C++ users and for tests that must follow the command line's code path.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/loss.h"
#include "parafit/model.h"
#include "parafit/problem.h"
#include "parafit/statistics.h"

namespace parafit {

struct FitSpec {
  // A built-in model name ("exp-decay", "poly:2") or a formula ("b1*(1-exp(-b2*x))",
  // "log(y) ~ b1 - b2*x1*exp(-b3*x2)"); see formula.h.
  std::string model;
  // Input column(s). Empty: "x" for a built-in model; for a formula, every column it names.
  std::vector<std::string> x;
  // Response column, unless a formula has a response side ("log(y) ~ ...").
  std::string y = "y";
  // Formula models only: the parameter names, in order (default: every name that is not a column,
  // in order of first appearance).
  std::vector<std::string> params;
  std::string weights;                  // weights column; empty: unweighted
  // Start values by parameter name. Parameters not named here start at the model's self-start
  // values (computed from the data) — unless every parameter is named, when no self-start is run.
  std::vector<std::pair<std::string, double>> start;
  // Parameters held at the given value.
  std::vector<std::pair<std::string, double>> fix;
  std::vector<std::pair<std::string, ParameterBounds>> bounds;
  LevenbergMarquardtOptions solver;
  double confidence_level = 0.95;
  // The loss of each row's w r^2: least squares (the default) or a robust loss (parafit/loss.h).
  Loss loss;
  // The parameters' intervals: Wald's (estimate -+ t SE), or profile likelihood (R's confint on
  // an nls fit: where the F-based profile t statistic crosses -+ t; stats/profile_intervals.h),
  // at one refit of the other parameters per point of each parameter's profile. Least squares only.
  bool profile_intervals = false;
  // A model given as an object instead of by name (a library user's own Model, a Python
  // function): when set, `model` is only its label, and `x` names its input columns in order ("x"
  // by default). It has whatever self-start rule it implements.
  std::shared_ptr<const Model> custom_model;
};

struct FitResult {
  std::shared_ptr<const Model> model;
  FitSpec spec;
  std::vector<std::string> inputs;    // the input columns the model read, in order
  std::string response;               // the response fitted: a column name or a formula's left side
  std::vector<std::string> response_columns;  // the columns the response is computed from
  std::vector<double> start;          // where the solver started (all parameters)
  std::vector<bool> self_started;     // per parameter: the start came from the self-start rule
  LevenbergMarquardtSummary summary;
  FitStatistics statistics;
};

// Throws parafit::Error for bad input: unknown model, column or parameter name, a parameter both
// fixed and started, bounds that exclude the start, too few rows, ...
FitResult fit(const Dataset& data, const FitSpec& spec, const Context& context = {});

}  // namespace parafit
