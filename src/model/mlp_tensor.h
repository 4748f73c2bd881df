// model/mlp_tensor.h — tensor (model) parallelism for the MLP regressor, Megatron-LM's way
// (Shoeybi et al. 2019): the dense layers are split across T slices (ranks of a tensor group) in
// pairs, the first layer of a pair by output columns, the second by input rows.
//
//   x (whole, every slice) -> [columns lo..hi of W_c, b_c] -> act -> a_c slice (no communication)
//                          -> [rows lo..hi of W_r]           -> partial x W (+ b_r on slice 0)
//                          -> sum of the T partials (one exchange) -> act -> a_r (whole)
// Backward mirrors it: the row layer's input gradient is local (its rows are the column layer's
// slice), the column layer's input gradient is a sum of T partials (the second exchange). Pairs
// are formed from the output back, so the last exchange of a step is one value per row (the
// output layer is a row layer); with an odd number of layers the first layer is replicated:
// every slice holds and computes it whole (it is the input layer, inputs x width, usually the
// smallest).
//
// Every parameter lives on exactly one slice (a row layer's bias on slice 0) except a replicated
// layer's, which every slice holds and updates identically. Slices of a width not divisible by T
// are uneven: slice t has columns [t w / T, (t+1) w / T).
//
// Rounding: each slice's partial is one chain of fused multiply-adds over its rows of W (as in
// mlp_kernels.h) and the partials are added in slice order on every slice, so every slice holds
// the same bits and the result does not depend on anything but T. It differs from T = 1 (one
// chain over all rows) by the rounding of the split sums: the weights trained with T = 2 or 3
// agree with T = 1 to about 1e-12 relative in float64, not bit for bit (tests/model and
// tests/train measure it). With T = 1 the compute below is MlpCompute, bit for bit.
//
// A plan may cover a range of layers (a pipeline stage, train/mlp_pipeline_objective.cpp): the
// pairs are then formed within the range, from its last layer back, so a stage's input and output
// are whole on every slice and tensor and pipeline parallelism compose.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/mlp_compute.h"

namespace parafit::detail {

enum class TensorSplit { kReplicated, kColumns, kRows };

struct TensorLayer {
  TensorSplit split = TensorSplit::kReplicated;
  std::size_t in = 0, out = 0;  // the whole layer's widths
  std::size_t lo = 0, hi = 0;   // kColumns: output columns [lo, hi); kRows: input rows [lo, hi)
  bool has_bias = true;         // kRows: only slice 0 holds the bias
  Activation act = Activation::kIdentity;
  std::size_t offset = 0;  // of this layer's parameters in the slice's parameter vector

  // The widths this slice computes with: its input rows and output columns.
  std::size_t in_held() const { return split == TensorSplit::kRows ? hi - lo : in; }
  std::size_t out_held() const { return split == TensorSplit::kColumns ? hi - lo : out; }
  // Parameters of the slice: W's part (in_held x out_held, row-major), then its bias part.
  std::size_t count() const { return in_held() * out_held() + (has_bias ? out_held() : 0); }
};

class TensorPlan {
 public:
  // Slice `slice` of `slices` of layers [first, last) of the network (a pipeline stage's; by
  // default all of them), paired from `last` back. Throws std::invalid_argument when slices is 0,
  // slice is not below it, the range is empty or out of the network, or a split width is smaller
  // than `slices` (a slice would be empty).
  TensorPlan(const MlpShape& shape, std::size_t slices, std::size_t slice, std::size_t first = 0,
             std::size_t last = kAllLayers);
  static constexpr std::size_t kAllLayers = static_cast<std::size_t>(-1);

  // The most slices layers [first, last) can be split into: their narrowest split width (no limit,
  // the largest size_t, when no layer is split: a single layer, which every slice then holds whole).
  static std::size_t max_slices(const MlpShape& shape, std::size_t first = 0, std::size_t last = kAllLayers);

