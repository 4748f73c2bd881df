// parallel/row_kernel.h — the one interface between the parallel layer and the model side: sums
// over rows, folded in the order given.
//
// Almost every solver step is a sum over rows (JᵀWJ and JᵀWr for LM, a gradient for training, a loss
// for validation). A RowKernel says how wide that sum is and makes, per thread, a RowWorker that
// evaluates the model over rows and adds their contributions to a RowSums accumulator. Both
// reduction engines of the parallel layer serve this interface:
//   - the chunked exact sum (chunked_sum.h), for LM and the statistics: each call gets one fixed
//     chunk of contiguous rows and fresh (zeroed) sums, and the chunk totals are added exactly;
//   - the strata engine (strata_engine.h), for training: each call gets a stratum's rows in draw
//     order, and the same sums continue across the micro-batches of a step; the stratum totals are
//     added in a fixed tree (strata_tree.h).
// A worker folds the rows strictly in the order given, so how rows are grouped into calls (chunks,
// micro-batches, gather blocks) never changes a bit. The engines decide who runs what; kernels never
// start threads (they may use `omp simd`).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace parafit::detail {

// Local rows, in the order to fold them: a contiguous range [begin, end) or a list of indices.
class RowSet {
 public:
  static RowSet range(std::size_t begin, std::size_t end) { return RowSet(begin, end - begin, {}); }
  static RowSet list(std::span<const std::size_t> rows) { return RowSet(0, rows.size(), rows); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool contiguous() const { return list_.data() == nullptr; }
  // The first row of a contiguous set.
  std::size_t begin() const { return begin_; }
  // The k-th row to fold.
  std::size_t operator[](std::size_t k) const { return contiguous() ? begin_ + k : list_[k]; }
  // Rows [offset, offset + count) of this set (count is clipped to what is left).
  RowSet sub(std::size_t offset, std::size_t count) const {
    const std::size_t n = offset >= size_ ? 0 : (count < size_ - offset ? count : size_ - offset);
    return contiguous() ? RowSet(begin_ + offset, n, {}) : RowSet(0, n, list_.subspan(offset, n));
  }

 private:
  RowSet(std::size_t begin, std::size_t size, std::span<const std::size_t> list)
      : begin_(begin), size_(size), list_(list) {}
  std::size_t begin_;
  std::size_t size_;
  std::span<const std::size_t> list_;
};

// The running sums of one unit of determinism (a chunk, a stratum), in the kernel's own precision.
class RowSums {
 public:
  virtual ~RowSums() = default;
  // Makes the sums zero, for the next unit.
  virtual void zero() = 0;
  // out[k] = sum k, converted exactly to double, for k < the kernel's width(), then zero().
  void take(std::span<double> out) {
    take_values(0, out);
    zero();
  }
  // out[k] = sum first + k, converted exactly to double, for k < out.size(), leaving the sums as
  // they are: the strata engine takes a stratum's sums a block at a time, straight into the tree's
  // additions (threads on disjoint blocks of one RowSums at once), and calls zero() after the
  // pass. Never writes -0.0: the strata tree relies on it (strata_tree.h); adding + 0.0 does it.
  virtual void take_values(std::size_t first, std::span<double> out) = 0;
};

// Sums held as doubles, which the worker adds to in place (values()).
class VectorSums final : public RowSums {
 public:
  explicit VectorSums(std::size_t width) : values_(width, 0.0) {}
  void zero() override { std::fill(values_.begin(), values_.end(), 0.0); }
  void take_values(std::size_t first, std::span<double> out) override {
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = values_[first + k] + 0.0;
  }
  std::span<double> values() { return values_; }

 private:
  std::vector<double> values_;
};

// One per thread. set_parameters is called before a pass; accumulate then for each unit of rows.
class RowWorker {
 public:
  virtual ~RowWorker() = default;
  virtual void set_parameters(std::span<const double> theta) = 0;
  // Adds the contributions of `rows` (local row indices), in that order, to `sums` (made by the
  // same kernel).
  virtual void accumulate(const RowSet& rows, RowSums& sums) = 0;
  // Several units at once: segment k's rows into sums[k], each in its order. A collective kernel's
  // worker runs them together (one exchange per layer for all of them); by default, one at a time.
  virtual void accumulate_segments(std::span<const RowSet> segments, std::span<RowSums* const> sums) {
    for (std::size_t k = 0; k < segments.size(); ++k) accumulate(segments[k], *sums[k]);
  }
  // A step's micro-batches at once: batches[m] holds each unit's rows of micro-batch m (as for
  // accumulate_segments), to be folded micro-batch after micro-batch. A pipeline stage's worker
  // schedules them (several in flight); by default, one micro-batch at a time.
  virtual void accumulate_micro_batches(std::span<const std::vector<RowSet>> batches,
                                        std::span<RowSums* const> sums) {
    for (const std::vector<RowSet>& segments : batches) accumulate_segments(segments, sums);
  }
};

class RowKernel {
 public:
  virtual ~RowKernel() = default;
  // Values per row sum.
  virtual std::size_t width() const = 0;
  // About how many multiply-adds a row costs, for choosing how many threads a pass is worth (it
  // never changes a result). The width by default: a gradient kernel touches every value per row.
  virtual std::size_t work_per_row() const { return width(); }
  // Whether the workers communicate with other ranks as they fold (a tensor-parallel model's
  // slices exchange activations): the engine then runs a pass on one thread, every owned stratum
  // in one accumulate_segments call per micro-batch, in the same order on every rank of the group.
  virtual bool collective() const { return false; }
  virtual std::unique_ptr<RowSums> make_sums() const = 0;
  virtual std::unique_ptr<RowWorker> make_worker() const = 0;
};

}  // namespace parafit::detail
