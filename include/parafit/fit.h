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
#include "parafit/model.h"
#include "parafit/problem.h"
#include "parafit/statistics.h"

namespace parafit {

struct FitSpec {
  std::string model;                    // a built-in model name, e.g. "exp-decay" or "poly:2"
  std::vector<std::string> x = {"x"};   // input column(s)
  std::string y = "y";                  // response column
  std::string weights;                  // weights column; empty: unweighted
  // Start values by parameter name. Parameters not named here start at the model's self-start
  // values (computed from the data) — unless every parameter is named, when no self-start is run.
  std::vector<std::pair<std::string, double>> start;
  // Parameters held at the given value.
  std::vector<std::pair<std::string, double>> fix;
  std::vector<std::pair<std::string, ParameterBounds>> bounds;
  LevenbergMarquardtOptions solver;
  double confidence_level = 0.95;
};

struct FitResult {
  std::shared_ptr<const Model> model;
  FitSpec spec;
  std::vector<double> start;          // where the solver started (all parameters)
  std::vector<bool> self_started;     // per parameter: the start came from the self-start rule
  LevenbergMarquardtSummary summary;
  FitStatistics statistics;
};

// Throws parafit::Error for bad input: unknown model, column or parameter name, a parameter both
// fixed and started, bounds that exclude the start, too few rows, ...
FitResult fit(const Dataset& data, const FitSpec& spec, const Context& context = {});

}  // namespace parafit
