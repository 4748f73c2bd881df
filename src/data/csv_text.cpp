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
  std::string out;
  std::size_t shown = 0;
  for (const char* p = from; p < to; ++p, ++shown) {
    if (shown == kMaxExcerpt) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(*p);
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string CsvText::rest_of_line(const char* at) const {
  const char* stop = at;
  while (stop < end_ && *stop != '\n') ++stop;
  if (stop > at && stop[-1] == '\r') --stop;
  return excerpt(at, stop);
}

}  // namespace parafit::detail
