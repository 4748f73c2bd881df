#include "model/mlp_tensor.h"

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace parafit::detail {
namespace {

// Which way the k-th of `layers` layers of a plan is split: pairs (columns, rows) from the last
// back; with an odd count the first layer is left whole.
TensorSplit split_of(std::size_t k, std::size_t layers) {
  if (layers % 2 == 1 && k == 0) return TensorSplit::kReplicated;
  return (layers - 1 - k) % 2 == 0 ? TensorSplit::kRows : TensorSplit::kColumns;
}

// The width split by layer l of [first, last) (its output columns, or its input rows); 0 when whole.
std::size_t split_width(const MlpShape& shape, std::size_t l, std::size_t first, std::size_t last) {
  switch (split_of(l - first, last - first)) {
    case TensorSplit::kColumns: return shape.widths[l + 1];
    case TensorSplit::kRows: return shape.widths[l];
    case TensorSplit::kReplicated: return 0;
  }
  return 0;
}

std::size_t end_of(const MlpShape& shape, std::size_t last) {
  return last == TensorPlan::kAllLayers ? shape.num_layers() : last;
}

}  // namespace

std::size_t TensorPlan::max_slices(const MlpShape& shape, std::size_t first, std::size_t last) {
  last = end_of(shape, last);
  std::size_t most = 0;
  for (std::size_t l = first; l < last; ++l)
    if (const std::size_t w = split_width(shape, l, first, last); w > 0) most = most == 0 ? w : std::min(most, w);
  return most == 0 ? std::numeric_limits<std::size_t>::max() : most;
}

TensorPlan::TensorPlan(const MlpShape& shape, std::size_t slices, std::size_t slice, std::size_t first,
                       std::size_t last)
    : shape_(shape), slices_(slices), slice_(slice), first_(first) {
  last = end_of(shape, last);
  if (slices == 0 || slice >= slices)
    throw std::invalid_argument("TensorPlan: slice " + std::to_string(slice) + " of " + std::to_string(slices));
  if (first >= last || last > shape.num_layers())
    throw std::invalid_argument("TensorPlan: layers [" + std::to_string(first) + ", " + std::to_string(last) +
                                ") of " + std::to_string(shape.num_layers()));
  if (slices > max_slices(shape, first, last))
    throw std::invalid_argument("TensorPlan: " + std::to_string(slices) + " slices of a layer only " +
                                std::to_string(max_slices(shape, first, last)) + " wide");
  const std::size_t layers = shape.num_layers();
  for (std::size_t l = first; l < last; ++l) {
    TensorLayer t;
    t.split = split_of(l - first, last - first);
    t.in = shape.widths[l];
    t.out = shape.widths[l + 1];
    t.act = l + 1 == layers ? Activation::kIdentity : shape.activation;
    const std::size_t w = split_width(shape, l, first, last);
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
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const TensorLayer& t = layers_[k];
    const std::size_t l = first_ + k;
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
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    const TensorLayer& t = layers_[k];
    const std::size_t l = first_ + k;
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
void LayerActivations<T>::reserve(const TensorPlan& plan, std::size_t n) {
  const auto& layers = plan.layers();
  a.resize(layers.size());
  z.resize(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::size_t need = n * layers[l].out_held();
    a[l].resize(need);
    if (layers[l].act == Activation::kGelu) z[l].resize(need);
  }
  rows = n;
}

template <class T>
void LayerActivations<T>::clear() {
  for (auto& v : a) v.clear();
  for (auto& v : z) v.clear();
  rows = 0;
}

template <class T>
std::size_t LayerActivations<T>::bytes() const {
  std::size_t total = 0;
  for (const auto& v : a) total += v.size() * sizeof(T);
  for (const auto& v : z) total += v.size() * sizeof(T);
  return total;
}

template <class T>
TensorMlpCompute<T>::TensorMlpCompute(TensorPlan plan, SumOverSlices<T> sum)
    : plan_(std::move(plan)), sum_(std::move(sum)) {
  for (const TensorLayer& t : plan_.layers()) {
    widest_ = std::max({widest_, t.in, t.out});
    wt_.emplace_back(t.in_held() * t.out_held());
  }
}

template <class T>
void TensorMlpCompute<T>::prepare(const T* params) {
  const auto& layers = plan_.layers();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const TensorLayer& t = layers[l];
    transpose<T>(t.in_held(), t.out_held(), params + t.offset, t.out_held(), wt_[l].data(), t.in_held());
  }
}

template <class T>
const T* TensorMlpCompute<T>::forward(const T* params, std::size_t n, const T* X, std::size_t ldx,
                                      LayerActivations<T>& acts) {
  acts.reserve(plan_, n);
  const auto& layers = plan_.layers();
  const T* in = X;
  std::size_t ldin = ldx;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const TensorLayer& t = layers[l];
    const std::size_t width = t.out_held();
    T* a = acts.a[l].data();
    T* z = acts.z[l].empty() ? nullptr : acts.z[l].data();
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
  return acts.a.back().data();
}

template <class T>
void TensorMlpCompute<T>::backward(std::size_t n, const T* X, std::size_t ldx, LayerActivations<T>& acts, T* d,
                                   std::span<const Piece> pieces, T* dx_out) {
  const auto& layers = plan_.layers();
  for (auto& buffer : delta_)
    if (buffer.size() < n * widest_) buffer.resize(n * widest_);
  int next = 0;
  for (std::size_t l = layers.size(); l-- > 0;) {
    const TensorLayer& t = layers[l];
    const std::size_t in = t.in_held(), width = t.out_held();
    const T* x = l == 0 ? X : acts.a[l - 1].data();
    const std::size_t ld = l == 0 ? ldx : in;
    if (t.act != Activation::kIdentity)
      activate_backward<T>(t.act, n * width, acts.z[l].empty() ? nullptr : acts.z[l].data(), acts.a[l].data(), d);
    for (const Piece& p : pieces) {
      const std::size_t rows = p.end - p.begin;
      if (rows == 0) continue;
      T* g = p.grad + t.offset;
      accumulate_outer<T>(rows, in, width, x + p.begin * ld, ld, d + p.begin * width, width, g, width, p.from_zero);
      if (t.has_bias) accumulate_rows<T>(rows, width, d + p.begin * width, width, g + in * width, p.from_zero);
    }
    if (l == 0 && dx_out == nullptr) break;
    // dL/da of the layer before (or dL/dX): d W^T. A column layer's input is whole and each slice
    // holds a part of its columns, so its d W^T is a partial sum; a row layer's is its slice's
    // rows, complete; a whole layer's is complete on every slice.
    T* dx = l == 0 ? dx_out : delta_[next].data();
    next ^= 1;
    affine<T>(n, in, width, d, width, wt_[l].data(), in, nullptr, dx, in);
    if (t.split == TensorSplit::kColumns) sum_(std::span<T>(dx, n * in));
    d = dx;
  }
}

template struct LayerActivations<float>;
template struct LayerActivations<double>;
template class TensorMlpCompute<float>;
template class TensorMlpCompute<double>;

}  // namespace parafit::detail
