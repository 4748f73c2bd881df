#include "parafit/problem.h"

#include <fmt/format.h>

#include <cmath>

#include "parafit/error.h"

namespace parafit {

std::vector<std::size_t> Problem::free_parameters() const {
  std::vector<std::size_t> out;
  for (std::size_t j = 0; j < model->num_parameters(); ++j)
    if (!is_fixed(j)) out.push_back(j);
  return out;
}

void Problem::validate(const Context& ctx) const {
  if (model == nullptr) throw Error("problem has no model");
  const std::size_t p = model->num_parameters();
  if (inputs.size() != model->num_inputs())
    throw Error(fmt::format("model '{}' reads {} input column(s), {} given", model->name(),
                            model->num_inputs(), inputs.size()));
  for (const auto& col : inputs)
    if (col.size() != y.size()) throw Error("input and response columns differ in length");
  if (!weights.empty() && weights.size() != y.size())
    throw Error("weights and response columns differ in length");
  if (!fixed.empty() && fixed.size() != p) throw Error("fixed flags do not match the parameters");
  if (!bounds.empty() && bounds.size() != p) throw Error("bounds do not match the parameters");
  const auto& names = model->parameter_names();
  for (std::size_t j = 0; j < bounds.size(); ++j) {
    if (std::isnan(bounds[j].lower) || std::isnan(bounds[j].upper) || bounds[j].lower > bounds[j].upper)
      throw Error(fmt::format("bounds of parameter '{}' are empty: lower {} > upper {}", names[j],
                              bounds[j].lower, bounds[j].upper));
  }
  check_loss(loss, "loss");
  std::size_t free = 0;
  for (std::size_t j = 0; j < p; ++j) free += !is_fixed(j);
  if (free == 0) throw Error("every parameter is fixed: there is nothing to fit");

  // Rows that count, over all ranks; a bad weight on any rank stops every rank (chunked_sum agrees).
  const double used_rows = chunked_sum(ctx, rows(), 1, [&](std::size_t b, std::size_t e, std::span<double> s) {
    if (weights.empty()) {
      s[0] = double(e - b);
      return;
    }
    for (std::size_t i = b; i < e; ++i) {
      const double w = weights[i];
      if (!(w >= 0.0) || !std::isfinite(w))
        throw Error(fmt::format("weight of data row {} is {}: weights must be finite and >= 0",
                                first_row + i + 1, w));
      s[0] += w > 0.0;
    }
  })[0];
  if (used_rows < double(free))
    throw Error(fmt::format("{} data row(s) with non-zero weight, fewer than the {} free parameters "
                            "of model '{}'",
                            used_rows, free, model->name()));
}

void Problem::check_parameters(std::span<const double> theta, const std::string& what) const {
  const auto& names = model->parameter_names();
  if (theta.size() != names.size())
    throw Error(fmt::format("{}: {} values for the {} parameters of model '{}'", what,
                            theta.size(), names.size(), model->name()));
  for (std::size_t j = 0; j < theta.size(); ++j) {
    if (!std::isfinite(theta[j]))
      throw Error(fmt::format("{} of parameter '{}' is {}", what, names[j], theta[j]));
    const ParameterBounds b = bounds_of(j);
    if (theta[j] < b.lower || theta[j] > b.upper)
      throw Error(fmt::format("{} of parameter '{}' is {}, outside its bounds [{}, {}]", what,
                              names[j], theta[j], b.lower, b.upper));
  }
}

}  // namespace parafit
