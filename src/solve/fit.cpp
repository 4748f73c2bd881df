#include "parafit/fit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "parafit/error.h"

namespace parafit {
namespace {

std::size_t parameter_index(const Model& model, const std::string& name, const char* what) {
  const auto& names = model.parameter_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw Error(fmt::format("{}: model '{}' has no parameter '{}'; its parameters are: {}", what,
                            model.name(), name, fmt::join(names, ", ")));
  return std::size_t(it - names.begin());
}

}  // namespace

FitResult fit(const Dataset& data, const FitSpec& spec, const Context& context) {
  FitResult result;
  result.spec = spec;
  std::shared_ptr<Model> model = make_builtin_model(spec.model);
  result.model = model;
  const std::size_t p = model->num_parameters();

  if (spec.x.size() != model->num_inputs())
    throw Error(fmt::format("model '{}' takes {} input column(s), but {} given with --x",
                            model->name(), model->num_inputs(), spec.x.size()));
  Problem problem;
  problem.model = model.get();
  for (const auto& name : spec.x) problem.inputs.push_back(data.column(name));
  problem.y = data.column(spec.y);
  if (!spec.weights.empty()) problem.weights = data.column(spec.weights);

  std::vector<bool> given(p, false);
  std::vector<double> start(p, 0.0);
  problem.fixed.assign(p, false);
  for (const auto& [name, value] : spec.start) {
    const std::size_t j = parameter_index(*model, name, "--start");
    if (given[j]) throw Error(fmt::format("--start: parameter '{}' given twice", name));
    given[j] = true;
    start[j] = value;
  }
  for (const auto& [name, value] : spec.fix) {
    const std::size_t j = parameter_index(*model, name, "--fix");
    if (problem.fixed[j]) throw Error(fmt::format("--fix: parameter '{}' given twice", name));
    if (given[j])
      throw Error(fmt::format("parameter '{}' is both fixed (--fix) and started (--start); give it once",
                              name));
    given[j] = true;
    problem.fixed[j] = true;
    start[j] = value;
  }
  problem.bounds.assign(p, ParameterBounds{});
  std::vector<bool> bounded(p, false);
  for (const auto& [name, box] : spec.bounds) {
    const std::size_t j = parameter_index(*model, name, "--bounds");
    if (bounded[j]) throw Error(fmt::format("--bounds: parameter '{}' given twice", name));
    bounded[j] = true;
    problem.bounds[j] = box;
  }
  problem.validate();

  result.self_started.assign(p, false);
  if (std::find(given.begin(), given.end(), false) != given.end()) {
    std::vector<std::span<const double>> inputs(problem.inputs.begin(), problem.inputs.end());
    const std::vector<double> auto_start = model->initial_values(inputs, problem.y);
    for (std::size_t j = 0; j < p; ++j) {
      if (given[j]) continue;
      // A self-started value outside the user's bounds is moved onto the nearest bound.
      start[j] = std::clamp(auto_start[j], problem.bounds[j].lower, problem.bounds[j].upper);
      result.self_started[j] = true;
    }
  }
  result.start = start;

  LevenbergMarquardt solver(problem, spec.solver, context);
  result.summary = solver.Minimize(start);
  if (result.summary.termination != Termination::kNonFiniteStart)
    result.statistics = compute_statistics(problem, result.summary, context, spec.confidence_level);
  return result;
}

}  // namespace parafit
