#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "parafit/context.h"
#include "parafit/error.h"

namespace parafit {
namespace {

std::vector<double> sums_with(int threads, const std::vector<double>& data) {
  Context ctx;
  ctx.threads = threads;
  ctx.chunk_rows = 1000;
  return chunked_sum(ctx, data.size(), 2, [&](std::size_t b, std::size_t e, std::span<double> p) {
    for (std::size_t i = b; i < e; ++i) {
      p[0] += data[i];
      p[1] += data[i] * data[i];
    }
  });
}

TEST(ChunkedSum, BitwiseIdenticalForAnyThreadCount) {
  std::vector<double> data(123457);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::sin(double(i)) * std::exp(double(i % 17));
  const auto one = sums_with(1, data);
  for (int t : {2, 3, 7, 16}) {
    const auto many = sums_with(t, data);
    EXPECT_EQ(one[0], many[0]) << t << " threads";
    EXPECT_EQ(one[1], many[1]) << t << " threads";
  }
  // And it is the right sum: compare with a long double serial sum.
  long double ref = 0;
  for (double v : data) ref += v;
  EXPECT_NEAR(one[0], double(ref), 1e-9 * std::abs(double(ref)) + 1e-9);
}

TEST(ChunkedSum, VisitsEveryRowOnceInFixedChunks) {
  Context ctx;
  ctx.threads = 3;
  ctx.chunk_rows = 7;
  const auto s = chunked_sum(ctx, 50, 2, [&](std::size_t b, std::size_t e, std::span<double> p) {
    EXPECT_EQ(b % 7, 0u);
    EXPECT_LE(e - b, 7u);
    p[0] += double(e - b);
    for (std::size_t i = b; i < e; ++i) p[1] += double(i);
  });
  EXPECT_EQ(s[0], 50.0);
  EXPECT_EQ(s[1], 49.0 * 50.0 / 2.0);
}

TEST(ChunkedSum, ZeroRowsGiveZeros) {
  const auto s = chunked_sum(Context{}, 0, 3, [](std::size_t, std::size_t, std::span<double>) {});
  EXPECT_EQ(s, (std::vector<double>{0, 0, 0}));
}

// Repeated: the race it guards against (a thread that fetched chunk 50 skipping it because chunk 51
// had already failed) shows only under some thread timings; TSan's scheduling found it.
TEST(ChunkedSum, RethrowsTheErrorOfTheFirstFailingChunk) {
  Context ctx;
  ctx.threads = 4;
  ctx.chunk_rows = 10;
  for (int repeat = 0; repeat < 100; ++repeat) {
    try {
      chunked_sum(ctx, 1000, 1, [](std::size_t b, std::size_t, std::span<double>) {
        if (b >= 500) throw Error("chunk " + std::to_string(b / 10));
      });
      FAIL() << "expected an exception";
    } catch (const Error& e) {
      ASSERT_STREQ(e.what(), "chunk 50") << "repeat " << repeat;
    }
  }
}

TEST(ParallelChunks, CoversAllRows) {
  Context ctx;
  ctx.threads = 3;
  ctx.chunk_rows = 64;
  std::vector<int> seen(1000, 0);
  parallel_chunks(ctx, seen.size(), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) ++seen[i];
  });
  for (int s : seen) ASSERT_EQ(s, 1);
}

}  // namespace
}  // namespace parafit
