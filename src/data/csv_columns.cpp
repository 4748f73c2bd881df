// data/csv_columns.cpp — column selection for the CSV reader.
#include "data/csv_columns.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "parafit/error.h"

namespace parafit::detail {
namespace {


// Throws if the header names field `field` the same as an earlier field.
void check_unique_in_header(const CsvText& text, const CsvHeader& header, std::size_t field) {
  const auto& names = header.names;
  const auto first = std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(field),
                               names[field]);
  if (first != names.begin() + static_cast<std::ptrdiff_t>(field)) {
    text.fail_at(header.name_positions[field],
                 fmt::format("duplicate column name '{}' (columns {} and {})", printable(names[field], 60),
                             (first - names.begin()) + 1, field + 1));
  }
}

}  // namespace

ColumnPlan plan_columns(const CsvText& text, const CsvHeader& header,
                        const std::vector<std::string>& wanted) {
  const std::size_t fields = header.names.size();
  ColumnPlan plan;
  plan.slot_of_field.assign(fields, ColumnPlan::kSkip);

  if (wanted.empty()) {
    for (std::size_t f = 0; f < fields; ++f) {
      if (header.names[f].empty()) {
        text.fail_at(header.name_positions[f],
                     fmt::format("column {} has an empty name in the header", f + 1));
      }
      check_unique_in_header(text, header, f);
      plan.slot_of_field[f] = f;
      plan.names.push_back(header.names[f]);
    }
    return plan;
  }

  for (std::size_t k = 0; k < wanted.size(); ++k) {
    const std::string& name = wanted[k];
    if (std::find(wanted.begin(), wanted.begin() + static_cast<std::ptrdiff_t>(k), name) !=
        wanted.begin() + static_cast<std::ptrdiff_t>(k)) {
      text.fail(fmt::format("column '{}' is requested twice", printable(name)));
    }
    // The last match, so that check_unique_in_header reports a repeated name at its second use.
    const auto it = std::find(header.names.rbegin(), header.names.rend(), name);
    if (it == header.names.rend()) {
      text.fail_at(header.line, fmt::format("no column named '{}'; columns are: {}", printable(name),
                                            printable(fmt::format("{}", fmt::join(header.names, ", ")), 200)));
    }
    const auto f = static_cast<std::size_t>(header.names.rend() - it) - 1;
    check_unique_in_header(text, header, f);
    plan.slot_of_field[f] = k;
    plan.names.push_back(name);
  }
  return plan;
}

}  // namespace parafit::detail
