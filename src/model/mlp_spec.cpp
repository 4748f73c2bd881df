// The MLP's description: names, parsing "mlp:64,64", sizes and checks (no arithmetic here).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>

#include "parafit/error.h"
#include "parafit/mlp.h"

namespace parafit {

const char* to_string(Activation a) {
  switch (a) {
    case Activation::kTanh: return "tanh";
    case Activation::kRelu: return "relu";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kGelu: return "gelu";
  }
  return "?";
}

const char* to_string(Precision p) { return p == Precision::kFloat32 ? "float32" : "float64"; }

Activation parse_activation(std::string_view text) {
  for (Activation a : {Activation::kTanh, Activation::kRelu, Activation::kSigmoid, Activation::kGelu})
    if (text == to_string(a)) return a;
  throw usage_error(fmt::format("unknown activation '{}' (use tanh, relu, sigmoid or gelu)", printable(text, 60)));
}

Precision parse_precision(std::string_view text) {
  if (text == "float32" || text == "f32") return Precision::kFloat32;
  if (text == "float64" || text == "f64") return Precision::kFloat64;
  throw usage_error(fmt::format("unknown precision '{}' (use float32 or float64)", printable(text, 60)));
}

bool is_mlp_name(std::string_view model) { return model == "mlp" || model.starts_with("mlp:"); }

std::vector<std::size_t> parse_mlp_hidden(std::string_view model) {
  constexpr const char* kForm = "write the hidden layer widths after 'mlp:', e.g. mlp:64,64";
  if (!is_mlp_name(model)) throw usage_error(fmt::format("'{}' is not an MLP ({})", printable(model, 60), kForm));
  if (model == "mlp" || model == "mlp:") throw usage_error(fmt::format("'{}': no hidden layers ({})", model, kForm));
  std::vector<std::size_t> widths;
  std::string_view rest = model.substr(4);
  std::size_t column = 5;  // 1-based position of the token in `model`
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view token = rest.substr(0, comma);
    std::size_t w = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), w);
    if (token.empty() || ec != std::errc() || end != token.data() + token.size() || w < 1 || w > 65536)
      throw usage_error(fmt::format("{}: '{}': bad layer width '{}' at column {} (each width is a whole number from 1 "
                                    "to 65536; {})",
                                    option_name("model.name"), printable(model, 60), printable(token, 20), column, kForm));
    widths.push_back(w);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    column += token.size() + 1;
  }
  return widths;
}

std::size_t mlp_parameter_count(std::span<const std::size_t> widths) {
  std::size_t n = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) n += widths[l] * widths[l + 1] + widths[l + 1];
  return n;
}

std::size_t MlpModel::num_parameters() const { return mlp_parameter_count(widths); }

std::string MlpModel::description() const {
  return fmt::format("mlp {} {} {}, {} parameters", fmt::join(widths, "-"), to_string(activation),
                     to_string(precision), num_parameters());
}

void MlpModel::validate() const {
  if (widths.size() < 3) throw Error("an MLP needs inputs, at least one hidden layer and an output");
  for (std::size_t w : widths)
    if (w == 0) throw Error("an MLP layer has width 0");
  if (widths.back() != 1) throw Error(fmt::format("the output layer has width {}, not 1", widths.back()));
  if (inputs.size() != widths.front())
    throw Error(fmt::format("{} input columns for a first layer of width {}", inputs.size(), widths.front()));
  if (input_mean.size() != inputs.size() || input_scale.size() != inputs.size())
    throw Error(fmt::format("standardisation has {} means and {} scales for {} inputs", input_mean.size(),
                            input_scale.size(), inputs.size()));
  for (std::size_t k = 0; k < inputs.size(); ++k)
    if (!std::isfinite(input_mean[k]) || !std::isfinite(input_scale[k]) || input_scale[k] <= 0)
      throw Error(fmt::format("input '{}': standardisation mean {} scale {} (need finite, scale > 0)", inputs[k],
                              input_mean[k], input_scale[k]));
  if (!std::isfinite(y_mean) || !std::isfinite(y_scale) || y_scale <= 0)
    throw Error(fmt::format("response standardisation mean {} scale {} (need finite, scale > 0)", y_mean, y_scale));
  if (parameters.size() != num_parameters())
    throw Error(fmt::format("{} weights for a network that has {}", parameters.size(), num_parameters()));
  for (std::size_t i = 0; i < parameters.size(); ++i)
    if (!std::isfinite(parameters[i])) throw Error(fmt::format("weight {} is {}", i, parameters[i]));
}

}  // namespace parafit
