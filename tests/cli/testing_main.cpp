// parafit_testing: the parafit program with its test seam (apps/parafit/test_seam.h) set from
// environment variables, for the command-line tests that need a rank to lose its data, die in a
// collective, or stop training as if killed. Only tests run it; `parafit` itself has no such hooks.
//   PARAFIT_TESTING_HIDE_DATA_RANK=r      rank r reads a file that does not exist instead of --data
//   PARAFIT_TESTING_EXIT_RANK=r           rank r exits with code 3, without a word to the others,
//   PARAFIT_TESTING_EXIT_AFTER=n          when it enters its n-th all-reduce (default 1)
//   PARAFIT_TESTING_STOP_AFTER_STEPS=n    train stops after n optimizer steps, as if killed
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "run_main.h"
#include "test_seam.h"

namespace {

// Exits the process when it enters its n-th all-reduce.
class ExitingCommunicator final : public parafit::ForwardingCommunicator {
 public:
  ExitingCommunicator(std::unique_ptr<parafit::Communicator> inner, long after)
      : ForwardingCommunicator(std::move(inner)), after_(after) {}

 protected:
  void before(const char* operation) override {
    if (std::string_view(operation) != "allreduce" || ++count_ < after_) return;
    fmt::print(stderr, "parafit: rank {}: exiting on purpose in all-reduce {} (PARAFIT_TESTING_EXIT_RANK)\n", rank(),
               count_);
    std::fflush(stderr);
    std::_Exit(3);
  }

 private:
  long after_;
  long count_ = 0;
};

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
    seam.wrap_communicator = [exit_rank, after](std::unique_ptr<parafit::Communicator> comm) {
      if (comm->rank() != exit_rank) return comm;
      return std::unique_ptr<parafit::Communicator>(std::make_unique<ExitingCommunicator>(std::move(comm), after));
    };
  }
  seam.stop_after_steps = std::size_t(env_number("PARAFIT_TESTING_STOP_AFTER_STEPS", 0));
  return parafit::cli::run_main(argc, argv);
}
