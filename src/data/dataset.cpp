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

void Dataset::check_new_column(const std::string& name, std::size_t size) const {
  if (find(name)) {
    throw Error(prefix(source_) + "duplicate column name '" + name + "'");
  }
  if (!names_.empty() && size != rows_) {
    throw Error(prefix(source_) + "column '" + name + "' has " + std::to_string(size) +
                " rows but the dataset has " + std::to_string(rows_));
  }
}

void Dataset::add_column(std::string name, std::vector<double> values) {
  check_new_column(name, values.size());
  rows_ = values.size();
  names_.push_back(std::move(name));
  columns_.push_back({std::move(values), nullptr});
}

void Dataset::add_column_view(std::string name, std::span<const double> values) {
  check_new_column(name, values.size());
  rows_ = values.size();
  names_.push_back(std::move(name));
  // An empty view still needs a non-null pointer to count as borrowed.
  static constexpr double kNone = 0;
  columns_.push_back({{}, values.empty() ? &kNone : values.data()});
}

std::vector<std::vector<double>> Dataset::release_columns() {
  std::vector<std::vector<double>> columns;
  columns.reserve(columns_.size());
  for (Column& c : columns_) {
    if (c.borrowed != nullptr)
      columns.emplace_back(c.borrowed, c.borrowed + rows_);
    else
      columns.push_back(std::move(c.owned));
  }
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
  if (const auto index = find(name)) return columns_[*index].values(rows_);
  std::string message = prefix(source_) + "no column named '" + printable(name) + "'; ";
  message += names_.empty() ? "the dataset has no columns"
                            : "columns are: " + printable(fmt::format("{}", fmt::join(names_, ", ")), 200);
  throw Error(message);
}

}  // namespace parafit
