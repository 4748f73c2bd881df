// Helpers shared by the subcommands: parsing "name=value" lists and reporting usage errors.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "parafit/error.h"
#include "parafit/problem.h"
#include "parafit/table.h"

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

// `message` with its first "data row N" (the library's 1-based row numbers over the whole data)
// followed by where that row is in the file `path` read with `options`: "data row 51 (neg.csv:52)".
// When rows were dropped (`dropped` > 0, --drop-missing), it says the row numbers count the kept
// rows only. A message without a row is returned unchanged.
std::string place_data_row(const std::string& message, const std::string& path, const TableOptions& options,
                           std::size_t dropped);

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

// Replaces `path` by `text` atomically (io/atomic_file.h); throws parafit::Error
// "cannot write <what> '<path>': <reason>".
void write_text_file(const std::string& path, const std::string& text, const char* what);

// True when stderr is a terminal (progress and timing lines go there only then).
bool stderr_is_terminal();

}  // namespace parafit::cli
