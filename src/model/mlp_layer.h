// model/mlp_layer.h — one dense layer of the MLP regressor, the unit a network is cut into:
// forward and backward over a block of rows, on the kernels of mlp_kernels.h. It holds no buffers
// and no parameters: the caller passes its slice of the parameters and the activations it kept, so
// a pipeline stage can keep several micro-batches in flight and a tensor-parallel rank can hold a
// slice of a layer.
//
// Its operations are those MlpCompute ran inline, in the same order for every element: a network
// run layer by layer gives the same bits (MlpCompute is built on it).
#pragma once

#include <cstddef>

#include "model/mlp_kernels.h"

namespace parafit::detail {

template <class T>
struct DenseLayer {
  std::size_t in = 0, out = 0;
  Activation act = Activation::kIdentity;  // identity for the output layer

  // The layer's parameters, in MlpShape's layout: W (in x out, row-major), then b (out).
  std::size_t num_parameters() const { return (in + 1) * out; }
  // Whether backward needs the pre-activations z (gelu's derivative), not only the activations.
  bool keeps_z() const { return act == Activation::kGelu; }

  // z = x W + b and a = act(z), each rows x out (leading dimension out). z may be nullptr unless
  // keeps_z(): a then holds z first and is activated in place. With identity, a = z.
  void forward(const T* params, std::size_t rows, const T* x, std::size_t ldx, T* z, T* a) const {
    const T* W = params;
    const T* b = params + in * out;
    T* pre = z != nullptr ? z : a;
    affine<T>(rows, out, in, x, ldx, W, out, b, pre, out);
    if (act != Activation::kIdentity || pre != a) activate_forward<T>(act, rows * out, pre, a);
  }

  // The backward pass of the rows forward saw (x, z, a as it left them). d (rows x out): dL/da on
  // entry, dL/dz on return. Adds the weight gradient x^T dL/dz and the bias gradient (the column
  // sums of dL/dz) to grad (this layer's slice of a gradient in the parameters' layout), as folds
  // over the rows in order; from_zero starts them at +0 without reading grad. With dx (rows x in):
  // dx = dL/dz W^T, from Wt, the transposed weights (out x in).
  void backward(std::size_t rows, const T* x, std::size_t ldx, const T* z, const T* a, T* d, T* grad,
                bool from_zero, const T* Wt = nullptr, T* dx = nullptr) const {
    if (act != Activation::kIdentity) activate_backward<T>(act, rows * out, z, a, d);
    accumulate_outer<T>(rows, in, out, x, ldx, d, out, grad, out, from_zero);
    accumulate_rows<T>(rows, out, d, out, grad + in * out, from_zero);
    if (dx != nullptr) affine<T>(rows, in, out, d, out, Wt, in, nullptr, dx, in);
  }
};

}  // namespace parafit::detail
