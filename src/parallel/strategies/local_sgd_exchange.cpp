// Local SGD, or periodic model averaging (Lin et al. 2020; PyTorch's PostLocalSGDOptimizer): each
// rank is a worker that takes optimizer steps on its own part of every batch — the rows of its
// strata, their sum taken from its strata tree nodes left to right (StrataTree::local_total) — with
// its own optimizer state, and talks to the others only every H steps, when the weights are
// averaged.
//
// The average is weighted by the rows each rank trained on since the last one, and made of the
// changes since then: θ = θ_anchor + Σ_w n_w (θ_w − θ_anchor) / Σ_w n_w. With H = 1 and plain SGD
// that is θ − lr · 2 Σ_w g_w / N, synchronous SGD's step on the same rows, up to rounding. The sum
// over ranks is a StrataTree over one stratum per rank, so every rank gets the same bits in a
// fixed order (one all-reduce of two nodes on two ranks, an allgatherv otherwise): an MPI
// all-reduce adds in an order of its own choosing and could leave the ranks' weights a rounding
// apart. The result therefore depends on the number of ranks (which rows each steps on), never on
// the threads.
//
// Between averages the ranks do not communicate, so they cannot agree on a verdict: only an
// averaging step reports (its loss and rows are those of every step since the last average, all
// ranks) and asks the verdict, with theta holding the last average; the other steps report
// rows = 0. A worker's failure, or a non-finite gradient, is carried to the next average, where
// every rank learns of it at once.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/sharded_optimizer.h"
#include "parallel/strata_tree.h"
#include "parallel/strategies/gradient_exchange.h"
#include "parallel/strategies/scale_gradient.h"

namespace parafit::detail {
namespace {

// After the weights (and moments) in the averaging exchange: the loss, the rows, a flag for a
// non-finite gradient, a flag for a failed worker.
constexpr std::size_t kTail = 4;

// One stratum per rank: StrataTree then sums one vector per rank in a fixed tree.
StrataPlan one_stratum_per_rank(std::size_t ranks) {
  StrataPlan plan;
  plan.rows = ranks;
  plan.strata = ranks;
  for (std::size_t r = 0; r <= ranks; ++r) plan.bounds.push_back(r);
  return plan;
}

class LocalSgdExchange final : public GradientExchange {
 public:
  LocalSgdExchange(StrataEngine& engine, std::size_t p, const OptimizerFactory& make, std::size_t period,
                   bool average_moments)
      : comm_(engine.communicator()),
        p_(p),
        period_(period),
        average_moments_(average_moments),
        optimizer_(p, engine.threads(), make),
        moments_(average_moments ? optimizer_.state_values() : 0),
        width_(p + moments_ + kTail),
        tree_(one_stratum_per_rank(std::size_t(comm_.size())), comm_, width_, engine.threads()),
        buffer_(width_) {}

  StepReport step(const LocalPass& pass, std::span<double> theta, double scale, double lr,
                  const StepVerdict& verdict, bool agree) override {
    if (anchor_.empty()) anchor_.assign(theta.begin(), theta.end());  // the first step starts agreed
    std::vector<double> g = pass.tree->local_total(pass.local);
    if (g[pass.width - 1] != 0 && !error_) error_ = pass.first_error();
    loss_ = loss_ + g[p_];
    rows_ += pass.local_rows;
    if (!error_ && pass.local_rows > 0) {
      // scale is 2 / (the step's rows, all ranks): this rank's mean gradient is over its own rows.
      const double factor = scale * double(pass.rows) / double(pass.local_rows);
      if (!scale_and_check(std::span<double>(g.data(), p_), factor)) nonfinite_ = true;
      optimizer_.step(theta, std::span<const double>(g.data(), p_), lr);
    }
    ++since_;
    if (since_ < period_ && !agree) return StepReport{0, 0, true};
    return average(theta, &verdict);
  }

  void synchronize(std::span<double> theta) override {
    if (since_ > 0) average(theta, nullptr);
  }

