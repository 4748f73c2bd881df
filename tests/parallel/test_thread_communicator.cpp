#include "parafit/thread_communicator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>


namespace parafit {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
  return std::as_bytes(std::span(v));
}
template <class T>
std::span<std::byte> bytes_of(std::vector<T>& v) {
  return std::as_writable_bytes(std::span(v));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// What is specific to the ranks-as-threads backend; the conformance suite (conformance/,
// test_conformance.cpp) checks every call on every backend.

// Reductions combine the ranks' values in rank order, so even double sums are deterministic.
class ThreadCommunicatorTest : public ::testing::TestWithParam<int> {};

TEST_P(ThreadCommunicatorTest, AllreduceSumsDoublesInRankOrder) {
  const int n = GetParam();
  // Values whose sum depends on the order of addition.
  const auto value = [](int r, int k) {
    return (r % 2 == 0 ? 1e16 : -1e16) * (k + 1) + 1.0 + 0.1 * r;
  };
  std::vector<double> expected(3);
  for (int k = 0; k < 3; ++k) {
    expected[std::size_t(k)] = value(0, k);
    for (int r = 1; r < n; ++r) expected[std::size_t(k)] += value(r, k);
  }
  run_ranks(n, [&](Communicator& comm) {
    std::vector<double> v(3), w(3);
    for (int k = 0; k < 3; ++k) v[std::size_t(k)] = w[std::size_t(k)] = value(comm.rank(), k);
    comm.allreduce(v);
    comm.iallreduce(std::span(w)).wait();
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(std::memcmp(&v[k], &expected[k], sizeof(double)), 0)
          << "rank " << comm.rank() << ": " << v[k] << " != " << expected[k];
      EXPECT_EQ(std::memcmp(&w[k], &expected[k], sizeof(double)), 0) << "iallreduce, rank " << comm.rank();
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, ThreadCommunicatorTest, ::testing::Range(1, 6),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "ranks";
                         });

TEST(ThreadCommunicator, OneRankThrowingFailsEveryOtherFast) {
  std::mutex mutex;
  std::vector<std::string> seen(4);
  const auto start = Clock::now();
  try {
    run_ranks(4, [&](Communicator& comm) {
      try {
        switch (comm.rank()) {
          case 0:
            comm.barrier();
            break;
          case 1: {
            std::vector<int> in(1);
            comm.recv(bytes_of(in), 2, 5);
            break;
          }
          case 2:
            std::this_thread::sleep_for(milliseconds(30));
            throw std::runtime_error("boom");
          default: {
            // Enters a collective only after rank 2 has failed.
            std::this_thread::sleep_for(milliseconds(100));
            std::vector<double> v{1.0};
            comm.allreduce(v);
          }
        }
      } catch (const RankFailed& e) {
        std::lock_guard lock(mutex);
        seen[std::size_t(comm.rank())] = e.what();
        EXPECT_EQ(e.failed_rank(), 2);
        EXPECT_EQ(e.reason(), "boom");
        throw;
      }
    });
    FAIL() << "run_ranks returned normally";
  } catch (const std::runtime_error& e) {
    // The root cause, not one of its consequences.
    EXPECT_STREQ(e.what(), "boom");
    EXPECT_EQ(dynamic_cast<const RankFailed*>(&e), nullptr);
  }
  EXPECT_LT(seconds_since(start), 1.0);
  for (int r : {0, 1, 3}) EXPECT_EQ(seen[std::size_t(r)], "rank 2 failed: boom") << "rank " << r;
}

TEST(ThreadCommunicator, AbortFailsTheGroupOnBehalfOfTheRank) {
  const auto start = Clock::now();
  try {
    run_ranks(3, [](Communicator& comm) {
      if (comm.rank() == 1) {
        std::this_thread::sleep_for(milliseconds(10));
        comm.abort("input file missing");
        return;
      }
      comm.barrier();
    });
    FAIL() << "run_ranks returned normally";
  } catch (const RankFailed& e) {
    EXPECT_EQ(e.failed_rank(), 1);
    EXPECT_STREQ(e.what(), "rank 1 failed: input file missing");
  }
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(ThreadCommunicator, LaterCallsOnAFailedGroupThrow) {
  ThreadGroup group(2);
  group.abort(1, "gone");
  EXPECT_TRUE(group.failed());
  std::vector<std::int64_t> v{1};
  EXPECT_THROW(group.rank(0).allreduce(v), RankFailed);
  EXPECT_THROW(group.rank(0).send(bytes_of(v), 1, 0), RankFailed);
  EXPECT_THROW(group.rank(1).recv(bytes_of(v), 0, 0), RankFailed);
  group.abort(0, "second");  // only the first failure is kept
  try {
    group.rank(0).barrier();
    FAIL();
  } catch (const RankFailed& e) {
    EXPECT_STREQ(e.what(), "rank 1 failed: gone");
  }
}

TEST(ThreadCommunicator, TimeoutThrowsInsteadOfWaitingForever) {
  const auto start = Clock::now();
  ThreadGroup lonely(2, milliseconds(50));
  try {
    lonely.rank(0).barrier();  // rank 1 never comes
    FAIL() << "barrier returned";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("rank 0: barrier() timed out after 50 ms: 1 of 2 ranks arrived"));
  }
  EXPECT_TRUE(lonely.failed());
  EXPECT_LT(seconds_since(start), 1.0);

  // Under run_ranks: the rank that timed out is the root cause; the other learns of it. (Rank 1
  // starts waiting later, so rank 0 normally times out first; either way one rank is the cause.)
  const auto start2 = Clock::now();
  std::atomic<int> named{-1};
  try {
    run_ranks(
        2,
        [&](Communicator& comm) {
          std::vector<int> in(1);
          if (comm.rank() == 1) std::this_thread::sleep_for(milliseconds(20));
          try {
            comm.recv(bytes_of(in), 1 - comm.rank(), 7);  // never sent
          } catch (const RankFailed& e) {
            named = e.failed_rank();
            EXPECT_TRUE(e.after_timeout()) << e.what();  // as the MPI backend's (mpi_conformance.cpp)
            throw;
          }
        },
        milliseconds(40));
    FAIL() << "run_ranks returned normally";
  } catch (const RankFailed&) {
    FAIL() << "the root cause should be rethrown";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("timed out after 40 ms"));
    ASSERT_NE(named.load(), -1) << "the other rank did not learn of the failure";
    EXPECT_THAT(e.what(),
                HasSubstr("rank " + std::to_string(named.load()) + ": irecv(4 bytes) from rank"));
  }
  EXPECT_LT(seconds_since(start2), 1.0);
}

TEST(ThreadCommunicator, ARankThatReturnedCannotBeWaitedFor) {
  const auto start = Clock::now();
  EXPECT_THROW(
      {
        try {
          run_ranks(3, [](Communicator& comm) {
            if (comm.rank() == 0) return;
            comm.barrier();
          });
        } catch (const Error& e) {
          EXPECT_THAT(e.what(), HasSubstr("barrier() can never complete: rank 0 has returned"));
          throw;
        }
      },
      Error);
  EXPECT_THROW(run_ranks(2,
                         [](Communicator& comm) {
                           std::vector<int> in(1);
                           if (comm.rank() == 1) comm.recv(bytes_of(in), 0, 1);
                         }),
               Error);
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(ThreadCommunicator, MismatchedCallsAreErrors) {
  try {
    run_ranks(2, [](Communicator& comm) {
      if (comm.rank() == 0) {
        comm.barrier();
      } else {
        std::this_thread::sleep_for(milliseconds(10));
        std::vector<double> v{1.0};
        comm.allreduce(v);
      }
    });
    FAIL() << "run_ranks returned normally";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("rank 1: allreduce(double x 1, sum) does not match barrier() called by rank 0"));
  }
  // Matched by sequence number: a pending iallreduce is call 0, so rank 1's broadcast (its call
  // 0) meets it.
  try {
    run_ranks(2, [](Communicator& comm) {
      std::vector<std::int64_t> v{1, 2};
      if (comm.rank() == 0) {
        Work w = comm.iallreduce(std::span(v), ReduceOp::kMax);
        comm.barrier();
        w.wait();
      } else {
        std::this_thread::sleep_for(milliseconds(10));
        comm.broadcast(v, 0);
      }
    });
    FAIL() << "run_ranks returned normally";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("broadcast(int64 x 2, root 0) does not match iallreduce(int64 x 2, max) "
                                    "called by rank 0"));
  }

  // The received message must fill the buffer exactly.
  EXPECT_THROW(run_ranks(2,
                         [](Communicator& comm) {
                           if (comm.rank() == 0) {
                             comm.send(bytes_of(std::vector<int>{1, 2}), 1, 0);
                           } else {
                             std::vector<int> in(3);
                             comm.recv(bytes_of(in), 0, 0);
                           }
                         }),
               Error);
  EXPECT_THROW(ThreadGroup(0), std::invalid_argument);
}

