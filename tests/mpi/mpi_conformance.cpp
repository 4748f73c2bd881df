// The conformance suite (tests/parallel/conformance/) on MpiCommunicator, under mpirun with any
// number of processes. Each check runs on a fresh MpiCommunicator over MPI_COMM_WORLD (with a
// timeout, so that a wait that never ends is a failure, not a hang); a rank whose check fails
// aborts that communicator so that the others do not wait for it. After each check the ranks agree
// (on a communicator no check uses) on whether it failed anywhere; rank 0 prints one line per
// check, and every rank exits with 1 if any check failed on any rank, else 0.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "parallel/conformance/conformance.h"
#include "parafit/mpi_communicator.h"

namespace {

using parafit::conformance::CheckFailed;
using parafit::conformance::ConformanceCheck;

// What only the MPI backend has: Options::timeout. Rank 0 waits for a message that never comes;
// the other ranks sleep for 1.5 s, then come to a barrier. After 300 ms rank 0 pings them; they are
// asleep and cannot answer, so it throws TimedOut naming the call and them, and aborts the
// communicator: their barrier throws RankFailed naming rank 0 and that reason.
void check_timeout_names_silent_ranks(parafit::Communicator& comm) {
  using parafit::conformance::require;
  parafit::MpiCommunicator::Options options;
  options.timeout = std::chrono::milliseconds(300);
  parafit::MpiCommunicator quick(dynamic_cast<parafit::MpiCommunicator&>(comm).comm(), options);
  std::vector<std::byte> never(8);
  if (quick.rank() == 0) {
    const auto start = std::chrono::steady_clock::now();
    try {
      quick.irecv(never, quick.size() - 1, 7).wait();
      require(false, comm, "irecv returned a message nobody sent");
    } catch (const parafit::TimedOut& e) {
      std::string ranks;
      for (int r = 1; r < quick.size(); ++r) ranks += (r > 1 ? ", " : "") + std::to_string(r);
      const std::string expected = "rank 0: irecv(8 bytes) from rank " + std::to_string(quick.size() - 1) +
                                   ", tag 7 timed out after 300 ms: " +
                                   (quick.size() > 2 ? "ranks " + ranks + " do not answer" : "rank 1 does not answer") +
                                   " (hung, stopped, or busy for longer than that)";
      require(e.what() == expected, comm, std::string("timeout message: ") + e.what());
    } catch (const parafit::Error& e) {
      require(false, comm, std::string("not TimedOut: ") + e.what());
    }
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    require(took >= 0.29 && took < 5, comm, "timed out after " + std::to_string(took) + " s");
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    try {
      quick.barrier();
      require(false, comm, "barrier after rank 0 timed out returned");
    } catch (const parafit::RankFailed& e) {
      require(e.failed_rank() == 0 && std::string(e.reason()).find("timed out after 300 ms") != std::string::npos, comm,
              std::string("RankFailed: ") + e.what());
      // It says so, so that a program leaves without MPI_Finalize (which would wait for rank 0's
      // silent partners too).
      require(e.after_timeout(), comm, "RankFailed after a timeout does not say so");
    } catch (const parafit::Error& e) {
      require(false, comm, std::string("not RankFailed: ") + e.what());
    }
  }
}

// Every rank waits for something that never comes (rank 0 a message, the others a barrier) and
// times out at about the same moment: they answer each other's pings, and exactly one of them
// reports (TimedOut, naming nobody: every rank answered); the others get RankFailed naming it.
void check_timeouts_together_report_once(parafit::Communicator& comm) {
  using parafit::conformance::require;
  parafit::MpiCommunicator::Options options;
  options.timeout = std::chrono::milliseconds(300);
  parafit::MpiCommunicator quick(dynamic_cast<parafit::MpiCommunicator&>(comm).comm(), options);
  std::vector<std::byte> never(8);
  std::vector<std::int64_t> reporters = {0};
  try {
    if (quick.rank() == 0)
      quick.irecv(never, quick.size() - 1, 7).wait();
    else
      quick.barrier();
    require(false, comm, "a wait for what never comes returned");
  } catch (const parafit::TimedOut& e) {
    reporters[0] = 1;
    const std::string what = e.what();
    require(what.ends_with(" timed out after 300 ms"), comm, "timeout message: " + what);
  } catch (const parafit::RankFailed& e) {
    require(std::string(e.reason()).find("timed out after 300 ms") != std::string::npos, comm,
            std::string("RankFailed: ") + e.what());
    require(e.after_timeout(), comm, "RankFailed after a timeout does not say so");
  }
  comm.allreduce(std::span(reporters));
  require(reporters[0] == 1, comm, std::to_string(reporters[0]) + " ranks reported the timeout");
}

// Runs one check on a fresh communicator; returns this rank's failure ("" if none).
std::string run_check(const ConformanceCheck& check) {
  parafit::MpiCommunicator::Options options;
  options.timeout = std::chrono::seconds(30);
  parafit::MpiCommunicator comm(MPI_COMM_WORLD, options);
  try {
    check.run(comm);
    return "";
  } catch (const CheckFailed& e) {
    comm.abort(e.what());
    return e.what();
  } catch (const parafit::RankFailed& e) {
    return std::string("(a consequence) ") + e.what();
  } catch (const std::exception& e) {
    const std::string what = "rank " + std::to_string(comm.rank()) + ": unexpected exception: " + e.what();
    comm.abort(what);
    return what;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int world_rank = 0;
  try {
    parafit::MpiSession session(argc, argv);
    parafit::MpiCommunicator agree;  // only for the verdicts
    world_rank = agree.rank();
    std::vector<ConformanceCheck> checks = parafit::conformance::conformance_checks();
    checks.push_back({"mpi_timeout_names_the_ranks_that_do_not_answer", 2, check_timeout_names_silent_ranks});
    checks.push_back({"mpi_timeouts_together_report_once", 2, check_timeouts_together_report_once});
    std::int64_t failed_checks = 0;
    for (const ConformanceCheck& check : checks) {
      if (agree.size() < check.min_ranks) {
        if (world_rank == 0) std::printf("skip  %s (needs %d ranks)\n", check.name.c_str(), check.min_ranks);
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      const std::string failure = run_check(check);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!failure.empty()) std::fprintf(stderr, "%s: %s\n", check.name.c_str(), failure.c_str());
      std::vector<std::int64_t> failed{failure.empty() ? 0 : 1};
      agree.allreduce(failed, parafit::ReduceOp::kMax);
      failed_checks += failed[0];
      if (world_rank == 0) {
        std::printf("%s  %s (%.2f s)\n", failed[0] ? "FAIL" : "ok  ", check.name.c_str(), seconds);
        std::fflush(stdout);
      }
    }
    if (world_rank == 0)
      std::printf("mpi_conformance: %d ranks, %lld of %zu checks failed\n", agree.size(),
                  static_cast<long long>(failed_checks), checks.size());
    return failed_checks == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", world_rank, e.what());
    return 3;
  }
}
