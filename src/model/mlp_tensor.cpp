#include "model/mlp_tensor.h"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>

namespace parafit::detail {
namespace {

constexpr std::align_val_t kAlign{64};

// Which way layer l of `layers` is split: pairs (columns, rows) from the output back; with an odd
// count the first layer is left whole.
TensorSplit split_of(std::size_t l, std::size_t layers) {
  if (layers % 2 == 1 && l == 0) return TensorSplit::kReplicated;
  return (layers - 1 - l) % 2 == 0 ? TensorSplit::kRows : TensorSplit::kColumns;
}

// The width split by layer l (its output columns, or its input rows); 0 when it is whole.
std::size_t split_width(const MlpShape& shape, std::size_t l) {
  switch (split_of(l, shape.num_layers())) {
    case TensorSplit::kColumns: return shape.widths[l + 1];
    case TensorSplit::kRows: return shape.widths[l];
    case TensorSplit::kReplicated: return 0;
  }
  return 0;
}

}  // namespace

std::size_t TensorPlan::max_slices(const MlpShape& shape) {
  std::size_t most = 0;
  for (std::size_t l = 0; l < shape.num_layers(); ++l)
    if (const std::size_t w = split_width(shape, l); w > 0) most = most == 0 ? w : std::min(most, w);
  return most == 0 ? 1 : most;
}

TensorPlan::TensorPlan(const MlpShape& shape, std::size_t slices, std::size_t slice)
    : shape_(shape), slices_(slices), slice_(slice) {
  if (slices == 0 || slice >= slices)
    throw std::invalid_argument("TensorPlan: slice " + std::to_string(slice) + " of " + std::to_string(slices));
  if (slices > max_slices(shape))
    throw std::invalid_argument("TensorPlan: " + std::to_string(slices) + " slices of a layer only " +
                                std::to_string(max_slices(shape)) + " wide");
  const std::size_t layers = shape.num_layers();
  for (std::size_t l = 0; l < layers; ++l) {
    TensorLayer t;
    t.split = split_of(l, layers);
    t.in = shape.widths[l];
    t.out = shape.widths[l + 1];
    t.act = l + 1 == layers ? Activation::kIdentity : shape.activation;
    const std::size_t w = split_width(shape, l);
    t.lo = t.split == TensorSplit::kReplicated ? 0 : slice * w / slices;
    t.hi = t.split == TensorSplit::kReplicated ? t.out : (slice + 1) * w / slices;
    t.has_bias = t.split != TensorSplit::kRows || slice == 0;
    t.offset = count_;
    count_ += t.count();
    layers_.push_back(t);
  }
}

std::vector<double> TensorPlan::take(std::span<const double> whole) const {
  if (whole.size() != shape_.num_parameters()) throw std::invalid_argument("TensorPlan::take: wrong size");
  std::vector<double> mine(count_);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const TensorLayer& t = layers_[l];
    const double* W = whole.data() + shape_.weight_offset(l);
    const double* b = whole.data() + shape_.bias_offset(l);
    double* out = mine.data() + t.offset;
    const std::size_t rows = t.in_held(), cols = t.out_held();
    const std::size_t r0 = t.split == TensorSplit::kRows ? t.lo : 0;
    const std::size_t c0 = t.split == TensorSplit::kColumns ? t.lo : 0;
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) out[i * cols + j] = W[(r0 + i) * t.out + c0 + j];
    if (t.has_bias)
      for (std::size_t j = 0; j < cols; ++j) out[rows * cols + j] = b[c0 + j];
  }
  return mine;
}

void TensorPlan::put(std::span<const double> mine, std::span<double> whole) const {
  if (mine.size() != count_ || whole.size() != shape_.num_parameters())
    throw std::invalid_argument("TensorPlan::put: wrong size");
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const TensorLayer& t = layers_[l];
    double* W = whole.data() + shape_.weight_offset(l);
    double* b = whole.data() + shape_.bias_offset(l);
    const double* in = mine.data() + t.offset;
    const std::size_t rows = t.in_held(), cols = t.out_held();
    const std::size_t r0 = t.split == TensorSplit::kRows ? t.lo : 0;
    const std::size_t c0 = t.split == TensorSplit::kColumns ? t.lo : 0;
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) W[(r0 + i) * t.out + c0 + j] = in[i * cols + j];
    if (t.has_bias)
      for (std::size_t j = 0; j < cols; ++j) b[c0 + j] = in[rows * cols + j];
  }
}

template <class T>
void TensorMlpCompute<T>::Free::operator()(T* p) const {
  ::operator delete(p, kAlign);
}

