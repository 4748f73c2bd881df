// train/mlp_sums.h — what the MLP objectives (whole and tensor-parallel) share: storage for the
// standardised rows, and a stratum's gradient sums in the model's precision.
#pragma once

#include <hwy/cache_control.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "loss/row_loss.h"
#include "model/mlp_kernels.h"
#include "parafit/dataset.h"
#include "parafit/mlp.h"
#include "parallel/row_kernel.h"
#include "parallel/thread_loops.h"

namespace parafit::detail {

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

// The MLP objectives' kernels over an objective's rows: the gradient kernel (gradient: sums
// [g..., L] in GradientSums) or a loss kernel ([L]), with a robust loss (`loss`, in the
// standardised response's units: loss/row_loss.h) or squared error (nullptr); workers are
// Worker(objective, gradient, loss). A collective kernel's workers exchange with other ranks as
// they fold (tensor slices, pipeline stages: RowKernel::collective).
template <class T, class Objective, class Worker, bool kCollective>
class MlpRowKernel final : public RowKernel {
 public:
  MlpRowKernel(const Objective& o, bool gradient, const Loss* loss) : o_(o), gradient_(gradient), loss_(loss) {}
  std::size_t width() const override { return gradient_ ? o_.num_parameters() + 1 : 1; }
  // The forward pass alone (the loss kernel) still costs about a multiply-add per weight.
  std::size_t work_per_row() const override { return o_.num_parameters(); }
  bool collective() const override { return kCollective; }
  std::unique_ptr<RowSums> make_sums() const override {
    if (gradient_) return std::make_unique<GradientSums<T>>(o_.num_parameters());
    return std::make_unique<VectorSums>(1);
  }
  std::unique_ptr<RowWorker> make_worker() const override { return std::make_unique<Worker>(o_, gradient_, loss_); }

 private:
  const Objective& o_;
  bool gradient_;
  const Loss* loss_;
};

// An MLP objective's loss in its standardised units, and the pointer its kernels take (nullptr for
// squared error, whose folds stay the plain ones).
struct MlpLoss {
  MlpLoss(const Loss& loss, double y_scale) : standardised(standardised_loss(loss, y_scale)) {}
  const Loss* robust() const { return standardised.squared() ? nullptr : &standardised; }
  Loss standardised;
};

// This rank's rows, standardised once into a row-major matrix in the model's precision.
template <class T>
struct StandardisedRows {
  // `model` supplies the inputs, response and standardisation; the local rows of `data` are copied.
  StandardisedRows(const MlpModel& model, const Dataset& data, int threads) : d(model.inputs.size()) {
    const std::size_t n = data.rows();
    x.resize(n * d);
    y.resize(n);
    std::vector<std::span<const double>> cols;
    for (const auto& name : model.inputs) cols.push_back(data.column(name));
    const auto response = data.column(model.response);
    parallel_ranges(threads, n, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        for (std::size_t k = 0; k < d; ++k)
          x[i * d + k] = static_cast<T>((cols[k][i] - model.input_mean[k]) / model.input_scale[k]);
        y[i] = static_cast<T>((response[i] - model.y_mean) / model.y_scale);
      }
    });
  }

  // Copies `rows` in order into x_out (rows x d) and y_out.
  void gather(const RowSet& rows, T* x_out, T* y_out) const {
    // The rows are drawn at random, each a cache miss or two: ask for all of them first, so the
    // misses overlap instead of coming one copy at a time.
    for (std::size_t i = 0; i < rows.size(); ++i) {
      hwy::Prefetch(x.data() + rows[i] * d);
      hwy::Prefetch(y.data() + rows[i]);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const T* src = x.data() + rows[i] * d;
      std::copy(src, src + d, x_out + i * d);
      y_out[i] = y[rows[i]];
    }
  }

  // The inputs alone, or the response alone (a pipeline's first and last stages).
  void gather_x(const RowSet& rows, T* x_out) const {
    for (std::size_t i = 0; i < rows.size(); ++i) hwy::Prefetch(x.data() + rows[i] * d);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const T* src = x.data() + rows[i] * d;
      std::copy(src, src + d, x_out + i * d);
    }
  }
  void gather_y(const RowSet& rows, T* y_out) const {
    for (std::size_t i = 0; i < rows.size(); ++i) y_out[i] = y[rows[i]];
  }

  std::size_t d;
  std::vector<T, LineAllocator<T>> x, y;  // row-major standardised inputs, standardised response
};

}  // namespace parafit::detail
