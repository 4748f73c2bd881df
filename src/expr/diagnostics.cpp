#include "expr/diagnostics.h"
#include "util/edit_distance.h"
#include "parafit/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace parafit::expr {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Display columns of text[0, n): one per UTF-8 character.
std::size_t columns(std::string_view text) {
  return std::size_t(std::count_if(text.begin(), text.end(),
                                   [](char c) { return !is_continuation(static_cast<unsigned char>(c)); }));
}

// Moves a cut point back to the start of a UTF-8 character so a window never splits one.
std::size_t char_start(std::string_view text, std::size_t i) {
  while (i > 0 && i < text.size() && is_continuation(static_cast<unsigned char>(text[i]))) --i;
  return i;
}


}  // namespace

std::string format_error(std::string_view formula, std::size_t pos, std::string_view what) {
  std::size_t begin = 0;
  std::size_t end = formula.size();
  const std::size_t anchor = pos == kNoPosition ? 0 : std::min(pos, formula.size());
  if (columns(formula) > kWindow + 12) {
    begin = char_start(formula, anchor > kWindow / 2 ? anchor - kWindow / 2 : 0);
    end = char_start(formula, std::min(formula.size(), begin + kWindow));
    if (end <= anchor && anchor < formula.size()) end = char_start(formula, anchor + 1);
  }
  std::string shown;
  if (begin > 0) shown += "...";
  for (std::size_t i = begin; i < end; ++i) {
    const auto c = static_cast<unsigned char>(formula[i]);
    shown += (c < 0x20 || c == 0x7F) ? ' ' : static_cast<char>(c);
  }
  if (end < formula.size()) shown += "...";

  std::string out = fmt::format("formula error: {}\n  {}", what, shown);
  if (pos != kNoPosition) {
    const std::size_t col = (begin > 0 ? 3 : 0) + columns(formula.substr(begin, anchor - begin));
    out += "\n  " + std::string(col, ' ') + "^";
  }
  return out;
}

std::string_view closest_name(std::string_view name, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_distance = 3;  // more than 2 edits is not a typo
  for (std::string_view c : candidates) {
    const std::size_t d = detail::edit_distance(name, c);
    if (d < best_distance && d < name.size()) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string quote(std::string_view text) {
  if (text.size() == 1) {
    const auto c = static_cast<unsigned char>(text[0]);
    if (c < 0x20 || c >= 0x7F) return fmt::format("byte 0x{:02X}", unsigned(c));
  }
  return fmt::format("'{}'", printable(text));
}

}  // namespace parafit::expr
