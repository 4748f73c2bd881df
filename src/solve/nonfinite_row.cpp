#include "solve/nonfinite_row.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace parafit::detail {

namespace {

constexpr std::size_t kBlock = 256;

// "NaN" rather than fmt's "-nan": the sign of a NaN means nothing to a user.
std::string shown(double v) { return std::isnan(v) ? "NaN" : fmt::format("{}", v); }

// Rows of non-zero weight, and of those the rows where the model is not finite.
std::pair<std::size_t, std::size_t> count_undefined(const Problem& problem, std::span<const double> theta) {
  std::vector<double> f(kBlock);
  std::vector<const double*> cols(problem.inputs.size());
  std::size_t used = 0, undefined = 0;
  for (std::size_t b = 0; b < problem.rows(); b += kBlock) {
    const std::size_t n = std::min(kBlock, problem.rows() - b);
    for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = problem.inputs[c].data() + b;
    problem.model->evaluate(theta.data(), RowBlock{n, cols.data()}, f.data(), nullptr, 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (!problem.weights.empty() && problem.weights[b + i] == 0) continue;
      ++used;
      undefined += !std::isfinite(f[i]);
    }
  }
  return {used, undefined};
}

}  // namespace

std::optional<NonFiniteRow> first_nonfinite_row(const Problem& problem, std::span<const double> theta) {
  const Model& model = *problem.model;
  const auto& names = model.parameter_names();
  const std::size_t p = model.num_parameters();
  const std::vector<std::size_t> free = problem.free_parameters();
  std::vector<double> f(kBlock), J(kBlock * p);
  std::vector<const double*> cols(problem.inputs.size());
  for (std::size_t b = 0; b < problem.rows(); b += kBlock) {
    const std::size_t n = std::min(kBlock, problem.rows() - b);
    for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = problem.inputs[c].data() + b;
    model.evaluate(theta.data(), RowBlock{n, cols.data()}, f.data(), J.data(), kBlock);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = problem.first_row + b + i;
      const double w = problem.weights.empty() ? 1.0 : problem.weights[b + i];
      if (w == 0) continue;  // a row of weight 0 takes no part in the sums
      if (!std::isfinite(f[i])) {
        // Undefined at every row: the parameters, not the data, put the model outside its domain.
        const auto [used, undefined] = count_undefined(problem, theta);
        if (undefined == used) {
          std::string at;
          for (std::size_t j = 0; j < p; ++j) at += fmt::format("{}{}={}", j ? ", " : "", names[j], theta[j]);
          return NonFiniteRow{row, fmt::format("the model is undefined there (its value is {}) and at "
                                               "every other row: the starting values ({}) are outside "
                                               "its domain; give other start values",
                                               shown(f[i]), at)};
        }
        return NonFiniteRow{row, fmt::format("the model is undefined there (its value is {}; {} of {} "
                                             "rows are undefined): this data row is outside the "
                                             "model's domain, other starting values will not help "
                                             "unless they move the domain",
                                             shown(f[i]), undefined, used)};
      }
      for (const std::size_t j : free) {
        const double d = J[j * kBlock + i];
        if (!std::isfinite(d))
          return NonFiniteRow{row, fmt::format("the model's derivative with respect to '{}' is {} there; "
                                               "this data row is outside the region where the model "
                                               "can be fitted",
                                               names[j], shown(d))};
      }
      const double y = problem.y[b + i];
      const double r = y - f[i];
      if (!std::isfinite(w * r * r))
        return NonFiniteRow{row, fmt::format("the squared residual overflows there: the data value "
                                             "y = {} (the model gives {}) is the problem, not the "
                                             "starting values; check that row for an outlier or a "
                                             "corrupt value",
                                             y, f[i])};
      for (const std::size_t j : free) {
        const double d = J[j * kBlock + i];
        if (!std::isfinite(w * d * d) || !std::isfinite(w * r * d))
          return NonFiniteRow{row, fmt::format("the model's derivative with respect to '{}' ({}) is too "
                                               "large to square there",
                                               names[j], d)};
      }
    }
  }
  return std::nullopt;
}

}  // namespace parafit::detail
