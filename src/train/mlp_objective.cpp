#include "train/mlp_objective.h"

#include <hwy/cache_control.h>
#include <sys/mman.h>

#include <algorithm>
#include <new>

#include "model/mlp_compute.h"
#include "model/mlp_kernels.h"
#include "model/mlp_shape.h"
#include "parallel/thread_loops.h"

namespace parafit::detail {
namespace {

// Rows gathered at a time: bounds the gather buffers; MlpCompute tiles them further.
constexpr std::size_t kGatherRows = 1024;

// Storage aligned to cache lines: a row of the inputs (16 floats in W3) then spans as few lines as
// it can — a drawn row is a cache miss per line. A buffer of megabytes (the standardised data) is
// aligned to 2 MiB and asked to live on transparent huge pages: batches draw rows at random, and
// with 4 KiB pages nearly every drawn row is also a TLB miss and a page walk (W3's 64 MB of
// inputs, 25 µs of a 120 µs step on an EPYC). Where THP is off the advice is ignored.
template <class T>
struct LineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kLine{64};
  static constexpr std::size_t kHugePage = std::size_t(2) << 20;
  LineAllocator() = default;
  template <class U>
  explicit LineAllocator(const LineAllocator<U>&) {}
  static bool huge(std::size_t n) { return n * sizeof(T) >= 2 * kHugePage; }
  T* allocate(std::size_t n) {
    if (!huge(n)) return static_cast<T*>(::operator new(n * sizeof(T), kLine));
    void* p = ::operator new(n * sizeof(T), std::align_val_t{kHugePage});
#ifdef MADV_HUGEPAGE
    ::madvise(p, n * sizeof(T) / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice: failure is harmless
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    if (huge(n))
      ::operator delete(p, std::align_val_t{kHugePage});
    else
      ::operator delete(p, kLine);
  }
  friend bool operator==(const LineAllocator&, const LineAllocator&) { return true; }
};

// [g..., L]: the gradient in the model's precision, the loss in double. zero() does not clear the
// gradient: `fresh` says it stands for zero, and the next fold starts from +0 instead (MlpCompute's
// grad_is_zero) — the same bits, without a pass over it.
template <class T>
class GradientSums final : public RowSums {
 public:
  explicit GradientSums(std::size_t n) : g(n, T(0)) {}
  void zero() override {
    fresh = true;
    loss = 0;
  }
  void take_values(std::size_t first, std::span<double> out) override {
    const std::size_t n = g.size();
    if (first < n) {
      const std::size_t count = std::min(out.size(), n - first);
      if (fresh) {
        std::fill(out.begin(), out.begin() + std::ptrdiff_t(count), 0.0);
      } else {
        widen_sums<T>(count, g.data() + first, out.data());
        // The engine takes the next block of these sums next (after the other strata's): start
        // loading it from L2 now.
        const std::size_t next_end = std::min(n, first + 2 * count);
        for (std::size_t k = first + count; k < next_end; k += 64 / sizeof(T)) hwy::Prefetch(g.data() + k);
      }
    }
    if (first + out.size() > n) out[n - first] = loss;  // a sum of squares from +0.0: never -0.0
  }
  std::vector<T> g;
  bool fresh = true;  // g stands for zero (its contents are stale)
  double loss = 0;
};

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
class MlpKernel final : public RowKernel {
 public:
  MlpKernel(const MlpObjective<T>& o, bool gradient) : o_(o), gradient_(gradient) {}
  std::size_t width() const override;
  // The forward pass alone (the loss kernel) still costs about a multiply-add per weight.
  std::size_t work_per_row() const override { return o_.num_parameters(); }
  std::unique_ptr<RowSums> make_sums() const override;
  std::unique_ptr<RowWorker> make_worker() const override { return std::make_unique<MlpWorker<T>>(o_, gradient_); }

 private:
  const MlpObjective<T>& o_;
  bool gradient_;
};

template <class T>
class MlpObjective final : public TrainObjective {
 public:
  MlpObjective(const MlpModel& model, const Dataset& data, int threads)
      : shape_(mlp_shape(model)), d_(model.inputs.size()), y_scale_(model.y_scale), gradient_(*this, true),
        loss_(*this, false) {
    const std::size_t n = data.rows();
    x_.resize(n * d_);
    y_.resize(n);
    std::vector<std::span<const double>> cols;
    for (const auto& name : model.inputs) cols.push_back(data.column(name));
    const auto y = data.column(model.response);
    parallel_ranges(threads, n, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        for (std::size_t k = 0; k < d_; ++k)
          x_[i * d_ + k] = static_cast<T>((cols[k][i] - model.input_mean[k]) / model.input_scale[k]);
        y_[i] = static_cast<T>((y[i] - model.y_mean) / model.y_scale);
      }
    });
  }
  std::size_t num_parameters() const override { return shape_.num_parameters(); }
  const RowKernel& gradient() const override { return gradient_; }
  const RowKernel& loss() const override { return loss_; }
  double loss_scale() const override { return y_scale_ * y_scale_; }

  MlpShape shape_;
  std::size_t d_;
  double y_scale_;
  std::vector<T, LineAllocator<T>> x_, y_;  // row-major standardised inputs, standardised response
  MlpKernel<T> gradient_, loss_;
};

template <class T>
std::size_t MlpKernel<T>::width() const {
  return gradient_ ? o_.num_parameters() + 1 : 1;
}

template <class T>
std::unique_ptr<RowSums> MlpKernel<T>::make_sums() const {
  if (gradient_) return std::make_unique<GradientSums<T>>(o_.num_parameters());
  return std::make_unique<VectorSums>(1);
}

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
  const std::size_t d = o_.d_;
  // The rows are drawn at random, each a cache miss or two: ask for all of them first, so the
  // misses overlap instead of coming one copy at a time.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    hwy::Prefetch(o_.x_.data() + rows[i] * d);
    hwy::Prefetch(o_.y_.data() + rows[i]);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const T* src = o_.x_.data() + rows[i] * d;
    std::copy(src, src + d, x_.data() + i * d);
    y_[i] = o_.y_[rows[i]];
  }
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
