// data/dataset.cpp — the columnar table every model is evaluated on.
#include "parafit/dataset.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "parafit/error.h"

namespace parafit {
namespace {


// Errors about a dataset read from a file start with the file, like the reader's own errors.
std::string prefix(const std::string& source) { return source.empty() ? "" : source + ": "; }

}  // namespace

void Dataset::add_column(std::string name, std::vector<double> values) {
  if (find(name)) {
    throw Error(prefix(source_) + "duplicate column name '" + name + "'");
  }
  if (!names_.empty() && values.size() != rows_) {
    throw Error(prefix(source_) + "column '" + name + "' has " + std::to_string(values.size()) +
                " rows but the dataset has " + std::to_string(rows_));
  }
  rows_ = values.size();
  names_.push_back(std::move(name));
  columns_.push_back(std::move(values));
}

std::vector<std::vector<double>> Dataset::release_columns() {
  std::vector<std::vector<double>> columns = std::move(columns_);
  columns_.clear();
  names_.clear();
  rows_ = 0;
  return columns;
}

std::optional<std::size_t> Dataset::find(std::string_view name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) return std::nullopt;
  return static_cast<std::size_t>(it - names_.begin());
}

std::span<const double> Dataset::column(std::string_view name) const {
  if (const auto index = find(name)) return columns_[*index];
  std::string message = prefix(source_) + "no column named '" + printable(name) + "'; ";
  message += names_.empty() ? "the dataset has no columns"
                            : "columns are: " + printable(fmt::format("{}", fmt::join(names_, ", ")), 200);
  throw Error(message);
}

}  // namespace parafit
