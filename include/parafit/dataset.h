// parafit/dataset.h — columnar float64 table of observations.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parafit {

// A table of named float64 columns, all of the same length. Columns are stored contiguously so
// that models can evaluate blocks of rows with vectorised loops.
class Dataset {
 public:
  Dataset() = default;

  // Adds a column. Throws parafit::Error if the name is already used or the length differs from
  // the columns already present.
  void add_column(std::string name, std::vector<double> values);
  // Adds a column that borrows `values` instead of copying them (a numpy array's memory, say). The
  // memory must outlive this Dataset and its copies, and stay unchanged while parafit reads it.
  // release_columns copies it. The same errors as add_column.
  void add_column_view(std::string name, std::span<const double> values);

  std::size_t rows() const { return rows_; }
  std::size_t num_columns() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

  // Index of the column called `name`, if any.
  std::optional<std::size_t> find(std::string_view name) const;

  std::span<const double> column(std::size_t index) const { return columns_.at(index).values(rows_); }
  // The column called `name`; throws parafit::Error naming the columns that exist if it is absent.
  std::span<const double> column(std::string_view name) const;

  // Moves every column out and leaves the Dataset empty (no columns, no rows): for code that
  // rebuilds a table column by column without holding two copies of it. A borrowed column
  // (add_column_view) is copied out.
  std::vector<std::vector<double>> release_columns();

  // Where the data came from (a file path), used in error messages. May be empty.
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

 private:
  // A column owns its values, or borrows them (add_column_view: `borrowed` not null).
  struct Column {
    std::vector<double> owned;
    const double* borrowed = nullptr;
    std::span<const double> values(std::size_t rows) const {
      return borrowed != nullptr ? std::span<const double>(borrowed, rows) : std::span<const double>(owned);
    }
  };
  void check_new_column(const std::string& name, std::size_t size) const;

  std::vector<std::string> names_;
  std::vector<Column> columns_;
  std::size_t rows_ = 0;
  std::string source_;
};

}  // namespace parafit
