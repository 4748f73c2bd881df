#include "parallel/strata_tree.h"

#include <algorithm>
#include <bit>

#include "parallel/thread_loops.h"
#include "simd/array_ops.h"

namespace parafit::detail {
namespace {

void cover_into(std::size_t lo, std::size_t hi, std::size_t first, std::size_t last,
                std::vector<std::pair<std::size_t, std::size_t>>& out) {
  if (hi <= first || last <= lo || lo >= hi) return;
  if (first <= lo && hi <= last) {
    out.emplace_back(lo, hi);
    return;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  cover_into(lo, mid, first, last, out);
  cover_into(mid, hi, first, last, out);
}

void add_into(std::vector<double>& a, const std::vector<double>& b) { simd::add_arrays(a.size(), a.data(), b.data()); }

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> tree_cover(std::size_t strata, std::size_t first,
                                                           std::size_t last) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  cover_into(0, strata, first, last, out);
  return out;
}

StrataTree::StrataTree(const StrataPlan& plan, Communicator& comm, std::size_t width, int threads)
    : strata_(plan.strata), comm_(comm), width_(width), threads_(std::max(1, threads)) {
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto me = static_cast<std::size_t>(comm.rank());
  first_ = plan.first_stratum(me, ranks);
  last_ = plan.first_stratum(me + 1, ranks);
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto cover = tree_cover(strata_, plan.first_stratum(r, ranks), plan.first_stratum(r + 1, ranks));
    if (r == me) {
      my_first_slot_ = slots_.size();
      my_slots_ = cover.size();
    }
    slots_.insert(slots_.end(), cover.begin(), cover.end());
    slot_values_.push_back(cover.size() * width_);
  }
  const std::size_t mid = strata_ / 2;
  two_halves_ = ranks == 2 && slots_.size() == 2 && slots_[0] == std::pair<std::size_t, std::size_t>{0, mid} &&
                slots_[1] == std::pair<std::size_t, std::size_t>{mid, strata_};
}

std::size_t StrataTree::payload_values() const {
  if (comm_.size() == 1) return 0;
  return two_halves_ ? width_ : my_slots_ * width_;
}

void StrataTree::node(std::size_t lo, std::size_t hi, std::size_t b, std::size_t e, double* out, double* scratch,
                      const Leaf& leaf) const {
  if (hi - lo == 1) {
    leaf(lo, b, e, out);
    return;
  }
  if (hi - lo <= simd::kTreeSumRows) {
    // A small node in one pass: its leaves side by side, then their tree in registers.
    for (std::size_t k = lo; k < hi; ++k) leaf(k, b, e, scratch + (k - lo) * kBlock);
    simd::tree_sum(hi - lo, scratch, kBlock, e - b, out);
    return;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  node(lo, mid, b, e, out, scratch, leaf);
  node(mid, hi, b, e, scratch, scratch + kBlock, leaf);
  simd::add_arrays(e - b, out, scratch);
}

namespace {
std::vector<double> top_of(std::size_t lo, std::size_t hi, std::span<const std::pair<std::size_t, std::size_t>> nodes,
                           std::span<const double> values, std::size_t width, std::size_t c0, std::size_t c1) {
  const auto it = std::find(nodes.begin(), nodes.end(), std::pair<std::size_t, std::size_t>{lo, hi});
  if (it != nodes.end()) {
    const double* src = values.data() + std::size_t(it - nodes.begin()) * width;
    return {src + c0, src + c1};
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  std::vector<double> sum = top_of(lo, mid, nodes, values, width, c0, c1);
  add_into(sum, top_of(mid, hi, nodes, values, width, c0, c1));
  return sum;
}
}  // namespace

std::vector<double> tree_top(std::size_t strata, std::span<const std::pair<std::size_t, std::size_t>> slots,
                             std::span<const double> values, std::size_t width, std::size_t c0, std::size_t c1) {
  return top_of(0, strata, slots, values, width, c0, c1);
}

std::vector<double> StrataTree::top(std::size_t lo, std::size_t hi, std::span<const double> slots, std::size_t c0,
                                    std::size_t c1) const {
  return top_of(lo, hi, slots_, slots, width_, c0, c1);
}

void StrataTree::reduce_local(std::span<double> local, std::size_t c0, std::size_t c1) const {
  // The leaves are local's rows; a node's sum goes to the row of its first stratum, which is that
  // stratum's own leaf (the first one node() reads), so nothing is read after it is overwritten.
  reduce_leaves(local, c0, c1, [&](std::size_t stratum, std::size_t b, std::size_t e, double* out) {
    const double* src = local.data() + (stratum - first_) * width_ + b;
    if (src != out) std::copy(src, src + (e - b), out);
  });
}

void StrataTree::reduce_leaves(std::span<double> local, std::size_t c0, std::size_t c1, const Leaf& leaf) const {
  // One block per level of the tree below the root, then the leaves of a small node (node());
  // reused by the thread's later calls.
  thread_local std::vector<double> scratch;
  scratch.resize((std::bit_width(strata_) + simd::kTreeSumRows) * kBlock);
  for (std::size_t b = c0; b < c1; b += kBlock) {
    const std::size_t e = std::min(c1, b + kBlock);
    const auto run = [&](std::size_t lo, std::size_t hi) {
      node(lo, hi, b, e, local.data() + (lo - first_) * width_ + b, scratch.data(), leaf);
    };
    if (comm_.size() == 1) {
      run(0, strata_);
      continue;
    }
    for (std::size_t s = my_first_slot_; s < my_first_slot_ + my_slots_; ++s) run(slots_[s].first, slots_[s].second);
  }
}

std::span<const double> StrataTree::row(std::span<const double> local, std::size_t stratum) const {
  return local.subspan((stratum - first_) * width_, width_);
}

std::vector<double> StrataTree::gather_slots(std::span<const double> local) {
  // Every rank's cover nodes, in rank order: slots_'s order.
  std::vector<double> mine;
  mine.reserve(my_slots_ * width_);
  for (std::size_t s = my_first_slot_; s < my_first_slot_ + my_slots_; ++s) {
    const auto r = row(local, slots_[s].first);
    mine.insert(mine.end(), r.begin(), r.end());
  }
  std::vector<double> all(slots_.size() * width_);
  comm_.allgatherv<double>(mine, all, slot_values_);
  return all;
}

std::vector<double> StrataTree::exchange(std::span<double> local) {
  std::vector<double> out;
  exchange_into(local, out);
  return out;
}

void StrataTree::exchange_into(std::span<double> local, std::vector<double>& out) {
  if (comm_.size() == 1) {
    const auto total = row(local, 0);
    out.assign(total.begin(), total.end());
    return;
  }
  if (two_halves_) {
    // a + b == b + a exactly, whichever order the all-reduce adds them in.
    const auto node = row(local, slots_[my_first_slot_].first);
    out.assign(node.begin(), node.end());
    comm_.allreduce(out);
    return;
  }
  out = top(0, strata_, gather_slots(local), 0, width_);
}

std::vector<double> StrataTree::local_total(std::span<const double> local) const {
  std::vector<double> total(width_, 0.0);
  for (std::size_t s = my_first_slot_; s < my_first_slot_ + my_slots_; ++s) {
    const auto node = row(local, slots_[s].first);
    if (s == my_first_slot_)
      std::copy(node.begin(), node.end(), total.begin());
    else
      for (std::size_t c = 0; c < width_; ++c) total[c] += node[c];
  }
  return total;
}

std::vector<double> StrataTree::exchange_columns(std::span<double> local, std::span<const std::size_t> counts) {
  const auto me = static_cast<std::size_t>(comm_.rank());
  std::size_t c0 = 0;
  for (std::size_t r = 0; r < me; ++r) c0 += counts[r];
  const std::size_t c1 = c0 + counts[me];
  if (comm_.size() == 1) {
    const auto total = row(local, 0);
    return {total.begin() + std::ptrdiff_t(c0), total.begin() + std::ptrdiff_t(c1)};
  }
  if (two_halves_) {
    // Each rank gets a + b for its columns only: the same sums as the all-reduce's.
    std::vector<double> out(c1 - c0);
    comm_.reduce_scatter<double>(row(local, slots_[my_first_slot_].first), out, counts);
    return out;
  }
  return top(0, strata_, gather_slots(local), c0, c1);
}

std::vector<double> StrataTree::reduce(std::span<double> local) {
  // One equal range of values per thread, each at least ~1000 values: below that a thread costs
  // more than it saves.
  constexpr std::size_t kMinBlock = 1024;
  const std::size_t blocks = std::clamp<std::size_t>(width_ / kMinBlock, 1, static_cast<std::size_t>(threads_));
  parallel_for(int(blocks), blocks,
               [&](std::size_t b) { reduce_local(local, width_ * b / blocks, width_ * (b + 1) / blocks); });
  return exchange(local);
}

}  // namespace parafit::detail
