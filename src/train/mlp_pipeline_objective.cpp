#include "train/mlp_pipeline_objective.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <span>

#include "model/mlp_kernels.h"
#include "model/mlp_shape.h"
#include "model/mlp_tensor.h"
#include "train/mlp_rows.h"
#include "train/mlp_tensor_objective.h"

namespace parafit::detail {
namespace {

// Point-to-point tags: a stage's activations to the next, its input gradients to the one before,
// and the forward-only loss pass's blocks. Messages of one tag between two ranks arrive in the
// order sent, and every stage walks the micro-batches in the same order.
constexpr int kForwardTag = 11, kBackwardTag = 12, kLossTag = 13;
// Rows a forward-only (loss) pass sends at a time, and blocks it keeps in flight.
constexpr std::size_t kLossBlockRows = 512;
constexpr std::size_t kLossBlocksInFlight = 2;

using Clock = std::chrono::steady_clock;

template <class T>
std::span<const std::byte> bytes(const std::vector<T>& v, std::size_t n) {
  return std::as_bytes(std::span<const T>(v.data(), n));
}
template <class T>
std::span<std::byte> writable_bytes(std::vector<T>& v, std::size_t n) {
  return std::as_writable_bytes(std::span<T>(v.data(), n));
}

template <class T>
class PipelineObjective;

template <class T>
class PipelineWorker final : public RowWorker {
 public:
  PipelineWorker(const PipelineObjective<T>& o, bool gradient, const Loss* loss);
  void set_parameters(std::span<const double> theta) override {
    narrow_parameters<T>(theta.size(), theta.data(), params_.data());
    compute_.prepare(params_.data());
  }
  void accumulate(const RowSet& rows, RowSums& sums) override {
    RowSums* one = &sums;
    accumulate_segments(std::span<const RowSet>(&rows, 1), std::span<RowSums* const>(&one, 1));
  }
  void accumulate_segments(std::span<const RowSet> segments, std::span<RowSums* const> sums) override {
    const std::vector<RowSet> batch(segments.begin(), segments.end());
    accumulate_micro_batches(std::span<const std::vector<RowSet>>(&batch, 1), sums);
  }
  void accumulate_micro_batches(std::span<const std::vector<RowSet>> batches, std::span<RowSums* const> sums) override;

 private:
  struct Piece {
    std::size_t segment, begin, end;  // rows [begin, end) of the micro-batch, of this segment
  };
  struct Micro {
    std::vector<Piece> pieces;
    std::vector<RowSet> segments;
    std::size_t n = 0;
    std::vector<T> input, y, out, d, dx;  // stage input; response; output being sent (recomputing); dL/d(out); dL/d(input)
    LayerActivations<T> acts;
    Work sent_forward, sent_backward;
  };
  void flush(std::span<const std::vector<RowSet>> batches, std::span<RowSums* const> sums);
  void forward(Micro& mb, std::span<RowSums* const> sums);
  void backward(Micro& mb, std::span<RowSums* const> sums);
  void loss_pass(std::span<const RowSet> segments, std::span<RowSums* const> sums);
  // The last stage's per-unit losses, to every stage (each stage's sums then carry the same loss).
  void share_losses(std::span<RowSums* const> sums);
  double& loss_of(RowSums& sums) const;
  void gather_input(const Micro& mb, std::vector<T>& out) const;
  void note_memory();
  // Recomputing: drops the output copies that have left.
  void release_sent();

  const PipelineObjective<T>& o_;
  bool gradient_;
  const Loss* loss_;  // nullptr: squared error
  std::size_t stage_, stages_;
  std::vector<T> gathered_;
  TensorMlpCompute<T> compute_;
  LayerActivations<T> scratch_;  // recomputed activations
  std::vector<T> params_;
  std::deque<Micro> live_;   // the flush's micro-batches
  std::deque<Micro> spare_;  // finished ones, whose buffers the next flush reuses (no fresh pages)
  double busy_ = 0;
};


template <class T>
class PipelineObjective final : public TrainObjective {
 public:
  PipelineObjective(const MlpModel& model, const Dataset& data, int threads, const PipelineSetup& setup,
                    const Loss& loss)
      : setup_(setup),
        plan_(mlp_shape(model), std::size_t(setup.tensor->size()), std::size_t(setup.tensor->rank()),
              setup.bounds[std::size_t(setup.pipe->rank())], setup.bounds[std::size_t(setup.pipe->rank()) + 1]),
        rows_(model, data, threads),
        y_scale_(model.y_scale),
        row_loss_(loss, model.y_scale),
        gradient_(*this, true, row_loss_.robust()),
        loss_(*this, false, row_loss_.robust()),
        squared_(*this, false, nullptr) {}
  std::size_t num_parameters() const override { return plan_.num_parameters(); }
  const RowKernel& gradient() const override { return gradient_; }
  const RowKernel& loss() const override { return loss_; }
  const RowKernel& squared_error() const override { return squared_; }
  double loss_scale() const override { return y_scale_ * y_scale_; }

