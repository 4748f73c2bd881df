// train/strata.h — how the training rows are cut into strata, dealt to ranks, split for
// validation and drawn into mini-batches.
//
// Why strata: parafit promises the same weights, bit for bit, for any number of threads and ranks,
// and each rank holds only its shard of the data. A globally shuffled batch would mix rows of every
// shard, and its gradient would be summed in an order that depends on who holds which row. Instead
// the N rows are cut into G contiguous strata (G fixed for the run, never derived from the worker
// count). Every mini-batch takes its share of rows from each stratum, drawn from that stratum's own
// per-epoch shuffle; a stratum's gradient is folded row by row in draw order, and the G stratum sums
// are combined in a fixed tree (strata_tree.h). A stratum lives whole on one rank (ranks own
// contiguous runs of strata) and on one thread at a time, so nothing in the arithmetic depends on
// the number of workers. Stratified sampling is also a sound SGD scheme in its own right: every
// batch sees every part of the file, even a file sorted by x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parafit::detail {

// Fewest rows per stratum: smaller data uses fewer strata rather than tiny ones.
inline constexpr std::size_t kMinStratumRows = 64;

struct StrataPlan {
  std::size_t rows = 0;               // N: rows in the whole data set (all ranks)
  std::size_t strata = 0;             // G: strata actually used
  std::vector<std::size_t> bounds;    // G + 1 global row bounds: stratum g is [bounds[g], bounds[g+1])

  // First stratum of rank r of `ranks` (ranks own contiguous runs; some own none when ranks > G).
  std::size_t first_stratum(std::size_t rank, std::size_t ranks) const { return rank * strata / ranks; }
  // Global row bounds of every rank's data: ranks + 1 values.
  std::vector<std::size_t> rank_bounds(std::size_t ranks) const;
};

// G = min(max_strata, max(1, rows / kMinStratumRows)); stratum g holds rows
// [floor(g*N/G), floor((g+1)*N/G)).
StrataPlan plan_strata(std::size_t rows, std::size_t max_strata);

// Rows in stratum g's share of a micro-batch of `batch` rows: floor((g+1)b/G) - floor(g b/G).
// With G dividing b every share is b/G, so a batch of K*b takes exactly K micro-batches' rows.
std::size_t stratum_share(std::size_t batch, std::size_t g, std::size_t strata);

// Whether global row `row` is held out for validation: a seeded hash of the row index below
// `fraction`. It depends on nothing but (seed, row), so every layout of ranks agrees.
bool is_validation_row(std::uint64_t seed, std::size_t row, double fraction);

// The order in which a stratum's n training rows are drawn in `epoch`: a Fisher–Yates shuffle of
// 0..n-1 driven by a counter-based generator keyed on (seed, epoch, stratum), so any rank can
// produce any stratum's order for any epoch without state (and a resumed run gets the same one).
std::vector<std::uint32_t> epoch_order(std::uint64_t seed, std::uint64_t epoch, std::size_t stratum,
                                       std::size_t n);

// SplitMix64: the mixing function behind the hashes and generators above.
std::uint64_t mix64(std::uint64_t x);

// A small deterministic generator (SplitMix64 stream) with unbiased bounded integers and uniform
// doubles, the same on every platform (std:: distributions are implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, bound), bound >= 1 (Lemire's multiply-shift with rejection: no modulo bias).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal (Box–Muller on two uniforms; deterministic, not the fastest).
  double normal();

 private:
  std::uint64_t state_;
};

}  // namespace parafit::detail