TEST(ThreadCommunicator, RunRethrowsTheLowestRanksOwnError) {
  try {
    run_ranks(4, [](Communicator& comm) {
      if (comm.rank() >= 2) throw std::out_of_range("rank " + std::to_string(comm.rank()));
    });
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "rank 2");
  }
  ThreadGroup group(1);
  group.run([](Communicator&) {});
  EXPECT_THROW(group.run([](Communicator&) {}), std::logic_error);
}

TEST(ThreadCommunicator, ADestroyedCommunicatorCannotBeWaitedFor) {
  const auto start = Clock::now();
  try {
    run_ranks(2, [](Communicator& comm) {
      std::unique_ptr<Communicator> child = comm.split(0, comm.rank());
      if (comm.rank() == 1) {
        child.reset();
        comm.barrier();  // the parent is still there
        return;
      }
      comm.barrier();
      child->barrier();
    });
    FAIL() << "run_ranks returned normally";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("rank 0: barrier() can never complete: rank 1 has destroyed its communicator"));
  }
  EXPECT_LT(seconds_since(start), 1.0);
}

// A failure inherited from the parent names the failing rank by its number in the subgroup when it
// is a member, and as a rank of the parent otherwise.
TEST(ThreadCommunicator, InheritedFailuresNameTheRank) {
  ThreadGroup group(4);
  std::vector<std::unique_ptr<Communicator>> evens(4), odds(4);
  group.run([&](Communicator& comm) {
    auto child = comm.split(comm.rank() % 2, -comm.rank());  // {2, 0} and {3, 1}
    (comm.rank() % 2 == 0 ? evens : odds)[std::size_t(comm.rank())] = std::move(child);
  });
  group.abort(3, "disk full");
  try {
    odds[1]->barrier();
    FAIL();
  } catch (const RankFailed& e) {
    EXPECT_EQ(e.failed_rank(), 0);  // rank 3 is rank 0 of {3, 1}
    EXPECT_STREQ(e.what(), "rank 0 failed: disk full");
  }
  try {
    evens[0]->barrier();
    FAIL();
  } catch (const RankFailed& e) {
    EXPECT_EQ(e.failed_rank(), -1);
    EXPECT_STREQ(e.what(), "rank 3 of the parent communicator failed: disk full");
  }
}

// A timeout fails the group it happened in and the groups split from it, not the parent.
TEST(ThreadCommunicator, ATimeoutInASubgroupSparesTheParent) {
  const auto start = Clock::now();
  std::vector<std::string> seen(3);
  run_ranks(
      3,
      [&](Communicator& comm) {
        auto child = comm.split(comm.rank() == 2 ? -1 : 0, comm.rank());
        if (!child) std::this_thread::sleep_for(milliseconds(300));  // comes to the parent after the timeouts
        if (child) {
          std::vector<std::int64_t> v{1};
          try {
            if (comm.rank() == 0) child->iallreduce(std::span(v)).wait();  // rank 1 never joins
            else child->irecv(std::as_writable_bytes(std::span(v)), 0, 0).wait();
          } catch (const Error& e) {
            seen[std::size_t(comm.rank())] = e.what();
          }
        }
        std::vector<std::int64_t> one{1};
        comm.allreduce(one);
        EXPECT_EQ(one[0], 3);
      },
      milliseconds(200));
  EXPECT_THAT(seen[0] + seen[1], HasSubstr("timed out after 200 ms"));
  EXPECT_LT(seconds_since(start), 2.0);
}

}  // namespace
}  // namespace parafit
