// model/mlp_shape.h — from the public MlpModel description to the compute core's shape.
#pragma once

#include "model/mlp_compute.h"
#include "parafit/mlp.h"

namespace parafit::detail {

inline Activation kernel_activation(parafit::Activation a) {
  switch (a) {
    case parafit::Activation::kTanh: return Activation::kTanh;
    case parafit::Activation::kRelu: return Activation::kRelu;
    case parafit::Activation::kSigmoid: return Activation::kSigmoid;
    case parafit::Activation::kGelu: return Activation::kGelu;
  }
  return Activation::kTanh;
}

inline MlpShape mlp_shape(const MlpModel& model) { return MlpShape{model.widths, kernel_activation(model.activation)}; }

}  // namespace parafit::detail
