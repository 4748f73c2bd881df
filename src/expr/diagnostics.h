// Error messages for formulas: the message line, the formula, and a caret under the fault.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace parafit::expr {

// Marks an error that has no place in the formula (an unused --params name, say): the message
// shows the formula without a caret.
inline constexpr std::size_t kNoPosition = static_cast<std::size_t>(-1);

// Thrown inside src/expr; compile_formula turns it into parafit::Error with format_error(). Kept
// separate so that the parts do not need the formula text to report a fault.
struct FormulaError {
  std::size_t pos;   // byte offset of the fault, or kNoPosition
  std::string what;  // "unknown function 'exq' (did you mean 'exp'?)"
};

// Formulas longer than this are shown as a window of about kWindow characters around the fault.
inline constexpr std::size_t kWindow = 60;

//   formula error: <what>
//     <formula, or a window of it, with "..." where cut>
//     <spaces>^
// Control characters are shown as blanks so the caret stays under the fault; the caret column
// counts UTF-8 characters, not bytes.
std::string format_error(std::string_view formula, std::size_t pos, std::string_view what);

// The candidate closest to `name` by edit distance (case-insensitive), if it is close enough to be
// a plausible typo (at most 2 edits and fewer than the name's length); empty otherwise.
std::string_view closest_name(std::string_view name, std::span<const std::string_view> candidates);

// How a name or character is quoted in messages: 'exp'; non-printable bytes as 0xNN.
std::string quote(std::string_view text);

}  // namespace parafit::expr
