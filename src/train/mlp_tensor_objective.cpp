#include "train/mlp_tensor_objective.h"

#include <algorithm>

#include "model/mlp_kernels.h"
#include "model/mlp_shape.h"
#include "model/mlp_tensor.h"
#include "train/mlp_rows.h"

namespace parafit::detail {

template <class T>
void sum_over_slices(Communicator& comm, std::span<T> partial, std::vector<T>& all) {
  const auto slices = std::size_t(comm.size());
  if (slices == 1) return;
  const std::size_t n = partial.size();
  all.resize(slices * n);
  comm.allgather<T>(partial, all);
  for (std::size_t i = 0; i < n; ++i) {
    T acc = all[i];
    for (std::size_t t = 1; t < slices; ++t) acc = acc + all[t * n + i];
    partial[i] = acc;
  }
}

template void sum_over_slices<float>(Communicator&, std::span<float>, std::vector<float>&);
template void sum_over_slices<double>(Communicator&, std::span<double>, std::vector<double>&);

namespace {

// Rows run through the slices at a time: every layer exchanges one block of partial sums, so a
// block should hold a whole step's rows where it can (one exchange per layer per step).
constexpr std::size_t kBlockRows = 512;

template <class T>
class TensorObjective;

// Runs the rows of several strata through the slice a block at a time: with `gradient`, folds each
// stratum's gradient slice and loss into its GradientSums; otherwise its loss into [L].
template <class T>
class TensorWorker final : public RowWorker {
 public:
  TensorWorker(const TensorObjective<T>& o, bool gradient, const Loss* loss);
  void set_parameters(std::span<const double> theta) override {
    narrow_parameters<T>(theta.size(), theta.data(), params_.data());
    compute_.prepare(params_.data());
  }
  void accumulate(const RowSet& rows, RowSums& sums) override {
    RowSums* one = &sums;
    accumulate_segments(std::span<const RowSet>(&rows, 1), std::span<RowSums* const>(&one, 1));
  }
  void accumulate_segments(std::span<const RowSet> segments, std::span<RowSums* const> sums) override;

 private:
  struct Piece {
    std::size_t segment, begin, end;  // rows [begin, end) of the block, of this segment
  };
  void run_block(std::span<const Piece> pieces, std::size_t n, std::span<RowSums* const> sums);

  const TensorObjective<T>& o_;
  bool gradient_;
  const Loss* loss_;  // nullptr: squared error
  std::vector<T> gathered_;  // sum_over_slices' buffer
  TensorMlpCompute<T> compute_;
  LayerActivations<T> acts_;
  std::vector<T> params_, x_, y_, d_;
};


template <class T>
class TensorObjective final : public TrainObjective {
 public:
  TensorObjective(const MlpModel& model, const Dataset& data, int threads, Communicator& tensor, const Loss& loss)
      : plan_(mlp_shape(model), std::size_t(tensor.size()), std::size_t(tensor.rank())),
        rows_(model, data, threads),
        y_scale_(model.y_scale),
        tensor_(&tensor),
        row_loss_(loss, model.y_scale),
        gradient_(*this, true, row_loss_.robust()),
        loss_(*this, false, row_loss_.robust()),
        squared_(*this, false, nullptr) {}
  std::size_t num_parameters() const override { return plan_.num_parameters(); }
  const RowKernel& gradient() const override { return gradient_; }
  const RowKernel& loss() const override { return loss_; }
  const RowKernel& squared_error() const override { return squared_; }
  double loss_scale() const override { return y_scale_ * y_scale_; }

  TensorPlan plan_;
  StandardisedRows<T> rows_;
  double y_scale_;
  Communicator* tensor_;
  MlpLoss row_loss_;
  MlpRowKernel<T, TensorObjective<T>, TensorWorker<T>, true> gradient_, loss_, squared_;
};

template <class T>
TensorWorker<T>::TensorWorker(const TensorObjective<T>& o, bool gradient, const Loss* loss)
    : o_(o),
      gradient_(gradient),
      loss_(loss),
      compute_(o.plan_, [this](std::span<T> partial) { sum_over_slices<T>(*o_.tensor_, partial, gathered_); }),
      params_(o.num_parameters()),
      x_(kBlockRows * o.rows_.d),
      y_(kBlockRows),
      d_(kBlockRows) {}

template <class T>
void TensorWorker<T>::accumulate_segments(std::span<const RowSet> segments, std::span<RowSums* const> sums) {
  // The segments' rows in order, cut into blocks; a block may hold pieces of several segments.
  std::vector<Piece> pieces;
  std::size_t n = 0;
  for (std::size_t k = 0; k < segments.size(); ++k) {
    for (std::size_t offset = 0; offset < segments[k].size();) {
      const RowSet part = segments[k].sub(offset, kBlockRows - n);
      o_.rows_.gather(part, x_.data() + n * o_.rows_.d, y_.data() + n);
      pieces.push_back({k, n, n + part.size()});
      n += part.size();
      offset += part.size();
      if (n == kBlockRows) {
        run_block(pieces, n, sums);
        pieces.clear();
        n = 0;
      }
    }
  }
  if (n > 0) run_block(pieces, n, sums);
}

template <class T>
void TensorWorker<T>::run_block(std::span<const Piece> pieces, std::size_t n, std::span<RowSums* const> sums) {
  const std::size_t d = o_.rows_.d;
  const T* f = compute_.forward(params_.data(), n, x_.data(), d, acts_);
  if (!gradient_) {
    for (const Piece& p : pieces) {
      double& loss = static_cast<VectorSums&>(*sums[p.segment]).values()[0];
      for (std::size_t i = p.begin; i < p.end; ++i) {
        const double r = static_cast<double>(f[i]) - static_cast<double>(y_[i]);
        if (loss_ == nullptr)
          loss = loss + r * r;
        else
          robust_row(*loss_, r, loss);
      }
    }
    return;
  }
  // The output delta is the residual itself, rounded to T (as MlpCompute's); its square is
  // folded in double in row order. With a robust loss: rho'(r^2) r and rho(r^2), as MlpCompute's.
  std::vector<typename TensorMlpCompute<T>::Piece> folds;
  for (const Piece& p : pieces) {
    auto& s = static_cast<GradientSums<T>&>(*sums[p.segment]);
    for (std::size_t i = p.begin; i < p.end; ++i) {
      const T r = f[i] - y_[i];
      if (loss_ == nullptr) {
        d_[i] = r;
        s.loss += static_cast<double>(r) * static_cast<double>(r);
      } else {
        d_[i] = static_cast<T>(robust_row(*loss_, static_cast<double>(r), s.loss));
      }
    }
    folds.push_back({p.begin, p.end, s.g.data(), s.fresh});
  }
  compute_.backward(n, x_.data(), d, acts_, d_.data(), folds);
  for (const Piece& p : pieces) static_cast<GradientSums<T>&>(*sums[p.segment]).fresh = false;
}

}  // namespace

std::unique_ptr<TrainObjective> make_tensor_mlp_objective(const MlpModel& model, const Dataset& data, int threads,
                                                          Communicator& tensor, const Loss& loss) {
  if (model.precision == Precision::kFloat32)
    return std::make_unique<TensorObjective<float>>(model, data, threads, tensor, loss);
  return std::make_unique<TensorObjective<double>>(model, data, threads, tensor, loss);
}

}  // namespace parafit::detail
