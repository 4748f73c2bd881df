#include "rank_timeout.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "cli_common.h"

namespace parafit::cli {

void add_rank_timeout_option(CLI::App& app, std::optional<double>& seconds) {
  app.add_option("--rank-timeout", seconds,
                 fmt::format("Under mpirun: seconds a rank waits for the others before it ends the job, naming the "
                             "rank that does not answer (default: PARAFIT_RANK_TIMEOUT, else {:g}; 0: wait forever)",
                             kDefaultRankTimeoutSeconds))
      ->check(CLI::Range(0.0, 1e6));
}

std::chrono::milliseconds rank_timeout(const std::optional<double>& flag) {
  double seconds = kDefaultRankTimeoutSeconds;
  if (flag) {
    seconds = *flag;
  } else if (const char* env = std::getenv("PARAFIT_RANK_TIMEOUT"); env != nullptr) {
    seconds = parse_number(env, "PARAFIT_RANK_TIMEOUT");
    if (seconds < 0 || seconds > 1e6)
      throw UsageError(fmt::format("PARAFIT_RANK_TIMEOUT: '{}' is not a number of seconds in [0, 1000000]", env));
  }
  // A positive timeout shorter than a millisecond still waits one.
  return std::chrono::milliseconds(seconds > 0 ? std::max<long long>(1, std::llround(seconds * 1000)) : 0);
}

}  // namespace parafit::cli
