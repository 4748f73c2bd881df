// parallel/strata_tree.h — the fixed-order sum of per-stratum vectors across threads and ranks.
//
// Each stratum yields a vector (a gradient and its loss, say). Their total is defined as one
// fixed binary tree over the strata — node [lo, hi) = node [lo, mid) + node [mid, hi), mid =
// (lo + hi) / 2 — so it has the same bits however the strata are spread over ranks. A rank owning
// strata [a, b) computes the largest tree nodes inside [a, b) itself; the ranks then exchange just
// those nodes (one allgatherv) and every rank finishes the top of the tree alone. Two ranks that
// own the root's two halves need only one all-reduce of their two nodes (a + b == b + a, in any
// order MPI adds them), or, for ZeRO-1, one reduce-scatter that leaves each rank its own columns
// of that sum. The leaves must not hold -0.0: a sum in the exchange could turn it into +0.0 and
// change a sign of zero in the total. Sums started from +0.0 never produce -0.0 under
// round-to-nearest, and row kernels add + 0.0 when they hand over their values (row_kernel.h), so
// callers have nothing to do.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "parafit/communicator.h"
#include "parallel/strata.h"

namespace parafit::detail {

// The largest nodes of the tree over [0, strata) that lie inside [first, last), left to right.
std::vector<std::pair<std::size_t, std::size_t>> tree_cover(std::size_t strata, std::size_t first,
                                                           std::size_t last);

// Columns [c0, c1) of the tree total over [0, strata) from every rank's cover nodes: `slots` lists
// the nodes (each rank's tree_cover, in rank order) and `values` their rows, `width` values each.
// The same additions, so the same bits, as StrataTree::exchange — for a rank that finishes the
// tree from nodes sent to it (the parameter server).
std::vector<double> tree_top(std::size_t strata, std::span<const std::pair<std::size_t, std::size_t>> slots,
                             std::span<const double> values, std::size_t width, std::size_t c0, std::size_t c1);

class StrataTree {
 public:
  // `width` values per stratum. Every rank must construct it with the same plan and width. The
  // local part of the tree runs on up to `threads` threads, each on its own range of the values
  // (every value still sums in tree order, so the bits do not depend on it).
  StrataTree(const StrataPlan& plan, Communicator& comm, std::size_t width, int threads = 1);

  std::size_t first_owned() const { return first_; }
  std::size_t owned() const { return last_ - first_; }
  std::size_t width() const { return width_; }

  // `local` holds owned() rows of width() values, stratum first_owned() first; it is used as
  // scratch space (overwritten). Returns the tree total on every rank (one all-reduce when there
  // are several ranks, none otherwise).
  std::vector<double> reduce(std::span<double> local);

  // reduce() in two parts, so that the first can run inside a caller's parallel region:
  // reduce_local sums values [c0, c1) of the owned strata into this rank's tree nodes (threads may
  // call it on disjoint ranges at once); exchange then shares the nodes and finishes the tree.
  void reduce_local(std::span<double> local, std::size_t c0, std::size_t c1) const;
  // reduce_local with the leaves made on demand: leaf(stratum, b, e, out) writes values [b, e) of
  // owned stratum `stratum` (numbered from 0 over all strata) to out. The tree runs a few hundred
  // values at a time, so that the leaves and every level of the sums stay in L1, and only the rows
  // of this rank's tree nodes (row 0 with one rank) are written in `local`; the others are left
  // alone. The same additions as reduce_local on a `local` holding the leaves, so the same bits.
  using Leaf = std::function<void(std::size_t stratum, std::size_t b, std::size_t e, double* out)>;
  void reduce_leaves(std::span<double> local, std::size_t c0, std::size_t c1, const Leaf& leaf) const;
  std::vector<double> exchange(std::span<double> local);
  // The same into `out` (resized; its memory is reused from call to call: a gradient of millions of
  // weights would otherwise be a fresh allocation, and page faults, every step).
  void exchange_into(std::span<double> local, std::vector<double>& out);
  // The sum of this rank's tree nodes alone (its strata's total), the nodes added left to right:
  // what local SGD steps on. No communication; zeros for a rank without strata.
  std::vector<double> local_total(std::span<const double> local) const;
  // exchange() when each rank needs only its own block of the values: the width() values are cut
  // into blocks of counts[r] values, r = 0, 1, ... (the same counts on every rank), and this rank
  // gets the tree total of block rank() — the same bits as those values of exchange()'s result.
  std::vector<double> exchange_columns(std::span<double> local, std::span<const std::size_t> counts);
  // This rank's cover nodes, left to right, and the row of `local` that holds each one's sums.
  std::vector<std::pair<std::size_t, std::size_t>> my_nodes() const {
    return {slots_.begin() + std::ptrdiff_t(my_first_slot_), slots_.begin() + std::ptrdiff_t(my_first_slot_ + my_slots_)};
  }
  std::span<const double> node_row(std::span<const double> local, std::size_t lo) const { return row(local, lo); }
  // Whether two ranks own the root's two halves (the exchanges are then one plain sum).
  bool two_halves() const { return two_halves_; }

  // Doubles this rank passes to one exchange (0 with one rank).
  std::size_t payload_values() const;

 private:
  // Values per block of reduce_leaves: the leaves and partial sums of a block (a few per level of
  // the tree) then fit in L1 beside the gradient being read.
  static constexpr std::size_t kBlock = 256;
  // Values [b, e) of node [lo, hi) into out (e - b <= kBlock), in tree order: the leaves from
  // `leaf`; a node of up to simd::kTreeSumRows leaves in one pass over them (simd::tree_sum), a
  // larger one as its two halves, the right one's sum in `scratch` (one block per level below,
  // then the leaves of a small node).
  void node(std::size_t lo, std::size_t hi, std::size_t b, std::size_t e, double* out, double* scratch,
            const Leaf& leaf) const;
  // Columns [c0, c1) of node [lo, hi), from every rank's cover nodes (slots).
  std::vector<double> top(std::size_t lo, std::size_t hi, std::span<const double> slots, std::size_t c0,
                          std::size_t c1) const;
  std::span<const double> row(std::span<const double> local, std::size_t stratum) const;
  // Every rank's cover nodes, in slots_'s order (one allgatherv).
  std::vector<double> gather_slots(std::span<const double> local);

  std::size_t strata_;
  Communicator& comm_;
  std::size_t width_;
  int threads_;
  std::size_t first_ = 0, last_ = 0;  // owned strata
  std::vector<std::pair<std::size_t, std::size_t>> slots_;  // every rank's cover nodes, in order
  std::size_t my_first_slot_ = 0, my_slots_ = 0;
  std::vector<std::size_t> slot_values_;  // per rank: values of its cover nodes
  bool two_halves_ = false;  // two ranks owning the root's two children: one plain sum suffices
};

}  // namespace parafit::detail
