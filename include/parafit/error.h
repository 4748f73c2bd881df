// parafit/error.h — the one exception type for bad user input.
//
// Library functions throw parafit::Error when what the user gave them (a file, a column name, a
// model name, an option value) is wrong. The message is complete and ready to print: it says where
// (file:line:column, the option, the offending text) and what is wrong. Numerical failure of a fit
// is not an Error: it goes into the solver's Summary.
//
// Options: the library names an option by its place in the library's structs ("trainer.batch",
// "start"); a program names it its own way (the command line: "--batch", "--start"). A message
// marks each option name with option_name(); what() shows the name in backquotes (`trainer.batch`),
// marked() keeps the marks, and render_options() puts the program's own names in their place.
//
// Kinds: an Error says whether the data was wrong (a file, its contents: Kind::kData) or the way
// the library was asked (an option's value, such as an unknown model name, a start value for no
// parameter, a fixed value outside its bounds: Kind::kUsage). The command line exits 1 for the
// first and 2, with its usage line, for the second. A caller that reads options from a file (a
// model file naming an unknown model) rethrows them as data errors of that file.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace parafit {

// `name` marked as an option name inside a message.
std::string option_name(std::string_view name);
// `marked` with each marked option name replaced by rename(name).
std::string render_options(std::string_view marked, const std::function<std::string(std::string_view)>& rename);

class Error : public std::runtime_error {
 public:
  enum class Kind { kData, kUsage };

  explicit Error(const std::string& message, Kind kind = Kind::kData);
  explicit Error(const char* message, Kind kind = Kind::kData) : Error(std::string(message), kind) {}
  // The message with its option names still marked (what() shows them in backquotes).
  const std::string& marked() const { return marked_; }
  Kind kind() const { return kind_; }
  bool is_usage() const { return kind_ == Kind::kUsage; }

 private:
  std::string marked_;
  Kind kind_;
};

// An Error in how an option was set (Kind::kUsage).
inline Error usage_error(const std::string& message) { return Error(message, Error::Kind::kUsage); }

// `text` fit to quote in a message: control bytes and bytes that are not UTF-8 escaped (\x00,
// \xff; \t, \r, \n), valid UTF-8 kept, and cut to about `max_chars` characters with "..." when
// longer (0: never cut). Every reader echoes the user's bytes through this.
std::string printable(std::string_view text, std::size_t max_chars = 0);

// The marked message of any exception: marked() for an Error, what() otherwise.
std::string marked_message(const std::exception& e);

}  // namespace parafit
