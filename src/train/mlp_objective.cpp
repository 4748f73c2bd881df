#include "train/mlp_objective.h"

#include <hwy/cache_control.h>

#include <algorithm>
#include <new>

#include "model/mlp_compute.h"
#include "model/mlp_kernels.h"
#include "model/mlp_shape.h"
#include "train/mlp_rows.h"

namespace parafit::detail {
namespace {

// Rows gathered at a time: bounds the gather buffers; MlpCompute tiles them further.
constexpr std::size_t kGatherRows = 1024;

template <class T>
class MlpObjective;

// Gathers rows into a row-major block and runs MlpCompute on it: with `gradient`, folds the
// gradient and the loss into GradientSums; otherwise predicts and folds the loss into [L].
template <class T>
class MlpWorker final : public RowWorker {
 public:
  MlpWorker(const MlpObjective<T>& o, bool gradient, const Loss* loss);
  void set_parameters(std::span<const double> theta) override {
    narrow_parameters<T>(theta.size(), theta.data(), params_.data());
    compute_.prepare(params_.data());
  }
  void accumulate(const RowSet& rows, RowSums& sums) override;

 private:
  void gather(const RowSet& rows);
  const MlpObjective<T>& o_;
  bool gradient_;
  const Loss* loss_;
  MlpCompute<T> compute_;
  std::vector<T> params_, x_, y_, f_;
};


template <class T>
class MlpObjective final : public TrainObjective {
 public:
  MlpObjective(const MlpModel& model, const Dataset& data, int threads, const Loss& loss)
      : shape_(mlp_shape(model)), rows_(model, data, threads), d_(rows_.d), y_scale_(model.y_scale),
        row_loss_(loss, model.y_scale), gradient_(*this, true, row_loss_.robust()),
        loss_(*this, false, row_loss_.robust()), squared_(*this, false, nullptr) {}
  std::size_t num_parameters() const override { return shape_.num_parameters(); }
  const RowKernel& gradient() const override { return gradient_; }
  const RowKernel& loss() const override { return loss_; }
  const RowKernel& squared_error() const override { return squared_; }
  double loss_scale() const override { return y_scale_ * y_scale_; }

  MlpShape shape_;
  StandardisedRows<T> rows_;
  std::size_t d_;
  double y_scale_;
  MlpLoss row_loss_;
  MlpRowKernel<T, MlpObjective<T>, MlpWorker<T>, false> gradient_, loss_, squared_;
};

template <class T>
MlpWorker<T>::MlpWorker(const MlpObjective<T>& o, bool gradient, const Loss* loss)
    : o_(o),
      gradient_(gradient),
      loss_(loss),
      compute_(o.shape_),
      params_(o.num_parameters()),
      x_(kGatherRows * o.d_),
      y_(kGatherRows),
      f_(kGatherRows) {
  compute_.set_loss(loss);
}

template <class T>
void MlpWorker<T>::gather(const RowSet& rows) {
  o_.rows_.gather(rows, x_.data(), y_.data());
}

template <class T>
void MlpWorker<T>::accumulate(const RowSet& rows, RowSums& sums) {
  if (gradient_) {
    auto& s = static_cast<GradientSums<T>&>(sums);
    for (std::size_t start = 0; start < rows.size(); start += kGatherRows) {
      const RowSet block = rows.sub(start, kGatherRows);
      gather(block);
      s.loss = compute_.accumulate_gradient(params_.data(), block.size(), x_.data(), o_.d_, y_.data(), s.g.data(),
                                            s.loss, s.fresh);
      s.fresh = false;
    }
    return;
  }
  double& loss = static_cast<VectorSums&>(sums).values()[0];
  for (std::size_t start = 0; start < rows.size(); start += kGatherRows) {
    const RowSet block = rows.sub(start, kGatherRows);
    const std::size_t n = block.size();
    gather(block);
    compute_.predict(params_.data(), n, x_.data(), o_.d_, f_.data());
    if (loss_ == nullptr) {
      for (std::size_t i = 0; i < n; ++i) {
        const double r = static_cast<double>(f_[i]) - static_cast<double>(y_[i]);
        loss = loss + r * r;
      }
    } else {
      for (std::size_t i = 0; i < n; ++i)
        robust_row(*loss_, static_cast<double>(f_[i]) - static_cast<double>(y_[i]), loss);
    }
  }
}

}  // namespace

std::unique_ptr<TrainObjective> make_mlp_objective(const MlpModel& model, const Dataset& data, int threads,
                                                   const Loss& loss) {
  if (model.precision == Precision::kFloat32)
    return std::make_unique<MlpObjective<float>>(model, data, threads, loss);
  return std::make_unique<MlpObjective<double>>(model, data, threads, loss);
}

}  // namespace parafit::detail
