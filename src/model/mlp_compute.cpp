#include "model/mlp_compute.h"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>

#include "loss/row_loss.h"

namespace parafit::detail {

std::size_t MlpShape::num_parameters() const {
  std::size_t total = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) total += (widths[l] + 1) * widths[l + 1];
  return total;
}

std::size_t MlpShape::weight_offset(std::size_t layer) const {
  std::size_t offset = 0;
  for (std::size_t l = 0; l < layer; ++l) offset += (widths[l] + 1) * widths[l + 1];
  return offset;
}

std::size_t MlpShape::bias_offset(std::size_t layer) const {
  return weight_offset(layer) + widths[layer] * widths[layer + 1];
}

namespace {

constexpr std::align_val_t kAlign{64};

void check_shape(const MlpShape& shape, std::size_t tile_rows) {
  if (shape.widths.size() < 2) {
    throw std::invalid_argument("MlpCompute: widths needs at least inputs and outputs");
  }
  for (const std::size_t w : shape.widths) {
    if (w == 0) throw std::invalid_argument("MlpCompute: a layer width is 0");
  }
  if (shape.widths.back() != 1) {
    throw std::invalid_argument("MlpCompute: the output layer must have width 1, not " +
                                std::to_string(shape.widths.back()));
  }
  if (tile_rows == 0) throw std::invalid_argument("MlpCompute: tile_rows is 0");
}

}  // namespace

template <class T>
void MlpCompute<T>::Free::operator()(T* p) const {
  ::operator delete(p, kAlign);
}

template <class T>
MlpCompute<T>::MlpCompute(MlpShape shape, std::size_t tile_rows)
    : shape_(std::move(shape)), tile_rows_(tile_rows) {
  check_shape(shape_, tile_rows_);
  const std::vector<std::size_t>& w = shape_.widths;
  const std::size_t layers = shape_.num_layers();
  for (std::size_t l = 0; l < layers; ++l)
    layers_.push_back({w[l], w[l + 1], l + 1 == layers ? Activation::kIdentity : shape_.activation});
  // Zero-filled, 64-byte aligned buffers of `count` elements (at least one, so never null).
  const auto allocate = [](std::size_t count) {
    count = std::max<std::size_t>(count, 1);
    Buffer b(static_cast<T*>(::operator new(count * sizeof(T), kAlign)));
    std::fill(b.get(), b.get() + count, T(0));
    return b;
  };
  std::size_t act_total = 0;
  for (std::size_t l = 0; l + 1 < layers; ++l) {
    act_offset_.push_back(act_total);
    act_total += tile_rows_ * w[l + 1];
    max_hidden_width_ = std::max(max_hidden_width_, w[l + 1]);
  }
  std::size_t wt_total = 0;
  wt_offset_.assign(layers, 0);
  for (std::size_t l = 1; l < layers; ++l) {
    wt_offset_[l] = wt_total;
    wt_total += w[l] * w[l + 1];
  }
  a_ = allocate(act_total);
  if (shape_.activation == Activation::kGelu) z_ = allocate(act_total);
  wt_ = allocate(wt_total);
  delta_[0] = allocate(tile_rows_ * max_hidden_width_);
  delta_[1] = allocate(tile_rows_ * max_hidden_width_);
  out_ = allocate(tile_rows_);
}

// W_l^T for the layers whose input delta is needed (l >= 1): the backward affine then reads rows
// of W_l^T contiguously.
template <class T>
void MlpCompute<T>::prepare(const T* params) {
  transpose_weights(params);
  prepared_ = params;
}

template <class T>
void MlpCompute<T>::transpose_weights(const T* params) {
  const std::vector<std::size_t>& w = shape_.widths;
  for (std::size_t l = 1; l < shape_.num_layers(); ++l) {
    const T* W = params + shape_.weight_offset(l);
    T* Wt = wt_.get() + wt_offset_[l];
    transpose<T>(w[l], w[l + 1], W, w[l + 1], Wt, w[l]);
  }
}

