#include "train/curve_objective.h"

#include <algorithm>

namespace parafit::detail {
namespace {

// Rows gathered per model call: enough for the model's loops to vectorise, small enough for L1.
constexpr std::size_t kBlock = 256;

class DoubleAccumulator final : public GradientAccumulator {
 public:
  explicit DoubleAccumulator(std::size_t n) : sum(n, 0.0) {}
  void zero() override { std::fill(sum.begin(), sum.end(), 0.0); }
  void take(std::span<double> out) override {
    for (std::size_t i = 0; i < sum.size(); ++i) {
      out[i] = sum[i] + 0.0;
      sum[i] = 0.0;
    }
  }
  std::vector<double> sum;
};

}  // namespace

class CurveWorker final : public TrainWorker {
 public:
  explicit CurveWorker(const CurveObjective& o)
      : o_(o),
        p_(o.model_.num_parameters()),
        theta_(p_),
        x_(o.inputs_.size(), std::vector<double>(kBlock)),
        x_ptr_(o.inputs_.size()),
        y_(kBlock),
        f_(kBlock),
        j_(p_ * kBlock) {
    for (std::size_t k = 0; k < x_.size(); ++k) x_ptr_[k] = x_[k].data();
  }

  void set_parameters(std::span<const double> theta) override { std::copy(theta.begin(), theta.end(), theta_.begin()); }

  double accumulate(std::span<const std::size_t> rows, GradientAccumulator& acc, double loss) override {
    auto& g = static_cast<DoubleAccumulator&>(acc).sum;
    for (std::size_t start = 0; start < rows.size(); start += kBlock) {
      const std::size_t n = std::min(kBlock, rows.size() - start);
      gather(rows.subspan(start, n));
      o_.model_.evaluate(theta_.data(), RowBlock{n, x_ptr_.data()}, f_.data(), j_.data(), kBlock);
      for (std::size_t i = 0; i < n; ++i) {
        const double r = f_[i] - y_[i];
        loss = loss + r * r;
        for (std::size_t j = 0; j < p_; ++j) g[j] = g[j] + r * j_[j * kBlock + i];
      }
    }
    return loss;
  }

  double loss(std::span<const std::size_t> rows, double loss) override {
    for (std::size_t start = 0; start < rows.size(); start += kBlock) {
      const std::size_t n = std::min(kBlock, rows.size() - start);
      gather(rows.subspan(start, n));
      o_.model_.evaluate(theta_.data(), RowBlock{n, x_ptr_.data()}, f_.data(), nullptr, kBlock);
      for (std::size_t i = 0; i < n; ++i) {
        const double r = f_[i] - y_[i];
        loss = loss + r * r;
      }
    }
    return loss;
  }

 private:
  void gather(std::span<const std::size_t> rows) {
    for (std::size_t k = 0; k < x_.size(); ++k)
      for (std::size_t i = 0; i < rows.size(); ++i) x_[k][i] = o_.inputs_[k][rows[i]];
    for (std::size_t i = 0; i < rows.size(); ++i) y_[i] = o_.y_[rows[i]];
  }

  const CurveObjective& o_;
  std::size_t p_;
  std::vector<double> theta_;
  std::vector<std::vector<double>> x_;
  std::vector<const double*> x_ptr_;
  std::vector<double> y_, f_, j_;
};

CurveObjective::CurveObjective(const Model& model, std::vector<std::span<const double>> inputs,
                               std::span<const double> y)
    : model_(model), inputs_(std::move(inputs)), y_(y) {}

std::unique_ptr<GradientAccumulator> CurveObjective::make_accumulator() const {
  return std::make_unique<DoubleAccumulator>(model_.num_parameters());
}

std::unique_ptr<TrainWorker> CurveObjective::make_worker() const { return std::make_unique<CurveWorker>(*this); }

}  // namespace parafit::detail
