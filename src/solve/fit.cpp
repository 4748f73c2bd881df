#include "parafit/fit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/formula.h"
#include "solve/lm_rules.h"
#include "solve/resolve_model.h"
#include "stats/profile_intervals.h"

namespace parafit {
using detail::parameter_index;
using detail::resolve_model;
using detail::ResolvedModel;

// Rows of the data given to self-starting rules: an evenly spread global sample, the same on every
// rank, so starting values do not depend on the number of ranks.
constexpr std::size_t kSelfStartRows = 4096;

namespace {

using detail::kFalseMinimumCosine;
using detail::kPerfectFitFraction;

void refuse_false_minimum(FitResult& result) {
  LevenbergMarquardtSummary& s = result.summary;
  const FitStatistics& st = result.statistics;
  if (!converged(s.termination) || !(s.max_gradient_cosine > kFalseMinimumCosine)) return;
  if (!(st.rss > kPerfectFitFraction * st.tss)) return;
  s.message = fmt::format("stopped ({}) where the gradient is far from zero (largest gradient cosine {:.3g}; "
                          "R's relative offset {:.3g}), so this is not a minimum of the RSS: the steps "
                          "that would lower it leave the model's domain or its range; try other start "
                          "values, bounds, or another parameterisation",
                          to_string(s.termination), s.max_gradient_cosine, st.relative_offset);
  s.termination = Termination::kNotAMinimum;
}

}  // namespace

FitResult fit(const Dataset& data, const FitSpec& spec, const Context& context) {
  LocalCommunicator alone;
  Communicator& comm = context.communicator != nullptr ? *context.communicator : alone;
  FitResult result;
  result.spec = spec;
  ResolvedModel resolved;
  Problem problem;
  std::vector<bool> given;
  std::vector<double> start;
  // Everything before the first collective runs on each rank's own rows; a failure on any rank is
  // agreed on below, so no rank is left waiting for one that has stopped.
  std::string local_error;
  const RowLayout layout = row_layout(comm, data.rows());  // this rank's first row, for messages
  Error::Kind local_kind = Error::Kind::kData;
  try {
    resolved = resolve_model(data, spec.model, spec.x, spec.y, spec.params, layout.offset, spec.custom_model);
    const Model& model = *resolved.model;
    const std::size_t p = model.num_parameters();
    problem.model = &model;
    for (const auto& name : resolved.inputs) problem.inputs.push_back(data.column(name));
    problem.y = resolved.transformed_y.empty() ? data.column(spec.y) : std::span<const double>(resolved.transformed_y);
    if (!spec.weights.empty()) problem.weights = data.column(spec.weights);
    problem.loss = spec.loss;

    given.assign(p, false);
    start.assign(p, 0.0);
    problem.fixed.assign(p, false);
    for (const auto& [name, value] : spec.start) {
      const std::size_t j = parameter_index(model, name, option_name("start").c_str());
      if (given[j]) throw usage_error(fmt::format("{}: parameter '{}' given twice", option_name("start"), name));
      given[j] = true;
      start[j] = value;
    }
    for (const auto& [name, value] : spec.fix) {
      const std::size_t j = parameter_index(model, name, option_name("fix").c_str());
      if (problem.fixed[j]) throw usage_error(fmt::format("{}: parameter '{}' given twice", option_name("fix"), name));
      if (given[j])
        throw usage_error(fmt::format("parameter '{}' is both fixed ({}) and started ({}); give it once",
                                name, option_name("fix"), option_name("start")));
      given[j] = true;
      problem.fixed[j] = true;
      start[j] = value;
    }
    problem.bounds.assign(p, ParameterBounds{});
    std::vector<bool> bounded(p, false);
    for (const auto& [name, box] : spec.bounds) {
      const std::size_t j = parameter_index(model, name, option_name("bounds").c_str());
      if (bounded[j]) throw usage_error(fmt::format("{}: parameter '{}' given twice", option_name("bounds"), name));
      bounded[j] = true;
      problem.bounds[j] = box;
    }
    // A value the user gave outside the bounds the user gave: named by the option that gave it.
    for (std::size_t j = 0; j < p; ++j) {
      const ParameterBounds b = problem.bounds[j];
      if (given[j] && !(start[j] >= b.lower && start[j] <= b.upper))
        throw usage_error(fmt::format("{}: {} value of parameter '{}' is {}, outside its bounds [{}, {}] ({})",
                                      option_name(problem.fixed[j] ? "fix" : "start"),
                                      problem.fixed[j] ? "fixed" : "start", model.parameter_names()[j], start[j],
                                      b.lower, b.upper, option_name("bounds")));
    }
  } catch (const Error& e) {
    local_error = e.marked();
    local_kind = e.kind();
  }
  agree_or_throw(comm, local_error, local_kind);
  problem.first_row = layout.offset;
  if (comm.size() > 1 && data.rows() > 0 && layout.offset % std::max<std::size_t>(context.chunk_rows, 1) != 0)
    local_error = "rank's rows do not start at a chunk boundary: call align_to_chunks first";
  agree_or_throw(comm, local_error);
  problem.validate(context);
  if (spec.profile_intervals && !spec.loss.squared())
    throw usage_error(fmt::format("{}: profile-likelihood intervals are for the squared loss, not {} (its sum of "
                                  "rho is not a likelihood)",
                                  option_name("profile_intervals"), spec.loss.name()));

  result.model = resolved.model;
  result.inputs = resolved.inputs;
  result.response = resolved.response;
  result.response_columns = resolved.response_columns;
  const Model& model = *resolved.model;
  const std::size_t p = model.num_parameters();
  result.self_started.assign(p, false);
  std::vector<std::string> missing;
  for (std::size_t j = 0; j < p; ++j)
    if (!given[j]) missing.push_back(model.parameter_names()[j]);
  if (!missing.empty()) {
    if (spec.custom_model == nullptr && looks_like_formula(spec.model))
      throw usage_error(fmt::format("formula models have no self-start rule: give {} for {}", option_name("start"),
                              fmt::join(missing, ", ")));
    std::vector<std::span<const double>> columns(problem.inputs.begin(), problem.inputs.end());
    columns.push_back(problem.y);
    const std::vector<std::vector<double>> sample = global_sample(columns, comm, kSelfStartRows);
    const std::vector<std::span<const double>> inputs(sample.begin(), sample.end() - 1);
    // The self-start is computed identically on every rank (same sample, no communication), so a
    // failure here is a failure everywhere.
    const std::vector<double> auto_start = model.initial_values(inputs, sample.back());
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
  // Every rank stops at a non-finite start (the sums are global), but only the ranks holding a bad
  // row can say which: the lowest of them speaks for all.
  if (result.summary.termination == Termination::kNonFiniteStart && comm.size() > 1)
    agree_or_throw(comm, result.summary.nonfinite_row ? result.summary.message : "");
  if (result.summary.termination != Termination::kNonFiniteStart) {
    result.statistics = compute_statistics(problem, result.summary, context, spec.confidence_level);
    refuse_false_minimum(result);
  }
  if (spec.profile_intervals && result.summary.IsSolutionUsable()) {
    const std::vector<detail::ProfileInterval> ci =
        detail::profile_intervals(data, result, context, spec.confidence_level);
    for (std::size_t j = 0; j < ci.size(); ++j) {
      result.statistics.parameters[j].ci_lower = ci[j].lower;
      result.statistics.parameters[j].ci_upper = ci[j].upper;
    }
    result.statistics.ci_method = "profile";
  }
  return result;
}

}  // namespace parafit