  const MlpShape& shape() const { return shape_; }
  std::size_t slices() const { return slices_; }
  std::size_t slice() const { return slice_; }
  std::size_t first_layer() const { return first_; }
  // The plan's layers, first_layer() onwards.
  const std::vector<TensorLayer>& layers() const { return layers_; }
  std::size_t num_parameters() const { return count_; }
  // Widths of the plan's input (whole) and output (whole: its last layer is a row layer or whole).
  std::size_t in_width() const { return layers_.front().in; }
  std::size_t out_width() const { return layers_.back().out; }

  // This slice's parameters, taken from the whole network's (MlpShape's layout).
  std::vector<double> take(std::span<const double> whole) const;
  // Writes this slice's parameters into their places in the whole network's.
  void put(std::span<const double> mine, std::span<double> whole) const;

 private:
  MlpShape shape_;
  std::size_t slices_, slice_, first_ = 0;
  std::vector<TensorLayer> layers_;
  std::size_t count_ = 0;
};

// Replaces `partial` with the sum over the slices of every slice's `partial`, added in slice
// order, the same bits on every slice (a collective of the tensor group).
template <class T>
using SumOverSlices = std::function<void(std::span<T> partial)>;

// The activations of one block of rows as a plan's layers leave them, for its backward pass: per
// layer, rows x out_held() (z only where the activation's derivative needs it, gelu). A pipeline
// stage keeps one per micro-batch in flight; the compute itself holds none.
template <class T>
struct LayerActivations {
  std::vector<std::vector<T>> a, z;
  std::size_t rows = 0;
  // Sized for `rows` rows (memory already held is reused).
  void reserve(const TensorPlan& plan, std::size_t rows);
  // Empty, keeping the memory for the next block (a pipeline reuses it micro-batch after micro-batch).
  void clear();
  // Bytes in use (for rows rows).
  std::size_t bytes() const;
};

// One slice's forward and backward passes over blocks of rows. The gradient folds are MlpCompute's
// (row by row in order, continued across calls), cut into pieces so that the rows of several units
// of determinism (strata) can share a block: each piece of rows folds into its own accumulator.
template <class T>
class TensorMlpCompute {
 public:
  TensorMlpCompute(TensorPlan plan, SumOverSlices<T> sum);

  const TensorPlan& plan() const { return plan_; }

  // Builds the transposed weight slices the backward pass reads (again whenever params change).
  void prepare(const T* params);

  // The plan's output for n rows of X (leading dimension ldx), n x out_width(), into acts (the
  // last layer's a, which it returns). A collective of the tensor group.
  const T* forward(const T* params, std::size_t n, const T* X, std::size_t ldx, LayerActivations<T>& acts);

  struct Piece {
    std::size_t begin = 0, end = 0;  // rows of the block
    T* grad = nullptr;               // this slice's gradient accumulator (its parameter layout)
    bool from_zero = false;          // start the folds at +0 without reading grad
  };
  // After forward on the same rows into acts (and prepare with its params): d holds dL/d(output)
  // (n x out_width()) and is overwritten. Adds each piece's rows' gradient to its accumulator (the
  // pieces must not overlap; rows outside them add nothing). With dx, also dL/dX (n x in_width(),
  // whole). A collective of the tensor group.
  void backward(std::size_t n, const T* X, std::size_t ldx, LayerActivations<T>& acts, T* d,
                std::span<const Piece> pieces, T* dx = nullptr);

 private:
  TensorPlan plan_;
  SumOverSlices<T> sum_;
  std::vector<std::vector<T>> wt_;  // per layer: its weight slice transposed (out_held x in_held)
  std::vector<T> delta_[2];
  std::size_t widest_ = 1;
};

extern template struct LayerActivations<float>;
extern template struct LayerActivations<double>;
extern template class TensorMlpCompute<float>;
extern template class TensorMlpCompute<double>;

}  // namespace parafit::detail
