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
  explicit Error(const std::string& message);
  explicit Error(const char* message) : Error(std::string(message)) {}
  // The message with its option names still marked (what() shows them in backquotes).
  const std::string& marked() const { return marked_; }

 private:
  std::string marked_;
};

// The marked message of any exception: marked() for an Error, what() otherwise.
std::string marked_message(const std::exception& e);

}  // namespace parafit
