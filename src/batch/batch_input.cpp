// From tables to BatchData: the long, wide and matrix layouts of many small fits.
#include <fmt/format.h>

#include <unordered_map>

#include "parafit/batch.h"
#include "parafit/error.h"

namespace parafit {

BatchData batch_from_long(const Dataset& data, const std::string& group, const std::vector<std::string>& inputs,
                          std::span<const double> y, const std::string& weights) {
  const std::span<const double> g = data.column(group);
  const std::size_t n = data.rows();
  if (y.size() != n) throw Error("batch data: the response's length differs from the table's");
  // The fit of each row, fits numbered in order of first appearance (-0.0 and 0.0 are one group).
  std::unordered_map<double, std::size_t> index;
  std::vector<std::size_t> fit_of(n), counts;
  BatchData out;
  for (std::size_t i = 0; i < n; ++i) {
    const double key = g[i] == 0 ? 0.0 : g[i];
    if (std::isnan(key))
      throw Error(fmt::format("data row {}: the group column '{}' is NaN; every row needs a group", i + 1, group));
    const auto [it, fresh] = index.try_emplace(key, counts.size());
    if (fresh) {
      counts.push_back(0);
      out.ids.push_back(fmt::format("{}", key));
    }
    fit_of[i] = it->second;
    ++counts[it->second];
  }
  out.offsets.assign(counts.size() + 1, 0);
  for (std::size_t k = 0; k < counts.size(); ++k) out.offsets[k + 1] = out.offsets[k] + counts[k];
  std::vector<std::size_t> at(out.offsets.begin(), out.offsets.end() - 1);
  std::vector<std::size_t> place(n);
  for (std::size_t i = 0; i < n; ++i) place[i] = at[fit_of[i]]++;
  const auto gathered = [&](std::span<const double> column) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[place[i]] = column[i];
    return v;
  };
  for (const std::string& name : inputs) out.inputs.push_back(gathered(data.column(name)));
  out.y = gathered(y);
  if (!weights.empty()) out.weights = gathered(data.column(weights));
  return out;
}

BatchData batch_from_wide(const Dataset& data, const std::vector<std::string>& y_columns,
                          const std::vector<double>& x_values, const std::vector<std::string>& x_columns,
                          const std::vector<std::string>& weight_columns) {
  const std::size_t points = y_columns.size(), fits = data.rows();
  if (points == 0) throw Error("batch data: no y columns", Error::Kind::kUsage);
  if (x_columns.empty() && x_values.size() != points)
    throw Error(fmt::format("batch data: {} x values for {} y columns", x_values.size(), points), Error::Kind::kUsage);
  if (!x_columns.empty() && x_columns.size() != points)
    throw Error(fmt::format("batch data: {} x columns for {} y columns", x_columns.size(), points),
                Error::Kind::kUsage);
  if (!weight_columns.empty() && weight_columns.size() != points)
    throw Error(fmt::format("batch data: {} weight columns for {} y columns", weight_columns.size(), points),
                Error::Kind::kUsage);
  std::vector<std::span<const double>> ys, xs, ws;
  for (const auto& c : y_columns) ys.push_back(data.column(c));
  for (const auto& c : x_columns) xs.push_back(data.column(c));
  for (const auto& c : weight_columns) ws.push_back(data.column(c));
  BatchData out;
  out.inputs.assign(1, std::vector<double>(fits * points));
  out.y.resize(fits * points);
  if (!ws.empty()) out.weights.resize(fits * points);
  out.offsets.resize(fits + 1);
  for (std::size_t k = 0; k < fits; ++k) {
    out.offsets[k + 1] = (k + 1) * points;
    for (std::size_t j = 0; j < points; ++j) {
      out.y[k * points + j] = ys[j][k];
      out.inputs[0][k * points + j] = xs.empty() ? x_values[j] : xs[j][k];
      if (!ws.empty()) out.weights[k * points + j] = ws[j][k];
    }
  }
  return out;
}

BatchData batch_from_matrix(std::span<const double> values, std::size_t fits, std::size_t points,
                            const std::vector<double>& x_values) {
  if (values.size() != fits * points) throw Error("batch data: the matrix's size differs from fits x points");
  if (x_values.size() != points)
    throw Error(fmt::format("batch data: {} x values for {} points per fit", x_values.size(), points),
                Error::Kind::kUsage);
  BatchData out;
  out.y.assign(values.begin(), values.end());
  out.inputs.assign(1, std::vector<double>(fits * points));
  out.offsets.resize(fits + 1);
  for (std::size_t k = 0; k < fits; ++k) {
    out.offsets[k + 1] = (k + 1) * points;
    std::copy(x_values.begin(), x_values.end(), out.inputs[0].begin() + std::ptrdiff_t(k * points));
  }
  return out;
}

BatchData batch_slice(const BatchData& all, std::size_t first, std::size_t count) {
  if (first + count > all.fits()) throw Error("batch data: a slice beyond the last fit");
  BatchData out;
  const std::size_t b = all.offsets[first], e = all.offsets[first + count];
  for (const auto& c : all.inputs) out.inputs.emplace_back(c.begin() + std::ptrdiff_t(b), c.begin() + std::ptrdiff_t(e));
  out.y.assign(all.y.begin() + std::ptrdiff_t(b), all.y.begin() + std::ptrdiff_t(e));
  if (!all.weights.empty())
    out.weights.assign(all.weights.begin() + std::ptrdiff_t(b), all.weights.begin() + std::ptrdiff_t(e));
  out.offsets.clear();
  for (std::size_t k = first; k <= first + count; ++k) out.offsets.push_back(all.offsets[k] - b);
  if (!all.ids.empty())
    out.ids.assign(all.ids.begin() + std::ptrdiff_t(first), all.ids.begin() + std::ptrdiff_t(first + count));
  return out;
}

}  // namespace parafit
