// parafit/mlp.h — a multilayer perceptron regressor: the trained network and its description.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"

namespace parafit {

enum class Activation { kTanh, kRelu, kSigmoid, kGelu };
enum class Precision { kFloat32, kFloat64 };

const char* to_string(Activation a);   // "tanh", ...
const char* to_string(Precision p);    // "float32", "float64"
// Throw parafit::Error naming the text and the accepted values.
Activation parse_activation(std::string_view text);
Precision parse_precision(std::string_view text);

// Whether `model` names an MLP ("mlp:..." or "mlp").
bool is_mlp_name(std::string_view model);
// The hidden widths of "mlp:64,64" (each 1..65536, at least one layer); throws parafit::Error
// naming the bad token otherwise.
std::vector<std::size_t> parse_mlp_hidden(std::string_view model);

// A trained network. Inputs are standardised ((x - mean) / scale) before the first layer and the
// output is mapped back (f * y_scale + y_mean), so the weights work on unit-variance data whatever
// the units of the columns.
struct MlpModel {
  std::vector<std::string> inputs;         // input column names, in order
  std::string response;                    // response column name
  std::vector<std::size_t> widths;         // inputs, hidden..., 1
  Activation activation = Activation::kTanh;
  Precision precision = Precision::kFloat32;
  std::vector<double> input_mean, input_scale;  // one per input
  double y_mean = 0, y_scale = 1;
  // Layer l: weights (widths[l] x widths[l+1], row-major) then biases (widths[l+1]).
  std::vector<double> parameters;

  std::size_t num_parameters() const;
  std::string description() const;  // "mlp 16-64-64-1 tanh float32, 5313 parameters"
  // Checks sizes and finiteness; throws parafit::Error naming what is wrong.
  void validate() const;
  // Predictions (response units) for every row of `data`, which must have the input columns.
  std::vector<double> predict(const Dataset& data, const Context& context = {}) const;
};

// Number of parameters of a network with these layer widths (inputs, hidden..., outputs).
std::size_t mlp_parameter_count(std::span<const std::size_t> widths);

}  // namespace parafit
