// One conformance suite for every Communicator backend (LocalCommunicator, ThreadGroup ranks,
// MpiCommunicator): each check is a function every rank of a communicator runs. The checks assert
// with require(), which needs no gtest, so that both runners use them: the gtest runner
// (tests/parallel/test_conformance.cpp: LocalCommunicator and ThreadGroups of 1 to 4 ranks) and
// the MPI program (tests/mpi/mpi_conformance.cpp, under mpirun -np 1 to 4).
//
// A runner gives each check a communicator of its own (a fresh ThreadGroup, a fresh
// MpiCommunicator over MPI_COMM_WORLD), so that a check that fails the communicator on purpose, or
// a check that fails, leaves the others unaffected. A check whose assertion fails throws
// CheckFailed on that rank; the runner then aborts the check's communicator, so that the other
// ranks do not wait for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <vector>

#include "parafit/communicator.h"

namespace parafit::conformance {

struct ConformanceCheck {
  std::string name;  // letters, digits and underscores (it names a gtest case)
  int min_ranks;     // runners skip the check on fewer ranks
  std::function<void(Communicator&)> run;
};

// Every check, in a fixed order.
const std::vector<ConformanceCheck>& conformance_checks();

// A check's assertion failed on this rank: "rank 2: allreduce(double x 7, max): element 3 is 5,
// expected 4".
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws CheckFailed("rank R: what") unless ok.
void require(bool ok, const Communicator& comm, const std::string& what);

std::string show(std::byte v);
std::string show(std::int64_t v);
std::string show(float v);
std::string show(double v);
std::string show(std::size_t v);
std::string show(int v);

// Requires got[i] == expected(i) for every i (the test values are exact); the failure names the
// first element that differs, both values, and how many differ.
template <class T, class Expected>
void require_each(std::span<const T> got, const Expected& expected, const Communicator& comm,
                  const std::string& what) {
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const T e = expected(i);
    if (!(got[i] == e)) {
      if (differ++ == 0) first = i;
    }
  }
  if (differ == 0) return;
  require(false, comm,
          what + ": element " + std::to_string(first) + " of " + std::to_string(got.size()) + " is " +
              show(got[first]) + ", expected " + show(T(expected(first))) +
              (differ > 1 ? " (" + std::to_string(differ) + " elements differ)" : ""));
}
template <class T>
void require_equal(std::span<const T> got, std::span<const T> expected, const Communicator& comm,
                   const std::string& what) {
  require(got.size() == expected.size(), comm,
          what + ": " + std::to_string(got.size()) + " elements, expected " + std::to_string(expected.size()));
  require_each<T>(got, [&](std::size_t i) { return expected[i]; }, comm, what);
}

// Calls f() and requires it to throw RankFailed naming `rank` and `reason` within `seconds`.
void require_rank_failed(const Communicator& comm, int rank, const std::string& reason,
                         const std::function<void()>& f, const std::string& what, double seconds = 10.0);
// Calls f() and requires it to throw parafit::Error, but not RankFailed.
void require_error(const Communicator& comm, const std::function<void()>& f, const std::string& what);

// The test data: exact small integers, different per rank and element, so that sums, maxima and
// minima over up to a few ranks are exact in every type.
template <class T>
T value(int rank, std::size_t i) {
  const auto v = static_cast<std::int64_t>((i * 7 + static_cast<std::size_t>(rank) * 13) % 23) - 11;
  if constexpr (std::is_same_v<T, std::byte>)
    return static_cast<std::byte>(static_cast<unsigned char>(v + 11 + rank * 29));
  else
    return static_cast<T>(v);
}
template <class T>
std::vector<T> values(int rank, std::size_t count) {
  std::vector<T> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = value<T>(rank, i);
  return v;
}

// The sizes every call is checked with.
inline constexpr std::size_t kSizes[] = {0, 1, 7, 1'000'000};

// The checks of each file (conformance_checks() lists them all).
void add_collective_checks(std::vector<ConformanceCheck>& checks);
void add_message_checks(std::vector<ConformanceCheck>& checks);
void add_split_checks(std::vector<ConformanceCheck>& checks);
void add_failure_checks(std::vector<ConformanceCheck>& checks);
void add_other_checks(std::vector<ConformanceCheck>& checks);

}  // namespace parafit::conformance
