#include <chrono>
#include <cstdio>

#include "conformance.h"

namespace parafit::conformance {

void require(bool ok, const Communicator& comm, const std::string& what) {
  if (!ok) throw CheckFailed("rank " + std::to_string(comm.rank()) + ": " + what);
}

std::string show(std::byte v) { return "byte " + std::to_string(std::to_integer<int>(v)); }
std::string show(std::int64_t v) { return std::to_string(v); }
std::string show(std::size_t v) { return std::to_string(v); }
std::string show(int v) { return std::to_string(v); }
std::string show(float v) { return show(double(v)); }
std::string show(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

void require_rank_failed(const Communicator& comm, int rank, const std::string& reason,
                         const std::function<void()>& f, const std::string& what, double seconds) {
  const auto start = std::chrono::steady_clock::now();
  try {
    f();
  } catch (const RankFailed& e) {
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    require(e.failed_rank() == rank && e.reason() == reason, comm,
            what + ": RankFailed(" + std::to_string(e.failed_rank()) + ", \"" + e.reason() + "\"), expected (" +
                std::to_string(rank) + ", \"" + reason + "\")");
    require(took < seconds, comm, what + ": RankFailed came after " + std::to_string(took) + " s");
    // These failures are aborts and errors, never timeouts: a program may still finalize MPI.
    require(!e.after_timeout(), comm, what + ": RankFailed says a timeout caused it");
    return;
  }
  require(false, comm, what + ": returned instead of throwing RankFailed");
}

void require_error(const Communicator& comm, const std::function<void()>& f, const std::string& what) {
  try {
    f();
  } catch (const RankFailed& e) {
    require(false, comm, what + ": threw RankFailed (" + e.what() + "), not a local Error");
  } catch (const Error&) {
    return;
  }
  require(false, comm, what + ": did not throw");
}

const std::vector<ConformanceCheck>& conformance_checks() {
  static const std::vector<ConformanceCheck> checks = [] {
    std::vector<ConformanceCheck> all;
    add_collective_checks(all);
    add_message_checks(all);
    add_split_checks(all);
    add_failure_checks(all);
    add_other_checks(all);
    return all;
  }();
  return checks;
}

}  // namespace parafit::conformance
