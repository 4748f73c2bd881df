// data/csv_columns.h — matching the requested column names against the header.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "data/csv_header.h"
#include "data/csv_text.h"

namespace parafit::detail {

struct ColumnPlan {
  static constexpr std::size_t kSkip = std::numeric_limits<std::size_t>::max();
  // For each field of a row: the index of the loaded column it goes to, or kSkip.
  std::vector<std::size_t> slot_of_field;
  // Names of the loaded columns, in the order they will appear in the Dataset.
  std::vector<std::string> names;
};

// Loads `wanted` in that order, or every column when `wanted` is empty. Throws parafit::Error for
// a name not in the header (listing those that are), a name requested twice, a loaded name that
// appears twice in the header, or an empty name when every column is loaded.
ColumnPlan plan_columns(const CsvText& text, const CsvHeader& header,
                        const std::vector<std::string>& wanted);

}  // namespace parafit::detail
