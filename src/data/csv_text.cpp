// data/csv_text.cpp — error positions and excerpts for the CSV reader.
#include "data/csv_text.h"

#include <algorithm>

#include <fmt/format.h>

#include "parafit/error.h"

namespace parafit::detail {
namespace {

// Long enough to recognise a field or a short row, short enough to keep a message on one line.
constexpr std::size_t kMaxExcerpt = 60;

}  // namespace

void CsvText::fail_at(const char* at, std::string_view message) const {
  // Lines and columns are 1-based; a column counts bytes from the start of the line.
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(begin_, at, '\n'));
  const char* line_start = at;
  while (line_start > begin_ && line_start[-1] != '\n') --line_start;
  const auto column = static_cast<std::size_t>(at - line_start) + 1;
  throw Error(fmt::format("{}:{}:{}: {}", path_, line, column, message));
}

void CsvText::fail(std::string_view message) const {
  throw Error(fmt::format("{}: {}", path_, message));
}

std::string CsvText::excerpt(const char* from, const char* to) {
  return printable(std::string_view(from, static_cast<std::size_t>(to - from)), kMaxExcerpt);
}

std::string CsvText::rest_of_line(const char* at) const {
  const char* stop = at;
  while (stop < end_ && *stop != '\n') ++stop;
  if (stop > at && stop[-1] == '\r') --stop;
  return excerpt(at, stop);
}

}  // namespace parafit::detail
