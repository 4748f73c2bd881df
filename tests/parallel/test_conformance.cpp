// The conformance suite (conformance/) on LocalCommunicator and on ThreadGroups of 1 to 4 ranks;
// the MPI backend runs it under mpirun (tests/mpi/mpi_conformance.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>

#include "parallel/conformance/conformance.h"
#include "parafit/thread_communicator.h"

namespace parafit::conformance {
namespace {

// 0: LocalCommunicator; n > 0: a ThreadGroup of n ranks.
using Param = std::tuple<std::size_t, int>;

class Conformance : public ::testing::TestWithParam<Param> {};

TEST_P(Conformance, Passes) {
  const auto [index, ranks] = GetParam();
  const ConformanceCheck& check = conformance_checks()[index];
  if (std::max(ranks, 1) < check.min_ranks) GTEST_SKIP() << check.name << " needs " << check.min_ranks << " ranks";
  try {
    if (ranks == 0) {
      LocalCommunicator local;
      check.run(local);
    } else {
      // A fresh group for every check; a wait that outlives the timeout is a failure, not a hang.
      ThreadGroup(ranks, std::chrono::seconds(30)).run(check.run);
    }
  } catch (const std::exception& e) {
    FAIL() << check.name << ": " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Conformance,
                         ::testing::Combine(::testing::Range(std::size_t{0}, conformance_checks().size()),
                                            ::testing::Values(0, 1, 2, 3, 4)),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           const int ranks = std::get<1>(info.param);
                           return conformance_checks()[std::get<0>(info.param)].name + "_" +
                                  (ranks == 0 ? std::string("local") : "threads" + std::to_string(ranks));
                         });

}  // namespace
}  // namespace parafit::conformance
