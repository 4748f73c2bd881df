// Helpers shared by the subcommands: parsing "name=value" lists and reporting usage errors.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "parafit/error.h"
#include "parafit/problem.h"

namespace parafit::cli {

// A command-line value that is malformed: exit code 2, with the usage line.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Splits each occurrence of a repeatable flag on commas: {"a=1,b=2", "c=3"} -> a=1, b=2, c=3.
std::vector<std::string> split_list(const std::vector<std::string>& occurrences);

// "a=1.5" -> ("a", 1.5); throws UsageError naming `flag` and the token otherwise.
std::vector<std::pair<std::string, double>> parse_assignments(const std::vector<std::string>& occurrences,
                                                              const std::string& flag);
// "a=0:10", "a=:10", "a=0:" -> bounds; throws UsageError naming `flag` and the token otherwise.
std::vector<std::pair<std::string, ParameterBounds>> parse_bounds(const std::vector<std::string>& occurrences,
                                                                  const std::string& flag);
// "lo:hi" with lo < hi, both finite.
std::pair<double, double> parse_range(const std::string& text, const std::string& flag);
// The --delimiter value: "" (detect) gives 0; "tab" or "\\t" a tab; otherwise one character, or
// UsageError.
char parse_delimiter(const std::string& text);

// A whole string as a finite double, or UsageError.
double parse_number(const std::string& text, const std::string& flag);

// Adds a repeatable string-list option ("--start a=1,b=2 --start c=3").
CLI::Option* add_list_option(CLI::App& app, const std::string& name, std::vector<std::string>& target,
                             const std::string& help);

// Runs `check` (which reads the --model value); an option error it throws is rethrown naming
// the flag: "--model: unknown model 'nope'; did you mean ...".
template <class Check>
void model_flag_checked(const Check& check) {
  try {
    check();
  } catch (const parafit::Error& e) {
    if (!e.is_usage()) throw;
    throw parafit::usage_error("--model: " + e.marked());
  }
}

// Peak resident memory of this process (VmHWM), or 0 where /proc does not tell.
std::size_t peak_rss_bytes();

// Writes `text` to `path` (replacing it); throws parafit::Error "cannot write <what> '<path>'".
void write_text_file(const std::string& path, const std::string& text, const char* what);

// True when stderr is a terminal (progress and timing lines go there only then).
bool stderr_is_terminal();

}  // namespace parafit::cli
