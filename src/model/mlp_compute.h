// mlp_compute.h — forward and backward passes of an MLP regressor over blocks of rows, on the
// kernels of mlp_kernels.h: predictions, and the gradient of half the sum of squared residuals.
//
// Determinism: each row's activations and deltas are computed independently of the other rows
// (affine's per-row chains), and the weight and bias gradients are a sequential fold over the rows
// in order (accumulate_outer / accumulate_rows), continued across tiles and across calls. So the
// gradient of rows [0, n) is the same bits whether it comes from one call or from consecutive
// calls on [0, a), [a, n), whatever tile_rows is, on either kernel path. The loss (sum of r_i^2)
// is folded in double in row order, likewise.
//
// Thread-safety: an MlpCompute owns its workspace (movable, not copyable); use one object per
// thread. The parameters, X and y are only read, so threads may share them; each thread needs its
// own `grad` accumulator. No alignment or padding is required of params, X, y, grad or out.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "model/mlp_kernels.h"
#include "model/mlp_layer.h"
#include "parafit/loss.h"

namespace parafit::detail {

struct MlpShape {
  // Layer widths: inputs, hidden..., 1 (at least two entries, all > 0, the last 1).
  std::vector<std::size_t> widths;
  Activation activation = Activation::kTanh;  // of the hidden layers; the output layer is identity

  // Parameter layout (the trainer and the model file rely on it): for each layer l = 0..L-1 the
  // weights W_l (widths[l] x widths[l+1], row-major), then the biases b_l (widths[l+1]).
  std::size_t num_parameters() const;
  std::size_t num_layers() const { return widths.empty() ? 0 : widths.size() - 1; }
  std::size_t weight_offset(std::size_t layer) const;  // of W_layer in the parameter vector
  std::size_t bias_offset(std::size_t layer) const;    // of b_layer
};

template <class T>
class MlpCompute {
 public:
  // Throws std::invalid_argument for a bad shape (see MlpShape::widths) or tile_rows == 0.
  // Allocates all the workspace: the methods below never allocate.
  explicit MlpCompute(MlpShape shape, std::size_t tile_rows = 64);

  const MlpShape& shape() const { return shape_; }
  std::size_t tile_rows() const { return tile_rows_; }

  // Adds to `grad` (an accumulator in the parameters' layout, which the caller zeroes) the sum
  // over rows of r_i * d f(x_i) / d theta with r_i = f(x_i) - y[i] (the gradient of
  // (1/2) sum r_i^2), as a sequential fold over the rows in order. Returns sum r_i^2, with r_i
  // rounded to T and the squares folded in double in row order. X is rows x inputs, row-major with
  // leading dimension ldx >= inputs; y has `rows` entries. rows == 0 does nothing and returns loss.
  // The squares are folded onto `loss` (the running sum of earlier calls), so a fold split over
  // calls has the same bits as one call. With grad_is_zero, grad's contents are not read: the
  // fold starts at +0 — the same bits as zeroing grad first, without a pass to zero it.
  double accumulate_gradient(const T* params, std::size_t rows, const T* X, std::size_t ldx,
                             const T* y, T* grad, double loss = 0.0, bool grad_is_zero = false);

  // Builds the transposed weights for `params` once: later accumulate_gradient calls with this
  // same pointer skip that work (4k elements for 16-64-64-1, which matters for calls of a few
  // dozen rows). Call it again whenever the values behind the pointer change.
  void prepare(const T* params);

  // A robust loss for accumulate_gradient (nullptr: squared error, the default): it then folds
  // rho(r_i^2) instead of r_i^2 and the gradient of (1/2) sum rho(r_i^2) (loss/row_loss.h).
  // `loss` must outlive the calls.
  void set_loss(const Loss* loss) { loss_ = loss; }

  // out[i] = f(x_i) for each row: the same bits as the f(x_i) accumulate_gradient uses.
  void predict(const T* params, std::size_t rows, const T* X, std::size_t ldx, T* out);

 private:
  struct Free {
    void operator()(T* p) const;
  };
  using Buffer = std::unique_ptr<T[], Free>;

  void forward_tile(const T* params, std::size_t n, const T* X, std::size_t ldx, T* f);
  void transpose_weights(const T* params);
  const T* prepared_ = nullptr;  // params whose transposes wt_ holds (see prepare)
  const Loss* loss_ = nullptr;   // set_loss

  MlpShape shape_;
  std::vector<DenseLayer<T>> layers_;  // hidden layers with the shape's activation, then the output
  std::size_t tile_rows_;
  std::size_t max_hidden_width_ = 0;
  // Per hidden layer l (0..L-2), tile_rows x widths[l+1] (dense rows): the pre-activations z
  // (kept only for gelu, the one activation whose derivative needs z) and the activations a, at
  // offset act_offset_[l] of z_ and a_.
  std::vector<std::size_t> act_offset_;
  // W_l^T (widths[l+1] x widths[l]) for l >= 1, at offset wt_offset_[l] of wt_, for the deltas.
  std::vector<std::size_t> wt_offset_;
  Buffer z_, a_, wt_, delta_[2], out_;
};

extern template class MlpCompute<float>;
extern template class MlpCompute<double>;

}  // namespace parafit::detail
