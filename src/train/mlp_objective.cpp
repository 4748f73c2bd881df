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
  MlpWorker(const MlpObjective<T>& o, bool gradient);
  void set_parameters(std::span<const double> theta) override {
    narrow_parameters<T>(theta.size(), theta.data(), params_.data());
    compute_.prepare(params_.data());
  }
  void accumulate(const RowSet& rows, RowSums& sums) override;

 private:
  void gather(const RowSet& rows);
  const MlpObjective<T>& o_;
  bool gradient_;
  MlpCompute<T> compute_;
  std::vector<T> params_, x_, y_, f_;
};


template <class T>
class MlpObjective final : public TrainObjective {
 public:
  MlpObjective(const MlpModel& model, const Dataset& data, int threads)
      : shape_(mlp_shape(model)), rows_(model, data, threads), d_(rows_.d), y_scale_(model.y_scale),
        gradient_(*this, true), loss_(*this, false) {}
  std::size_t num_parameters() const override { return shape_.num_parameters(); }
  const RowKernel& gradient() const override { return gradient_; }
  const RowKernel& loss() const override { return loss_; }
  double loss_scale() const override { return y_scale_ * y_scale_; }

  MlpShape shape_;
  StandardisedRows<T> rows_;
  std::size_t d_;
  double y_scale_;
  MlpRowKernel<T, MlpObjective<T>, MlpWorker<T>, false> gradient_, loss_;
};

template <class T>
MlpWorker<T>::MlpWorker(const MlpObjective<T>& o, bool gradient)
    : o_(o),
      gradient_(gradient),
      compute_(o.shape_),
      params_(o.num_parameters()),
      x_(kGatherRows * o.d_),
      y_(kGatherRows),
      f_(kGatherRows) {}

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
    for (std::size_t i = 0; i < n; ++i) {
      const double r = static_cast<double>(f_[i]) - static_cast<double>(y_[i]);
      loss = loss + r * r;
    }
  }
}

}  // namespace

std::unique_ptr<TrainObjective> make_mlp_objective(const MlpModel& model, const Dataset& data, int threads) {
  if (model.precision == Precision::kFloat32) return std::make_unique<MlpObjective<float>>(model, data, threads);
  return std::make_unique<MlpObjective<double>>(model, data, threads);
}

}  // namespace parafit::detail