// Rows [0, n) of a tile: the hidden activations into a_ (and z_), f into `f`.
template <class T>
void MlpCompute<T>::forward_tile(const T* params, std::size_t n, const T* X, std::size_t ldx,
                                 T* f) {
  const std::size_t layers = layers_.size();
  const T* in = X;
  std::size_t in_ld = ldx;
  for (std::size_t l = 0; l < layers; ++l) {
    const T* p = params + shape_.weight_offset(l);
    if (l + 1 == layers) {
      layers_[l].forward(p, n, in, in_ld, nullptr, f);
      break;
    }
    T* a = a_.get() + act_offset_[l];
    layers_[l].forward(p, n, in, in_ld, z_ ? z_.get() + act_offset_[l] : nullptr, a);
    in = a;
    in_ld = layers_[l].out;
  }
}

template <class T>
double MlpCompute<T>::accumulate_gradient(const T* params, std::size_t rows, const T* X,
                                          std::size_t ldx, const T* y, T* grad, double loss,
                                          bool grad_is_zero) {
  if (rows == 0) {
    if (grad_is_zero) std::fill(grad, grad + shape_.num_parameters(), T(0));
    return loss;
  }
  if (ldx < shape_.widths[0]) throw std::invalid_argument("MlpCompute: ldx is less than the number of inputs");
  const std::size_t layers = layers_.size();
  if (params != prepared_) transpose_weights(params);
  for (std::size_t r0 = 0; r0 < rows; r0 += tile_rows_) {
    const std::size_t n = std::min(tile_rows_, rows - r0);
    const T* Xt = X + r0 * ldx;
    T* d = out_.get();
    forward_tile(params, n, Xt, ldx, d);
    // The output delta is the residual itself (output width 1, identity), or rho'(r^2) r.
    if (loss_ == nullptr) {
      for (std::size_t i = 0; i < n; ++i) {
        const T r = d[i] - y[r0 + i];
        d[i] = r;
        loss += static_cast<double>(r) * static_cast<double>(r);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const T r = d[i] - y[r0 + i];
        d[i] = static_cast<T>(robust_row(*loss_, static_cast<double>(r), loss));
      }
    }
    int next = 0;
    for (std::size_t l = layers; l-- > 0;) {
      const DenseLayer<T>& layer = layers_[l];
      const T* x = l == 0 ? Xt : a_.get() + act_offset_[l - 1];
      const std::size_t ldx_l = l == 0 ? ldx : layer.in;
      const T* z = l + 1 < layers && z_ ? z_.get() + act_offset_[l] : nullptr;
      const T* a = l + 1 < layers ? a_.get() + act_offset_[l] : nullptr;
      // The first tile's folds start every gradient entry (each layer's weights and biases).
      const bool from_zero = grad_is_zero && r0 == 0;
      // dL/da of layer l-1: (dL/dz_l) W_l^T, into the other delta buffer.
      T* dx = l == 0 ? nullptr : delta_[next].get();
      next ^= 1;
      layer.backward(n, x, ldx_l, z, a, d, grad + shape_.weight_offset(l), from_zero,
                     l == 0 ? nullptr : wt_.get() + wt_offset_[l], dx);
      d = dx;
    }
  }
  return loss;
}

template <class T>
void MlpCompute<T>::predict(const T* params, std::size_t rows, const T* X, std::size_t ldx,
                            T* out) {
  if (rows == 0) return;
  if (ldx < shape_.widths[0]) {
    throw std::invalid_argument("MlpCompute: ldx is less than the number of inputs");
  }
  for (std::size_t r0 = 0; r0 < rows; r0 += tile_rows_) {
    forward_tile(params, std::min(tile_rows_, rows - r0), X + r0 * ldx, ldx, out + r0);
  }
}

template class MlpCompute<float>;
template class MlpCompute<double>;

}  // namespace parafit::detail
