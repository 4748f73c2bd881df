#include "parafit/thread_communicator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "parafit/context.h"

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

// The collectives for 1 to 5 ranks. (gtest's EXPECT_* are thread-safe on Linux; each names its
// rank.)
class ThreadCommunicatorTest : public ::testing::TestWithParam<int> {};

TEST_P(ThreadCommunicatorTest, AllreduceSumsInt64Exactly) {
  const int n = GetParam();
  run_ranks(n, [&](Communicator& comm) {
    EXPECT_EQ(comm.size(), n);
    const std::int64_t r = comm.rank();
    std::vector<std::int64_t> v{r + 1, -r, (std::int64_t{1} << 60) + r};
    comm.allreduce_sum(v);
    EXPECT_EQ(v[0], std::int64_t{n} * (n + 1) / 2) << "rank " << r;
    EXPECT_EQ(v[1], -std::int64_t{n} * (n - 1) / 2) << "rank " << r;
    EXPECT_EQ(v[2], std::int64_t{n} * (std::int64_t{1} << 60) + std::int64_t{n} * (n - 1) / 2);
    std::vector<std::int64_t> none;
    comm.allreduce_sum(none);
  });
}

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
    std::vector<double> v(3);
    for (int k = 0; k < 3; ++k) v[std::size_t(k)] = value(comm.rank(), k);
    comm.allreduce_sum(v);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(std::memcmp(&v[k], &expected[k], sizeof(double)), 0)
          << "rank " << comm.rank() << ": " << v[k] << " != " << expected[k];
    }
  });
}

TEST_P(ThreadCommunicatorTest, BroadcastsFromEveryRoot) {
  const int n = GetParam();
  run_ranks(n, [&](Communicator& comm) {
    for (int root = 0; root < n; ++root) {
      std::vector<std::uint32_t> data(11, 0xDEADBEEF);
      if (comm.rank() == root) {
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::uint32_t(root * 1000 + int(i));
      }
      comm.broadcast(bytes_of(data), root);
      for (std::size_t i = 0; i < data.size(); ++i) {
        EXPECT_EQ(data[i], std::uint32_t(root * 1000 + int(i))) << "rank " << comm.rank();
      }
    }
  });
}

TEST_P(ThreadCommunicatorTest, BarrierWaitsForEveryRank) {
  const int n = GetParam();
  std::atomic<int> before{0};
  run_ranks(n, [&](Communicator& comm) {
    for (int round = 1; round <= 20; ++round) {
      if (comm.rank() == round % n) std::this_thread::sleep_for(milliseconds(1));
      ++before;
      comm.barrier();
      EXPECT_GE(before.load(), round * n) << "rank " << comm.rank() << " round " << round;
      comm.barrier();  // nobody starts the next round before everyone has checked this one
    }
  });
}

// The deterministic reduction across ranks: each rank computes a different part of the chunks, the
// ExactSum limbs are all-reduced, and the result equals one process computing all of them, bitwise.
TEST_P(ThreadCommunicatorTest, ChunkedSumAcrossRanksEqualsOneProcessBitwise) {
  const int n = GetParam();
  const std::size_t rows = 54'321;
  std::vector<double> data(rows);
  for (std::size_t i = 0; i < rows; ++i)
    data[i] = std::sin(double(i)) * std::exp(double(i % 29) - 14.0);
  const std::size_t chunk_rows = 500;
  const auto sums = [&](int rank, int size) {
    return [&data, rank, size, chunk_rows](std::size_t b, std::size_t e, std::span<double> p) {
      // Contiguous blocks of chunks per rank, like row shards aligned to chunks.
      const std::size_t chunks = (data.size() + chunk_rows - 1) / chunk_rows;
      const std::size_t owner = (b / chunk_rows) * std::size_t(size) / chunks;
      if (owner != std::size_t(rank)) return;
      for (std::size_t i = b; i < e; ++i) {
        p[0] += data[i];
        p[1] += data[i] * data[i];
        p[2] += 1e-300 * data[i];
      }
    };
  };
  Context single;
  single.threads = 2;
  single.chunk_rows = chunk_rows;
  const std::vector<double> expected = chunked_sum(single, rows, 3, sums(0, 1));

  run_ranks(n, [&](Communicator& comm) {
    Context ctx;
    ctx.threads = 1 + comm.rank() % 2;
    ctx.chunk_rows = chunk_rows;
    ctx.communicator = &comm;
    const std::vector<double> got = chunked_sum(ctx, rows, 3, sums(comm.rank(), comm.size()));
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(std::memcmp(&got[k], &expected[k], sizeof(double)), 0)
          << "rank " << comm.rank() << " of " << n << ", sum " << k << ": " << got[k]
          << " != " << expected[k];
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, ThreadCommunicatorTest, ::testing::Range(1, 6),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "ranks";
                         });

TEST(ThreadCommunicator, RecvMatchesSourceAndTagInOrderSent) {
  run_ranks(3, [](Communicator& comm) {
    if (comm.rank() == 0) {
      // Sent out of tag order, two with the same tag, and from two sources.
      comm.send(bytes_of(std::vector<int>{30}), 1, 3);
      comm.send(bytes_of(std::vector<int>{10, 11}), 1, 1);
      comm.send(bytes_of(std::vector<int>{20}), 1, 2);
      comm.send(bytes_of(std::vector<int>{31}), 1, 3);
    } else if (comm.rank() == 2) {
      comm.send(bytes_of(std::vector<int>{200}), 1, 2);
    } else {
      std::vector<int> one(1), two(2);
      comm.recv(bytes_of(one), 2, 2);
      EXPECT_EQ(one[0], 200);
      comm.recv(bytes_of(two), 0, 1);
      EXPECT_EQ(two, (std::vector<int>{10, 11}));
      comm.recv(bytes_of(one), 0, 2);
      EXPECT_EQ(one[0], 20);
      comm.recv(bytes_of(one), 0, 3);
      EXPECT_EQ(one[0], 30);
      comm.recv(bytes_of(one), 0, 3);
      EXPECT_EQ(one[0], 31);
    }
    comm.barrier();
  });
}

TEST(ThreadCommunicator, SendToSelfIsBuffered) {
  run_ranks(2, [](Communicator& comm) {
    const std::vector<double> out{1.5, double(comm.rank())};
    comm.send(bytes_of(out), comm.rank(), 9);
    std::vector<double> in(2);
    comm.recv(bytes_of(in), comm.rank(), 9);
    EXPECT_EQ(in, out);
  });
}

TEST(ThreadCommunicator, RecvWaitsForALaterSend) {
  run_ranks(2, [](Communicator& comm) {
    if (comm.rank() == 0) {
      std::this_thread::sleep_for(milliseconds(20));
      comm.send(bytes_of(std::vector<int>{42}), 1, 0);
    } else {
      std::vector<int> in(1);
      comm.recv(bytes_of(in), 0, 0);
      EXPECT_EQ(in[0], 42);
    }
  });
}

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
            comm.allreduce_sum(v);
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
        dynamic_cast<ThreadCommunicator&>(comm).abort("input file missing");
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
  EXPECT_THROW(group.rank(0).allreduce_sum(v), RankFailed);
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
                HasSubstr("rank " + std::to_string(named.load()) + ": recv(4 bytes) from rank"));
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
        comm.allreduce_sum(v);
      }
    });
    FAIL() << "run_ranks returned normally";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("allreduce_sum(double x 1) does not match barrier() called by rank 0"));
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
  EXPECT_THROW(run_ranks(2, [](Communicator& comm) { comm.send({}, 2, 0); }), Error);
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

}  // namespace
}  // namespace parafit
