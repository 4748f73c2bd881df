// A fit whose rows are spread over several ranks (threads standing in for MPI processes) must give
// the same answer, bit for bit, as one process holding all rows.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/thread_communicator.h"
#include "support/synthetic.h"

namespace parafit {
namespace {

constexpr std::size_t kChunk = 1000;

// Rank r of `size` gets rows [cut(r), cut(r+1)) with deliberately uneven, unaligned cuts.
std::size_t cut(std::size_t rows, int r, int size) {
  if (r == 0) return 0;
  if (r == size) return rows;
  return rows * std::size_t(r) / std::size_t(size) + 137 * std::size_t(r) % 701;
}

Dataset shard(const testing::Synthetic& s, std::size_t begin, std::size_t end) {
  Dataset d;
  d.add_column("x", std::vector<double>(s.x.begin() + std::ptrdiff_t(begin), s.x.begin() + std::ptrdiff_t(end)));
  d.add_column("y", std::vector<double>(s.y.begin() + std::ptrdiff_t(begin), s.y.begin() + std::ptrdiff_t(end)));
  d.add_column("w", std::vector<double>(s.w.begin() + std::ptrdiff_t(begin), s.w.begin() + std::ptrdiff_t(end)));
  return d;
}

void expect_same(const FitResult& a, const FitResult& b, const std::string& what) {
  EXPECT_EQ(a.summary.iterations, b.summary.iterations) << what;
  EXPECT_EQ(a.summary.final_rss, b.summary.final_rss) << what;
  EXPECT_EQ(a.summary.rss_history, b.summary.rss_history) << what;
  for (std::size_t j = 0; j < a.summary.parameters.size(); ++j) {
    EXPECT_EQ(a.start[j], b.start[j]) << what;
    EXPECT_EQ(a.summary.parameters[j], b.summary.parameters[j]) << what;
    EXPECT_EQ(a.statistics.parameters[j].std_error, b.statistics.parameters[j].std_error) << what;
  }
  EXPECT_EQ(a.statistics.r_squared, b.statistics.r_squared) << what;
  EXPECT_EQ(a.statistics.log_likelihood, b.statistics.log_likelihood) << what;
}

TEST(DistributedFit, BitwiseIdenticalForAnyNumberOfRanks) {
  const auto s = testing::make_synthetic(*make_builtin_model("exp-decay"), {2.5, 1.3, 0.5}, 23456, 0, 5, 0.05);
  FitSpec spec;
  spec.model = "exp-decay";  // self-started: the global sample must not depend on the ranks
  spec.weights = "w";
  Context local;
  local.threads = 2;
  local.chunk_rows = kChunk;
  const FitResult reference = fit(shard(s, 0, s.x.size()), spec, local);
  ASSERT_TRUE(reference.summary.IsSolutionUsable());

  for (int size : {1, 2, 3, 4}) {
    std::vector<FitResult> results(static_cast<std::size_t>(size));
    run_ranks(size, [&](Communicator& comm) {
      Dataset mine = shard(s, cut(s.x.size(), comm.rank(), size), cut(s.x.size(), comm.rank() + 1, size));
      align_to_chunks(mine, comm, kChunk);
      const RowLayout layout = row_layout(comm, mine.rows());
      EXPECT_EQ(layout.offset % kChunk, 0u);
      EXPECT_EQ(layout.total, s.x.size());
      Context ctx;
      ctx.threads = 1;
      ctx.chunk_rows = kChunk;
      ctx.communicator = &comm;
      results[std::size_t(comm.rank())] = fit(mine, spec, ctx);
    });
    for (int r = 0; r < size; ++r)
      expect_same(reference, results[std::size_t(r)], "rank " + std::to_string(r) + " of " + std::to_string(size));
  }
}

TEST(DistributedFit, AlignToChunksKeepsGlobalOrderEvenWithTinyShards) {
  std::vector<double> all(5000);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = double(i);
  // Shards of very different sizes, including empty ones and ones smaller than a chunk.
  const std::vector<std::size_t> cuts = {0, 10, 10, 2500, 2501, 5000};
  const int size = int(cuts.size()) - 1;
  std::vector<std::vector<double>> got(static_cast<std::size_t>(size));
  run_ranks(size, [&](Communicator& comm) {
    const std::size_t r = std::size_t(comm.rank());
    Dataset d;
    d.add_column("v", std::vector<double>(all.begin() + std::ptrdiff_t(cuts[r]), all.begin() + std::ptrdiff_t(cuts[r + 1])));
    align_to_chunks(d, comm, 1000);
    const auto col = d.column(0);
    got[r].assign(col.begin(), col.end());
  });
  std::vector<double> joined;
  for (int r = 0; r < size; ++r) {
    if (!got[std::size_t(r)].empty()) {
      EXPECT_EQ(std::size_t(got[std::size_t(r)].front()) % 1000, 0u) << r;
    }
    joined.insert(joined.end(), got[std::size_t(r)].begin(), got[std::size_t(r)].end());
  }
  EXPECT_EQ(joined, all);
}

TEST(DistributedFit, OneRanksBadRowStopsEveryRankWithTheSameMessage) {
  const auto s = testing::make_synthetic(*make_builtin_model("poly:1"), {1, 2}, 4000, 0, 1, 0.1);
  std::vector<std::string> messages(3);
  run_ranks(3, [&](Communicator& comm) {
    Dataset mine = shard(s, cut(s.x.size(), comm.rank(), 3), cut(s.x.size(), comm.rank() + 1, 3));
    align_to_chunks(mine, comm, kChunk);
    if (comm.rank() == 2) {
      // A negative weight in rank 2's rows only.
      std::vector<double> w(mine.column("w").begin(), mine.column("w").end());
      w[5] = -1;
      Dataset bad;
      bad.add_column("x", std::vector<double>(mine.column("x").begin(), mine.column("x").end()));
      bad.add_column("y", std::vector<double>(mine.column("y").begin(), mine.column("y").end()));
      bad.add_column("w", std::move(w));
      mine = std::move(bad);
    }
    FitSpec spec;
    spec.model = "poly:1";
    spec.weights = "w";
    Context ctx;
    ctx.threads = 1;
    ctx.chunk_rows = kChunk;
    ctx.communicator = &comm;
    try {
      fit(mine, spec, ctx);
    } catch (const Error& e) {
      messages[std::size_t(comm.rank())] = e.what();
    }
  });
  const RowLayout expected_row{3000, 0};  // rank 2 starts at global row 3000 after alignment
  for (const auto& m : messages) {
    EXPECT_EQ(m, messages[0]);
    EXPECT_NE(m.find("rank 2: weight of data row " + std::to_string(expected_row.offset + 6) + " is -1"),
              std::string::npos)
        << m;
  }
}

TEST(Distributed, AgreeOrThrowNamesTheLowestFailingRank) {
  std::vector<std::string> messages(4);
  run_ranks(4, [&](Communicator& comm) {
    try {
      agree_or_throw(comm, comm.rank() == 1 || comm.rank() == 3 ? "bad " + std::to_string(comm.rank()) : "");
    } catch (const Error& e) {
      messages[std::size_t(comm.rank())] = e.what();
    }
  });
  for (const auto& m : messages) EXPECT_EQ(m, "rank 1: bad 1 (and 1 other rank(s) failed)");
}

TEST(Distributed, GlobalSampleIsTheSameForAnyNumberOfRanks) {
  std::vector<double> all(10007);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = double(i) * 0.5;
  std::vector<double> expected;
  for (std::size_t i = 0; i < 100; ++i) expected.push_back(all[i * all.size() / 100]);
  for (int size : {1, 2, 5}) {
    std::mutex m;
    std::vector<std::vector<double>> got;
    run_ranks(size, [&](Communicator& comm) {
      const std::size_t b = all.size() * std::size_t(comm.rank()) / std::size_t(size);
      const std::size_t e = all.size() * std::size_t(comm.rank() + 1) / std::size_t(size);
      const auto sample = global_sample({std::span<const double>(all).subspan(b, e - b)}, comm, 100);
      std::lock_guard lock(m);
      got.push_back(sample[0]);
    });
    for (const auto& g : got) EXPECT_EQ(g, expected) << size << " ranks";
  }
}

}  // namespace
}  // namespace parafit