  PipelineSetup setup_;
  TensorPlan plan_;
  StandardisedRows<T> rows_;
  double y_scale_;
  MlpLoss row_loss_;
  MlpRowKernel<T, PipelineObjective<T>, PipelineWorker<T>, true> gradient_, loss_, squared_;
};

template <class T>
PipelineWorker<T>::PipelineWorker(const PipelineObjective<T>& o, bool gradient, const Loss* loss)
    : o_(o),
      gradient_(gradient),
      loss_(loss),
      stage_(std::size_t(o.setup_.pipe->rank())),
      stages_(std::size_t(o.setup_.pipe->size())),
      compute_(o.plan_, [this](std::span<T> partial) { sum_over_slices<T>(*o_.setup_.tensor, partial, gathered_); }),
      params_(o.num_parameters()) {}

template <class T>
double& PipelineWorker<T>::loss_of(RowSums& sums) const {
  if (gradient_) return static_cast<GradientSums<T>&>(sums).loss;
  return static_cast<VectorSums&>(sums).values()[0];
}

template <class T>
void PipelineWorker<T>::gather_input(const Micro& mb, std::vector<T>& out) const {
  const std::size_t d = o_.rows_.d;
  out.resize(mb.n * d);
  for (const Piece& p : mb.pieces) o_.rows_.gather_x(mb.segments[p.segment], out.data() + p.begin * d);
}

// Activation memory: what the stage keeps of each micro-batch in flight for its backward pass (its
// input, its layers' activations or, recomputing, its output until it has left), not the
// gradient passing through (one micro-batch's at a time, whatever the schedule). Recomputing, the
// one micro-batch's activations rebuilt for its backward pass count too.
template <class T>
void PipelineWorker<T>::note_memory() {
  if (o_.setup_.stats == nullptr) return;
  std::size_t bytes = scratch_.bytes();
  for (const Micro& mb : live_) bytes += mb.acts.bytes() + (mb.input.size() + mb.out.size()) * sizeof(T);
  o_.setup_.stats->peak_activation_bytes = std::max(o_.setup_.stats->peak_activation_bytes, bytes);
}

template <class T>
void PipelineWorker<T>::release_sent() {
  for (Micro& mb : live_)
    if (!mb.out.empty() && mb.sent_forward.test()) mb.out.clear();
}

template <class T>
void PipelineWorker<T>::forward(Micro& mb, std::span<RowSums* const> sums) {
  release_sent();
  if (mb.n == 0) return;
  Communicator& pipe = *o_.setup_.pipe;
  const std::size_t in = o_.plan_.in_width(), out = o_.plan_.out_width();
  const bool last = stage_ + 1 == stages_;
  if (stage_ == 0) {
    const auto t0 = Clock::now();
    gather_input(mb, mb.input);
    busy_ += std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    mb.input.resize(mb.n * in);
    pipe.irecv(writable_bytes(mb.input, mb.n * in), int(stage_) - 1, kForwardTag).wait();
  }
  const auto t0 = Clock::now();
  // Recomputing, the activations are built in the one scratch set and only the output is kept.
  const T* f = compute_.forward(params_.data(), mb.n, mb.input.data(), in, o_.setup_.recompute ? scratch_ : mb.acts);
  if (last) {
    // The output delta is the residual rounded to T, its square folded in double (MlpCompute's);
    // with a robust loss, rho'(r^2) r and rho(r^2).
    mb.y.resize(mb.n);
    for (const Piece& p : mb.pieces) o_.rows_.gather_y(mb.segments[p.segment], mb.y.data() + p.begin);
    mb.d.resize(mb.n);
    for (const Piece& p : mb.pieces) {
      double& loss = loss_of(*sums[p.segment]);
      for (std::size_t i = p.begin; i < p.end; ++i) {
        const T r = f[i] - mb.y[i];
        if (loss_ == nullptr) {
          mb.d[i] = r;
          loss += static_cast<double>(r) * static_cast<double>(r);
        } else {
          mb.d[i] = static_cast<T>(robust_row(*loss_, static_cast<double>(r), loss));
        }
      }
    }
  } else if (o_.setup_.recompute) {
    mb.out.assign(f, f + mb.n * out);  // the activations go now; the output until it has left
  }
  busy_ += std::chrono::duration<double>(Clock::now() - t0).count();
  if (!last) {
    // Without recomputation the output is sent from the activations the stage keeps anyway.
    const T* sent = o_.setup_.recompute ? mb.out.data() : f;
    mb.sent_forward = pipe.isend(std::as_bytes(std::span<const T>(sent, mb.n * out)), int(stage_) + 1, kForwardTag);
  }
  note_memory();
}

template <class T>
void PipelineWorker<T>::backward(Micro& mb, std::span<RowSums* const> sums) {
  release_sent();
  if (mb.n == 0) return;
  Communicator& pipe = *o_.setup_.pipe;
  const std::size_t in = o_.plan_.in_width(), out = o_.plan_.out_width();
  if (stage_ + 1 < stages_) {
    mb.d.resize(mb.n * out);
    pipe.irecv(writable_bytes(mb.d, mb.n * out), int(stage_) + 1, kBackwardTag).wait();
  }
  const auto t0 = Clock::now();
  LayerActivations<T>* acts = &mb.acts;
  if (o_.setup_.recompute) {
    compute_.forward(params_.data(), mb.n, mb.input.data(), in, scratch_);
    acts = &scratch_;
    note_memory();
  }
  std::vector<typename TensorMlpCompute<T>::Piece> folds;
  for (const Piece& p : mb.pieces) {
    auto& s = static_cast<GradientSums<T>&>(*sums[p.segment]);
    folds.push_back({p.begin, p.end, s.g.data(), s.fresh});
  }
  if (stage_ > 0) mb.dx.resize(mb.n * in);
  compute_.backward(mb.n, mb.input.data(), in, *acts, mb.d.data(), folds, stage_ > 0 ? mb.dx.data() : nullptr);
  for (const Piece& p : mb.pieces) static_cast<GradientSums<T>&>(*sums[p.segment]).fresh = false;
  busy_ += std::chrono::duration<double>(Clock::now() - t0).count();
  if (stage_ > 0) mb.sent_backward = pipe.isend(bytes(mb.dx, mb.n * in), int(stage_) - 1, kBackwardTag);
  // Done with this micro-batch but its outgoing gradient: the next stage has answered, so the
  // activations it was sent have arrived.
  mb.sent_forward.wait();
  mb.acts.clear();
  for (std::vector<T>* v : {&mb.input, &mb.y, &mb.out, &mb.d}) v->clear();
}

template <class T>
void PipelineWorker<T>::flush(std::span<const std::vector<RowSet>> batches, std::span<RowSums* const> sums) {
  const auto start = Clock::now();
  busy_ = 0;
  for (const std::vector<RowSet>& segments : batches) {
    if (spare_.empty()) spare_.emplace_back();
    live_.push_back(std::move(spare_.front()));
    spare_.pop_front();
    Micro& mb = live_.back();
    mb.pieces.clear();
    mb.n = 0;
    mb.segments = segments;
    for (std::size_t k = 0; k < segments.size(); ++k)
      if (!segments[k].empty()) {
        mb.pieces.push_back({k, mb.n, mb.n + segments[k].size()});
        mb.n += segments[k].size();
      }
  }
  const std::size_t m = live_.size();
  if (!o_.setup_.one_f_one_b) {
    for (std::size_t i = 0; i < m; ++i) forward(live_[i], sums);
    for (std::size_t i = 0; i < m; ++i) backward(live_[i], sums);
  } else {
    // 1F1B: stage p runs P - p - 1 forwards ahead, then one forward and one backward in turn, then
    // the backwards left; at most P - p micro-batches in flight (P on the first stage).
    const std::size_t warm = std::min(stages_ - stage_ - 1, m);
    std::size_t f = 0, b = 0;
    for (; f < warm; ++f) forward(live_[f], sums);
    for (; f < m; ++f, ++b) {
      forward(live_[f], sums);
      backward(live_[b], sums);
    }
    for (; b < m; ++b) backward(live_[b], sums);
  }
  for (Micro& mb : live_) mb.sent_backward.wait();
  for (Micro& mb : live_) spare_.push_back(std::move(mb));
  live_.clear();
  if (PipelineStats* stats = o_.setup_.stats) {
    stats->busy_seconds += busy_;
    stats->flush_seconds += std::chrono::duration<double>(Clock::now() - start).count();
    ++stats->flushes;
  }
}

template <class T>
void PipelineWorker<T>::loss_pass(std::span<const RowSet> segments, std::span<RowSums* const> sums) {
  Communicator& pipe = *o_.setup_.pipe;
  const std::size_t in = o_.plan_.in_width(), out = o_.plan_.out_width();
  const bool last = stage_ + 1 == stages_;
  // Blocks of up to kLossBlockRows rows, pieces of several units each, in order.
  std::deque<std::pair<Work, std::vector<T>>> sending;
  Micro mb;
  const auto run = [&] {
    if (mb.n == 0) return;
    if (stage_ == 0) {
      gather_input(mb, mb.input);
    } else {
      mb.input.resize(mb.n * in);
      pipe.irecv(writable_bytes(mb.input, mb.n * in), int(stage_) - 1, kLossTag).wait();
    }
    const T* f = compute_.forward(params_.data(), mb.n, mb.input.data(), in, scratch_);
    if (last) {
      mb.y.resize(mb.n);
      for (const Piece& p : mb.pieces) {
        o_.rows_.gather_y(mb.segments[p.segment], mb.y.data() + p.begin);
        double& loss = loss_of(*sums[p.segment]);
        for (std::size_t i = p.begin; i < p.end; ++i) {
          const double r = static_cast<double>(f[i]) - static_cast<double>(mb.y[i]);
          if (loss_ == nullptr)
            loss = loss + r * r;
          else
            robust_row(*loss_, r, loss);
        }
      }
    } else {
      if (sending.size() == kLossBlocksInFlight) {
        sending.front().first.wait();
        sending.pop_front();
      }
      std::vector<T> block(f, f + mb.n * out);
      Work w = pipe.isend(bytes(block, block.size()), int(stage_) + 1, kLossTag);
      sending.emplace_back(std::move(w), std::move(block));
    }
    mb.pieces.clear();  // the buffers stay for the next block
    mb.n = 0;
  };
  for (std::size_t k = 0; k < segments.size(); ++k)
    for (std::size_t offset = 0; offset < segments[k].size();) {
      const RowSet part = segments[k].sub(offset, kLossBlockRows - mb.n);
      mb.segments.resize(segments.size(), RowSet::range(0, 0));
      mb.segments[k] = part;
      mb.pieces.push_back({k, mb.n, mb.n + part.size()});
      mb.n += part.size();
      offset += part.size();
      if (mb.n == kLossBlockRows) run();
    }
  run();
  for (auto& [work, block] : sending) work.wait();
}

template <class T>
void PipelineWorker<T>::share_losses(std::span<RowSums* const> sums) {
  std::vector<double> losses(sums.size());
  for (std::size_t k = 0; k < sums.size(); ++k) losses[k] = loss_of(*sums[k]);
  o_.setup_.pipe->broadcast(std::span<double>(losses), int(stages_) - 1);
  for (std::size_t k = 0; k < sums.size(); ++k) loss_of(*sums[k]) = losses[k];
}

template <class T>
void PipelineWorker<T>::accumulate_micro_batches(std::span<const std::vector<RowSet>> batches,
                                                 std::span<RowSums* const> sums) {
  if (!gradient_) {
    for (const std::vector<RowSet>& segments : batches) loss_pass(segments, sums);
  } else {
    const std::size_t per_flush = std::max<std::size_t>(1, o_.setup_.micro_batches);
    for (std::size_t first = 0; first < batches.size(); first += per_flush)
      flush(batches.subspan(first, std::min(per_flush, batches.size() - first)), sums);
  }
  share_losses(sums);
}

}  // namespace

std::unique_ptr<TrainObjective> make_pipeline_mlp_objective(const MlpModel& model, const Dataset& data, int threads,
                                                            const PipelineSetup& setup, const Loss& loss) {
  if (model.precision == Precision::kFloat32)
    return std::make_unique<PipelineObjective<float>>(model, data, threads, setup, loss);
  return std::make_unique<PipelineObjective<double>>(model, data, threads, setup, loss);
}

}  // namespace parafit::detail
