// What the command line says when it cannot parse its arguments: numbers checked as numbers
// before their ranges ("--threads: 'abc' is not an integer"), ranges shown in their shortest
// digits, unknown subcommands and flags with a suggestion, and every --help with an example and
// the exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace parafit::cli {

// Accepts a value in [lo, hi] (an integer option's value is compared as a double); the message
// shows the bounds in their shortest form ("not in [0, inf)"), never CLI11's 300 digits.
CLI::Validator in_range(double lo, double hi);

// Gives every integer and floating-point option of `app` and its subcommands a check that runs
// before any other: a value that is not a number is refused as "not an integer" / "not a number".
void add_number_checks(CLI::App& app);

// Puts an example and the exit codes at the end of `app`'s --help and its subcommands'.
void add_help_footers(CLI::App& app);

// The message for an argument list that does not start with a known subcommand ("parafit fti"),
// with the nearest one suggested; "" when argv names a subcommand or only flags.
std::string unknown_subcommand(const CLI::App& app, int argc, const char* const* argv);

// CLI11's message for `e`, with a suggestion for an unknown flag ("--thread": did you mean
// "--threads"?).
std::string parse_error_message(const CLI::ParseError& e, const CLI::App& app, int argc, const char* const* argv);

}  // namespace parafit::cli
