// parafit_testing: the parafit program with its test seam (apps/parafit/test_seam.h) set from
// environment variables, for the command-line tests that need a rank to lose its data, die in a
// collective, or stop training as if killed. Only tests run it; `parafit` itself has no such hooks.
//   PARAFIT_TESTING_HIDE_DATA_RANK=r      rank r reads a file that does not exist instead of --data
//   PARAFIT_TESTING_EXIT_RANK=r           rank r exits with code 3, without a word to the others,
//   PARAFIT_TESTING_EXIT_AFTER=n          when it enters its n-th all-reduce (default 1)
//   PARAFIT_TESTING_STOP_AFTER_STEPS=n    train stops after n optimizer steps, as if killed
//   PARAFIT_TESTING_KILL_RANK=r           rank r of train sends itself SIGKILL after its n-th step
//   PARAFIT_TESTING_HANG_RANK=r           rank r of train sleeps forever after its n-th step (a hung rank)
//   PARAFIT_TESTING_AT_STEP=n             the step of KILL_RANK and HANG_RANK (default 1)
//   PARAFIT_TESTING_EXIT_OP=op            the operation EXIT_RANK counts (default allreduce; e.g. isend)
//   PARAFIT_TESTING_HANG_OP=op            HANG_RANK hangs when it enters its AT_STEP-th call of op
//                                         instead (for ranks that take no steps: a parameter server)
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unistd.h>

#include "run_main.h"
#include "test_seam.h"

namespace {

// Exits the process (or hangs) when it enters its n-th call of one operation.
class ExitingCommunicator final : public parafit::ForwardingCommunicator {
 public:
  ExitingCommunicator(std::unique_ptr<parafit::Communicator> inner, std::string operation, long after, bool hang)
      : ForwardingCommunicator(std::move(inner)), operation_(std::move(operation)), after_(after), hang_(hang) {}

 protected:
  void before(const char* operation) override {
    if (std::string_view(operation) != operation_ || ++count_ != after_) return;
    if (hang_) {
      fmt::print(stderr, "parafit: rank {}: hanging in {} {} (PARAFIT_TESTING_HANG_RANK)\n", rank(), operation_,
                 count_);
      std::fflush(stderr);
      for (;;) pause();
    }
    fmt::print(stderr, "parafit: rank {}: exiting on purpose in {} {} (PARAFIT_TESTING_EXIT_RANK)\n", rank(),
               operation_ == "allreduce" ? "all-reduce" : operation_, count_);
    std::fflush(stderr);
    std::_Exit(3);
  }

 private:
  std::string operation_;
  long after_;
  bool hang_;
  long count_ = 0;
};

std::string env_text(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

long env_number(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atol(v) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  parafit::cli::TestSeam& seam = parafit::cli::test_seam();
  if (const long hide = env_number("PARAFIT_TESTING_HIDE_DATA_RANK", -1); hide >= 0)
    seam.data_path = [hide](const std::string& path, int rank) {
      return rank == hide ? path + ".hidden-by-PARAFIT_TESTING_HIDE_DATA_RANK" : path;
    };
  if (const long exit_rank = env_number("PARAFIT_TESTING_EXIT_RANK", -1); exit_rank >= 0) {
    const long after = env_number("PARAFIT_TESTING_EXIT_AFTER", 1);
    const std::string op = env_text("PARAFIT_TESTING_EXIT_OP", "allreduce");
    seam.wrap_communicator = [exit_rank, after, op](std::unique_ptr<parafit::Communicator> comm) {
      if (comm->rank() != exit_rank) return comm;
      return std::unique_ptr<parafit::Communicator>(
          std::make_unique<ExitingCommunicator>(std::move(comm), op, after, false));
    };
  }
  const long kill_rank = env_number("PARAFIT_TESTING_KILL_RANK", -1);
  const long hang_rank = env_number("PARAFIT_TESTING_HANG_RANK", -1);
  if (const std::string op = env_text("PARAFIT_TESTING_HANG_OP", ""); hang_rank >= 0 && !op.empty()) {
    const long at = env_number("PARAFIT_TESTING_AT_STEP", 1);
    seam.wrap_communicator = [hang_rank, at, op](std::unique_ptr<parafit::Communicator> comm) {
      if (comm->rank() != hang_rank) return comm;
      return std::unique_ptr<parafit::Communicator>(std::make_unique<ExitingCommunicator>(std::move(comm), op, at, true));
    };
  } else if (kill_rank >= 0 || hang_rank >= 0) {
    const long at = env_number("PARAFIT_TESTING_AT_STEP", 1);
    seam.after_step = [kill_rank, hang_rank, at](int rank, std::size_t step) {
      if (long(step) != at) return;
      if (rank == kill_rank) {
        fmt::print(stderr, "parafit: rank {}: killing itself with SIGKILL after step {} (PARAFIT_TESTING_KILL_RANK)\n",
                   rank, step);
        std::fflush(stderr);
        std::raise(SIGKILL);
      }
      if (rank == hang_rank) {
        fmt::print(stderr, "parafit: rank {}: hanging after step {} (PARAFIT_TESTING_HANG_RANK)\n", rank, step);
        std::fflush(stderr);
        for (;;) pause();
      }
    };
  }
  seam.stop_after_steps = std::size_t(env_number("PARAFIT_TESTING_STOP_AFTER_STEPS", 0));
  return parafit::cli::run_main(argc, argv);
}
