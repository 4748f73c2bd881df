// --rank-timeout SECONDS and PARAFIT_RANK_TIMEOUT: how long a rank of an mpirun job waits for the
// others before it decides that one has hung and ends the job.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>

namespace parafit::cli {

constexpr double kDefaultRankTimeoutSeconds = 60;

// Adds --rank-timeout to a command that every rank runs (fit, train).
void add_rank_timeout_option(CLI::App& app, std::optional<double>& seconds);

// The flag's value, else PARAFIT_RANK_TIMEOUT, else 60 s; zero means wait forever. Throws
// UsageError for a PARAFIT_RANK_TIMEOUT that is not a number >= 0.
std::chrono::milliseconds rank_timeout(const std::optional<double>& flag);

}  // namespace parafit::cli
