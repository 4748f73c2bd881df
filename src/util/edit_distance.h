// Levenshtein distance for "did you mean ...?" suggestions (model names, formula functions).
#pragma once

#include <cstddef>
#include <string_view>

namespace parafit::detail {

// Edits (insertions, deletions, substitutions) between a and b, comparing letters case-insensitively.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace parafit::detail
