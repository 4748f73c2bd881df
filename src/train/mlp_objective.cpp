#include "train/mlp_objective.h"

#include <algorithm>

#include "model/fast_exp.h"
#include "model/mlp_compute.h"
#include "model/mlp_shape.h"

namespace parafit::detail {
namespace {

// Rows gathered at a time: bounds the gather buffers; MlpCompute tiles them further.
constexpr std::size_t kGatherRows = 1024;

// out[i] = sum[i] as double (+ 0.0), sum[i] = 0: one sweep, baseline and AVX2 copies alike.
template <class T>
[[gnu::always_inline]] inline void take_loop(std::size_t n, T* __restrict sum, double* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<double>(sum[i]) + 0.0;
    sum[i] = T(0);
  }
}

// theta (double) to the model's precision.
template <class T>
[[gnu::always_inline]] inline void narrow_loop(std::size_t n, const double* __restrict theta, T* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(theta[i]);
}

template <class T>
class TypedAccumulator final : public GradientAccumulator {
 public:
  explicit TypedAccumulator(std::size_t n) : sum(n, T(0)) {}
  void zero() override { std::fill(sum.begin(), sum.end(), T(0)); }
  void take(std::span<double> out) override { run_dispatched<take_loop<T>>(sum.size(), sum.data(), out.data()); }
  std::vector<T> sum;
};

template <class T>
class MlpObjective;

template <class T>
class MlpWorker final : public TrainWorker {
 public:
  explicit MlpWorker(const MlpObjective<T>& o);
  void set_parameters(std::span<const double> theta) override {
    run_dispatched<narrow_loop<T>>(theta.size(), theta.data(), params_.data());
    compute_.prepare(params_.data());
  }
  double accumulate(std::span<const std::size_t> rows, GradientAccumulator& acc, double loss) override;
  double loss(std::span<const std::size_t> rows, double loss) override;

 private:
  void gather(std::span<const std::size_t> rows);
  const MlpObjective<T>& o_;
  MlpCompute<T> compute_;
  std::vector<T> params_, x_, y_, f_;
};

template <class T>
class MlpObjective final : public TrainObjective {
 public:
  MlpObjective(const MlpModel& model, const Dataset& data, int threads)
      : shape_(mlp_shape(model)), d_(model.inputs.size()), y_scale_(model.y_scale) {
    const std::size_t n = data.rows();
    x_.resize(n * d_);
    y_.resize(n);
    std::vector<std::span<const double>> cols;
    for (const auto& name : model.inputs) cols.push_back(data.column(name));
    const auto y = data.column(model.response);
    const auto rows = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for num_threads(std::max(1, threads)) schedule(static)
    for (std::ptrdiff_t ii = 0; ii < rows; ++ii) {
      const auto i = static_cast<std::size_t>(ii);
      for (std::size_t k = 0; k < d_; ++k)
        x_[i * d_ + k] = static_cast<T>((cols[k][i] - model.input_mean[k]) / model.input_scale[k]);
      y_[i] = static_cast<T>((y[i] - model.y_mean) / model.y_scale);
    }
  }
  std::size_t num_parameters() const override { return shape_.num_parameters(); }
  std::unique_ptr<GradientAccumulator> make_accumulator() const override {
    return std::make_unique<TypedAccumulator<T>>(num_parameters());
  }
  std::unique_ptr<TrainWorker> make_worker() const override { return std::make_unique<MlpWorker<T>>(*this); }
  double loss_scale() const override { return y_scale_ * y_scale_; }

  MlpShape shape_;
  std::size_t d_;
  double y_scale_;
  std::vector<T> x_, y_;  // row-major standardised inputs, standardised response
};

template <class T>
MlpWorker<T>::MlpWorker(const MlpObjective<T>& o)
    : o_(o), compute_(o.shape_), params_(o.num_parameters()), x_(kGatherRows * o.d_), y_(kGatherRows), f_(kGatherRows) {}

template <class T>
void MlpWorker<T>::gather(std::span<const std::size_t> rows) {
  const std::size_t d = o_.d_;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const T* src = o_.x_.data() + rows[i] * d;
    std::copy(src, src + d, x_.data() + i * d);
    y_[i] = o_.y_[rows[i]];
  }
}

template <class T>
double MlpWorker<T>::accumulate(std::span<const std::size_t> rows, GradientAccumulator& acc, double loss) {
  T* g = static_cast<TypedAccumulator<T>&>(acc).sum.data();
  for (std::size_t start = 0; start < rows.size(); start += kGatherRows) {
    const std::size_t n = std::min(kGatherRows, rows.size() - start);
    gather(rows.subspan(start, n));
    loss = compute_.accumulate_gradient(params_.data(), n, x_.data(), o_.d_, y_.data(), g, loss);
  }
  return loss;
}

template <class T>
double MlpWorker<T>::loss(std::span<const std::size_t> rows, double loss) {
  for (std::size_t start = 0; start < rows.size(); start += kGatherRows) {
    const std::size_t n = std::min(kGatherRows, rows.size() - start);
    gather(rows.subspan(start, n));
    compute_.predict(params_.data(), n, x_.data(), o_.d_, f_.data());
    for (std::size_t i = 0; i < n; ++i) {
      const double r = static_cast<double>(f_[i]) - static_cast<double>(y_[i]);
      loss = loss + r * r;
    }
  }
  return loss;
}

}  // namespace

std::unique_ptr<TrainObjective> make_mlp_objective(const MlpModel& model, const Dataset& data, int threads) {
  if (model.precision == Precision::kFloat32) return std::make_unique<MlpObjective<float>>(model, data, threads);
  return std::make_unique<MlpObjective<double>>(model, data, threads);
}

}  // namespace parafit::detail
