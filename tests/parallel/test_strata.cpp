// The pieces that make training reproducible: strata, shares, shuffles, the validation split and
// the fixed-tree reduction across ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "parafit/thread_communicator.h"
#include "parallel/strata.h"
#include "parallel/strata_tree.h"

namespace parafit::detail {
namespace {

TEST(Strata, PlanCutsRowsEvenlyAndShrinksForSmallData) {
  const StrataPlan p = plan_strata(1000, 8);
  EXPECT_EQ(p.strata, 8u);
  EXPECT_EQ(p.bounds, (std::vector<std::size_t>{0, 125, 250, 375, 500, 625, 750, 875, 1000}));
  EXPECT_EQ(plan_strata(200, 8).strata, 3u);  // 200 / 64 = 3: no stratum under 64 rows
  EXPECT_EQ(plan_strata(10, 8).strata, 1u);
  const StrataPlan q = plan_strata(1001, 3);
  EXPECT_EQ(q.bounds, (std::vector<std::size_t>{0, 333, 667, 1001}));
  // Ranks own contiguous runs of strata; more ranks than strata leaves some with none.
  EXPECT_EQ(p.rank_bounds(3), (std::vector<std::size_t>{0, 250, 625, 1000}));
  EXPECT_EQ(q.rank_bounds(5), (std::vector<std::size_t>{0, 0, 333, 333, 667, 1001}));
}

TEST(Strata, SharesAddUpToTheBatchAndScaleWithIt) {
  for (std::size_t g_count : {1u, 3u, 8u})
    for (std::size_t b : {8u, 100u, 256u, 257u}) {
      std::size_t sum = 0;
      for (std::size_t g = 0; g < g_count; ++g) sum += stratum_share(b, g, g_count);
      EXPECT_EQ(sum, b);
    }
  // With G dividing b, a batch of K*b takes exactly K micro-batches' share from each stratum.
  for (std::size_t g = 0; g < 8; ++g) EXPECT_EQ(stratum_share(256, g, 8), 4 * stratum_share(64, g, 8));
}

TEST(Strata, EpochOrderIsAPermutationThatChangesPerEpochAndStratum) {
  const auto a = epoch_order(7, 0, 2, 1000);
  std::vector<std::uint32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint32_t> iota(1000);
  std::iota(iota.begin(), iota.end(), 0u);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(a, iota);
  EXPECT_EQ(a, epoch_order(7, 0, 2, 1000));  // deterministic
  EXPECT_NE(a, epoch_order(7, 1, 2, 1000));
  EXPECT_NE(a, epoch_order(7, 0, 3, 1000));
  EXPECT_NE(a, epoch_order(8, 0, 2, 1000));
}

TEST(Strata, RngBelowIsUniform) {
  Rng rng(3);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[rng.below(6)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);  // ~4 sigma
  double sum = 0, sum2 = 0;
  for (int i = 0; i < 100000; ++i) {
    const double z = rng.normal();
    sum += z;
    sum2 += z * z;
  }
  EXPECT_NEAR(sum / 1e5, 0.0, 0.015);
  EXPECT_NEAR(sum2 / 1e5, 1.0, 0.02);
}

TEST(Strata, ValidationSplitHasTheAskedFractionAndDependsOnlyOnSeedAndRow) {
  std::size_t held = 0;
  for (std::size_t row = 0; row < 100000; ++row) held += is_validation_row(5, row, 0.2) ? 1 : 0;
  EXPECT_NEAR(double(held) / 1e5, 0.2, 0.005);
  EXPECT_FALSE(is_validation_row(5, 17, 0.0));
  std::size_t same = 0;
  for (std::size_t row = 0; row < 1000; ++row) same += is_validation_row(5, row, 0.5) == is_validation_row(6, row, 0.5);
  EXPECT_LT(same, 600u);  // another seed, another split
}

TEST(TreeReduce, CoverIsTheLargestNodesInside) {
  using Nodes = std::vector<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(tree_cover(8, 0, 8), (Nodes{{0, 8}}));
  EXPECT_EQ(tree_cover(8, 0, 4), (Nodes{{0, 4}}));
  EXPECT_EQ(tree_cover(8, 2, 5), (Nodes{{2, 4}, {4, 5}}));
  EXPECT_EQ(tree_cover(8, 5, 8), (Nodes{{5, 6}, {6, 8}}));
  EXPECT_EQ(tree_cover(3, 0, 2), (Nodes{{0, 1}, {1, 2}}));  // node [0,3) splits as [0,1) + [1,3)
  EXPECT_TRUE(tree_cover(8, 3, 3).empty());
}

// The tree sum written out independently: node [lo, hi) = node [lo, mid) + node [mid, hi).
double tree_sum(const std::vector<double>& v, std::size_t lo, std::size_t hi) {
  if (hi - lo == 1) return v[lo] + 0.0;
  const std::size_t mid = lo + (hi - lo) / 2;
  return tree_sum(v, lo, mid) + tree_sum(v, mid, hi);
}

TEST(TreeReduce, SameBitsForAnyNumberOfRanks) {
  // Values of very different magnitudes, so that the order of additions shows in the bits.
  Rng rng(11);
  // 13 and 20 strata: nodes too large for one simd::tree_sum; 600 values: several of the tree's
  // blocks, the last one partial.
  for (std::size_t strata : {1u, 3u, 8u, 13u, 20u}) {
    const StrataPlan plan = plan_strata(strata * 64, strata);
    ASSERT_EQ(plan.strata, strata);
    const std::size_t width = 600;
    std::vector<std::vector<double>> values(width, std::vector<double>(strata));
    for (auto& column : values)
      for (double& v : column) v = (rng.uniform() - 0.5) * std::pow(10.0, double(rng.below(30)) - 15.0);
    std::vector<double> expected(width);
    for (std::size_t k = 0; k < width; ++k) expected[k] = tree_sum(values[k], 0, strata);
    for (int ranks : {1, 2, 3, 4, 5, 9}) {
      std::vector<std::vector<double>> results(static_cast<std::size_t>(ranks));
      run_ranks(ranks, [&](Communicator& comm) {
        StrataTree reducer(plan, comm, width);
        std::vector<double> local;
        for (std::size_t s = 0; s < reducer.owned(); ++s)
          for (std::size_t k = 0; k < width; ++k) local.push_back(values[k][reducer.first_owned() + s]);
        results[std::size_t(comm.rank())] = reducer.reduce(local);
      });
      for (const auto& r : results)
        for (std::size_t k = 0; k < width; ++k)
          ASSERT_EQ(r[k], expected[k]) << strata << " strata, " << ranks << " ranks, value " << k;
    }
  }
}

}  // namespace
}  // namespace parafit::detail
