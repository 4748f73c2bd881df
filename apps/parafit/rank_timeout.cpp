#include "rank_timeout.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "cli_common.h"

namespace parafit::cli {
namespace {

constexpr double kMaxSeconds = 1e6;

}  // namespace

void add_rank_timeout_option(CLI::App& app, std::optional<double>& seconds) {
  app.add_option("--rank-timeout", seconds,
                 fmt::format("Under mpirun: seconds a rank waits for the others before it ends the job, naming the "
                             "rank that does not answer (default: PARAFIT_RANK_TIMEOUT, else {:g}, or 10 under train --sync ssp:S; 0: "
                             "wait forever)",
                             kDefaultRankTimeoutSeconds))
      ->check([](const std::string& text) -> std::string {
        try {
          const double v = parse_number(text, "--rank-timeout");
          if (v >= 0 && v <= kMaxSeconds) return "";
        } catch (const UsageError&) {
        }
        return fmt::format("'{}' is not a number of seconds in [0, {:g}]", text, kMaxSeconds);
      });
}

std::chrono::milliseconds rank_timeout(const std::optional<double>& flag) {
  double seconds = kDefaultRankTimeoutSeconds;
  if (flag) {
    seconds = *flag;
  } else if (const char* env = std::getenv("PARAFIT_RANK_TIMEOUT"); env != nullptr) {
    seconds = parse_number(env, "PARAFIT_RANK_TIMEOUT");
    if (seconds < 0 || seconds > kMaxSeconds)
      throw UsageError(fmt::format("PARAFIT_RANK_TIMEOUT: '{}' is not a number of seconds in [0, {:g}]", env, kMaxSeconds));
  }
  // A positive timeout shorter than a millisecond still waits one.
  return std::chrono::milliseconds(seconds > 0 ? std::max<long long>(1, std::llround(seconds * 1000)) : 0);
}

}  // namespace parafit::cli
