// MlpModel::predict: standardise, run the network in the model's precision, map back.
#include <algorithm>

#include "model/mlp_shape.h"
#include "parafit/error.h"
#include "parafit/mlp.h"

namespace parafit {
namespace {

template <class T>
std::vector<double> predict_as(const MlpModel& m, const Dataset& data, const Context& context) {
  m.validate();
  std::vector<std::span<const double>> cols;
  for (const auto& name : m.inputs) cols.push_back(data.column(name));
  const std::size_t n = data.rows(), d = m.inputs.size();
  std::vector<T> params(m.parameters.begin(), m.parameters.end());
  std::vector<double> out(n);
  parallel_chunks(context, n, [&](std::size_t begin, std::size_t end) {
    constexpr std::size_t kBlock = 256;
    detail::MlpCompute<T> compute(detail::mlp_shape(m));
    std::vector<T> x(kBlock * d), f(kBlock);
    for (std::size_t b = begin; b < end; b += kBlock) {
      const std::size_t rows = std::min(kBlock, end - b);
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t k = 0; k < d; ++k)
          x[i * d + k] = static_cast<T>((cols[k][b + i] - m.input_mean[k]) / m.input_scale[k]);
      compute.predict(params.data(), rows, x.data(), d, f.data());
      for (std::size_t i = 0; i < rows; ++i) out[b + i] = static_cast<double>(f[i]) * m.y_scale + m.y_mean;
    }
  });
  return out;
}

}  // namespace

std::vector<double> MlpModel::predict(const Dataset& data, const Context& context) const {
  return precision == Precision::kFloat32 ? predict_as<float>(*this, data, context)
                                          : predict_as<double>(*this, data, context);
}

}  // namespace parafit
