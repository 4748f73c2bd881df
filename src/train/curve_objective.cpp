#include "train/curve_objective.h"

#include <algorithm>

#include "loss/row_loss.h"

namespace parafit::detail {
namespace {

// Rows gathered per model call: enough for the model's loops to vectorise, small enough for L1.
constexpr std::size_t kBlock = 256;

struct CurveData {
  const Model& model;
  std::vector<std::span<const double>> inputs;
  std::span<const double> y;
  Loss loss;
};

// Gathers the rows of each block into contiguous columns and evaluates the model on them; with
// `gradient`, folds r * df/dtheta and r^2 into the sums [g..., L], otherwise r^2 into [L]. With a
// robust loss (`robust` non-null) rho'(r^2) r * df/dtheta and rho(r^2) instead.
class CurveWorker final : public RowWorker {
 public:
  CurveWorker(const CurveData& d, bool gradient, const Loss* robust)
      : d_(d),
        gradient_(gradient),
        robust_(robust),
        p_(d.model.num_parameters()),
        theta_(p_),
        x_(d.inputs.size(), std::vector<double>(kBlock)),
        x_ptr_(d.inputs.size()),
        y_(kBlock),
        f_(kBlock),
        j_(gradient ? p_ * kBlock : 0) {
    for (std::size_t k = 0; k < x_.size(); ++k) x_ptr_[k] = x_[k].data();
  }

  void set_parameters(std::span<const double> theta) override { std::copy(theta.begin(), theta.end(), theta_.begin()); }

  void accumulate(const RowSet& rows, RowSums& sums) override {
    std::span<double> s = static_cast<VectorSums&>(sums).values();
    double* g = s.data();
    double& loss = gradient_ ? s[p_] : s[0];
    for (std::size_t start = 0; start < rows.size(); start += kBlock) {
      const RowSet block = rows.sub(start, kBlock);
      const std::size_t n = block.size();
      gather(block);
      d_.model.evaluate(theta_.data(), RowBlock{n, x_ptr_.data()}, f_.data(), gradient_ ? j_.data() : nullptr,
                        gradient_ ? kBlock : 0);
      for (std::size_t i = 0; i < n; ++i) {
        double r = f_[i] - y_[i];
        if (robust_ == nullptr)
          loss = loss + r * r;
        else
          r = robust_row(*robust_, r, loss);
        if (gradient_)
          for (std::size_t j = 0; j < p_; ++j) g[j] = g[j] + r * j_[j * kBlock + i];
      }
    }
  }

 private:
  void gather(const RowSet& rows) {
    for (std::size_t k = 0; k < x_.size(); ++k)
      for (std::size_t i = 0; i < rows.size(); ++i) x_[k][i] = d_.inputs[k][rows[i]];
    for (std::size_t i = 0; i < rows.size(); ++i) y_[i] = d_.y[rows[i]];
  }

  const CurveData& d_;
  bool gradient_;
  const Loss* robust_;
  std::size_t p_;
  std::vector<double> theta_;
  std::vector<std::vector<double>> x_;
  std::vector<const double*> x_ptr_;
  std::vector<double> y_, f_, j_;
};

class CurveKernel final : public RowKernel {
 public:
  CurveKernel(const CurveData& d, bool gradient, bool robust)
      : d_(d), gradient_(gradient), robust_(robust && !d.loss.squared() ? &d.loss : nullptr) {}
  std::size_t width() const override { return gradient_ ? d_.model.num_parameters() + 1 : 1; }
  std::unique_ptr<RowSums> make_sums() const override { return std::make_unique<VectorSums>(width()); }
  std::unique_ptr<RowWorker> make_worker() const override {
    return std::make_unique<CurveWorker>(d_, gradient_, robust_);
  }

 private:
  const CurveData& d_;
  bool gradient_;
  const Loss* robust_;
};

class CurveObjective final : public TrainObjective {
 public:
  CurveObjective(const Model& model, std::vector<std::span<const double>> inputs, std::span<const double> y,
                 const Loss& loss)
      : data_{model, std::move(inputs), y, loss},
        gradient_(data_, true, true),
        loss_(data_, false, true),
        squared_(data_, false, false) {}
  std::size_t num_parameters() const override { return data_.model.num_parameters(); }
  const RowKernel& gradient() const override { return gradient_; }
  const RowKernel& loss() const override { return loss_; }
  const RowKernel& squared_error() const override { return squared_; }

 private:
  CurveData data_;
  CurveKernel gradient_, loss_, squared_;
};

}  // namespace

std::unique_ptr<TrainObjective> make_curve_objective(const Model& model, std::vector<std::span<const double>> inputs,
                                                     std::span<const double> y, const Loss& loss) {
  return std::make_unique<CurveObjective>(model, std::move(inputs), y, loss);
}

}  // namespace parafit::detail