template <class T>
typename TensorMlpCompute<T>::Buffer TensorMlpCompute<T>::allocate(std::size_t count) const {
  count = std::max<std::size_t>(count, 1);
  Buffer b(static_cast<T*>(::operator new(count * sizeof(T), kAlign)));
  std::fill(b.get(), b.get() + count, T(0));
  return b;
}

template <class T>
TensorMlpCompute<T>::TensorMlpCompute(TensorPlan plan, std::size_t block_rows, SumOverSlices<T> sum)
    : plan_(std::move(plan)), block_rows_(block_rows), sum_(std::move(sum)) {
  if (block_rows_ == 0) throw std::invalid_argument("TensorMlpCompute: block_rows is 0");
  const auto& layers = plan_.layers();
  std::size_t widest = 1;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const TensorLayer& t = layers[l];
    widest = std::max({widest, t.in, t.out});
    if (l + 1 < layers.size()) {
      a_.push_back(allocate(block_rows_ * t.out_held()));
      z_.push_back(t.act == Activation::kGelu ? allocate(block_rows_ * t.out_held()) : Buffer());
    }
    wt_.push_back(l > 0 ? allocate(t.in_held() * t.out_held()) : Buffer());
  }
  delta_[0] = allocate(block_rows_ * widest);
  delta_[1] = allocate(block_rows_ * widest);
}

template <class T>
void TensorMlpCompute<T>::prepare(const T* params) {
  const auto& layers = plan_.layers();
  for (std::size_t l = 1; l < layers.size(); ++l) {
    const TensorLayer& t = layers[l];
    transpose<T>(t.in_held(), t.out_held(), params + t.offset, t.out_held(), wt_[l].get(), t.in_held());
  }
}

template <class T>
void TensorMlpCompute<T>::forward(const T* params, std::size_t n, const T* X, std::size_t ldx, T* f) {
  if (n > block_rows_) throw std::invalid_argument("TensorMlpCompute: more rows than a block");
  const auto& layers = plan_.layers();
  const T* in = X;
  std::size_t ldin = ldx;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const TensorLayer& t = layers[l];
    const bool last = l + 1 == layers.size();
    const std::size_t width = t.out_held();
    T* a = last ? f : a_[l].get();
    T* z = !last && z_[l] ? z_[l].get() : nullptr;
    const T* W = params + t.offset;
    const T* b = t.has_bias ? W + t.in_held() * width : nullptr;
    if (t.split == TensorSplit::kRows) {
      T* pre = z != nullptr ? z : a;
      affine<T>(n, width, t.in_held(), in, ldin, W, width, b, pre, width);
      sum_(std::span<T>(pre, n * width));
      if (t.act != Activation::kIdentity || pre != a) activate_forward<T>(t.act, n * width, pre, a);
    } else {
      // Whole or by columns: the slice is a dense layer of its own (nothing to add up).
      DenseLayer<T>{t.in_held(), width, t.act}.forward(W, n, in, ldin, z, a);
    }
    in = a;
    ldin = width;
  }
}

template <class T>
void TensorMlpCompute<T>::backward(std::size_t n, const T* X, std::size_t ldx, T* d,
                                   std::span<const Piece> pieces) {
  const auto& layers = plan_.layers();
  int next = 0;
  for (std::size_t l = layers.size(); l-- > 0;) {
    const TensorLayer& t = layers[l];
    const bool last = l + 1 == layers.size();
    const std::size_t in = t.in_held(), width = t.out_held();
    const T* x = l == 0 ? X : a_[l - 1].get();
    const std::size_t ld = l == 0 ? ldx : in;
    if (!last && t.act != Activation::kIdentity)
      activate_backward<T>(t.act, n * width, z_[l] ? z_[l].get() : nullptr, a_[l].get(), d);
    for (const Piece& p : pieces) {
      const std::size_t rows = p.end - p.begin;
      if (rows == 0) continue;
      T* g = p.grad + t.offset;
      accumulate_outer<T>(rows, in, width, x + p.begin * ld, ld, d + p.begin * width, width, g, width, p.from_zero);
      if (t.has_bias) accumulate_rows<T>(rows, width, d + p.begin * width, width, g + in * width, p.from_zero);
    }
    if (l == 0) break;
    // dL/da of layer l-1: d W^T; a column layer's input is whole, so its part is a partial sum.
    T* dx = delta_[next].get();
    next ^= 1;
    affine<T>(n, in, width, d, width, wt_[l].get(), in, nullptr, dx, in);
    if (t.split == TensorSplit::kColumns) sum_(std::span<T>(dx, n * in));
    d = dx;
  }
}

template class TensorMlpCompute<float>;
template class TensorMlpCompute<double>;

}  // namespace parafit::detail