  std::size_t averages() const override { return averages_; }

  // This rank's optimizer state (after an average with moments averaged, every rank's).
  OptimizerState state() override { return optimizer_.state(); }
  void set_state(const OptimizerState& state) override { optimizer_.set_state(state); }
  std::size_t state_values() const override { return optimizer_.state_values(); }
  bool sharded() const override { return false; }

 private:
  // The exchange: averages the weights (and moments), reports the steps since the last average
  // and, given a verdict, asks it.
  StepReport average(std::span<double> theta, const StepVerdict* verdict) {
    const std::size_t ranks = std::size_t(comm_.size());
    const double n = double(rows_);
    for (std::size_t j = 0; j < p_; ++j) buffer_[j] = rows_ > 0 ? n * (theta[j] - anchor_[j]) + 0.0 : 0.0;
    OptimizerState state;
    if (average_moments_) {
      state = optimizer_.state();
      std::size_t at = p_;
      for (const auto& [name, values] : state)
        if (name != "step")
          for (double v : values) buffer_[at++] = rows_ > 0 ? n * v + 0.0 : 0.0;
    }
    double* tail = buffer_.data() + p_ + moments_;
    tail[0] = loss_ + 0.0;
    tail[1] = n;
    tail[2] = nonfinite_ ? 1.0 : 0.0;
    tail[3] = error_ ? 1.0 : 0.0;
    std::vector<double> total = ranks > 1 ? tree_.reduce(buffer_) : buffer_;
    const double* t = total.data() + p_ + moments_;
    if (t[3] != 0) {
      agree_or_throw(comm_, error_.value_or(""));
      throw Error("a worker failed");  // not reached: some rank reported an error above
    }
    const double rows = t[1];
    StepReport report;
    report.loss = t[0];
    report.rows = std::size_t(rows);
    report.gradient_finite = t[2] == 0;
    // The average. One rank keeps its own weights: (n Δ) / n need not be Δ to the last bit.
    std::vector<double> next(theta.begin(), theta.end());
    if (ranks > 1 && rows > 0)
      for (std::size_t j = 0; j < p_; ++j) next[j] = anchor_[j] + total[j] / rows;
    for (double v : next) report.gradient_finite = report.gradient_finite && std::isfinite(v);
    since_ = 0;
    rows_ = 0;
    loss_ = 0;
    nonfinite_ = false;
    ++averages_;
    if (verdict != nullptr) {
      std::copy(anchor_.begin(), anchor_.end(), theta.begin());  // the verdict sees the agreed start
      if (!(*verdict)(report)) return report;
    }
    std::copy(next.begin(), next.end(), theta.begin());
    anchor_ = std::move(next);
    if (average_moments_ && ranks > 1 && rows > 0) {
      std::size_t at = p_;
      for (auto& [name, values] : state)
        if (name != "step")
          for (double& v : values) v = total[at++] / rows;
      optimizer_.set_state(state);
    }
    return report;
  }

  Communicator& comm_;
  std::size_t p_, period_;
  bool average_moments_;
  ShardedOptimizer optimizer_;
  std::size_t moments_;  // moment values in the exchange (0 unless average_moments_)
  std::size_t width_;
  StrataTree tree_;
  std::vector<double> buffer_;
  std::vector<double> anchor_;  // the last average (every rank's the same)
  // Since the last average: steps, this rank's rows and loss, a non-finite gradient, a failure.
  std::size_t since_ = 0, rows_ = 0;
  double loss_ = 0;
  bool nonfinite_ = false;
  std::optional<std::string> error_;
  std::size_t averages_ = 0;
};

}  // namespace

std::unique_ptr<GradientExchange> make_local_sgd_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                          const OptimizerFactory& make_optimizer, std::size_t period,
                                                          bool average_moments) {
  return std::make_unique<LocalSgdExchange>(engine, num_parameters, make_optimizer, period, average_moments);
}

}  // namespace parafit::detail
