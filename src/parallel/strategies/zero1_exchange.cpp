// ZeRO-1 (Rajbhandari et al., 2020, stage 1): the optimizer state is sharded across the ranks. The
// parameters are cut into one contiguous slice per rank; each rank keeps the optimizer state of
// its slice only (about 1/ranks of it) and updates only its slice's weights. A step is
//   1. reduce-scatter: the strata tree's total, each rank getting its slice of the gradient (the
//      last rank also the loss and the failure flag) — StrataTree::exchange_columns;
//   2. the mean gradient of the slice, checked; the optimizer step on the slice (its threads
//      split it: ShardedOptimizer);
//   3. all-gather: every rank's new slice, with the step's flags (finite, loss, failure), so that
//      every rank holds all the new weights and the same verdict.
// The update is element-wise, so each weight takes exactly the same IEEE operations as under the
// replicated exchange: the same bits, for any number of ranks. The verdict is known only after the
// all-gather; a step it rejects has advanced the slices' optimizer state, but the weights are left
// as they were and the Trainer stops the run there (divergence).
#include <fmt/format.h>

#include <algorithm>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/sharded_optimizer.h"
#include "parallel/strategies/gradient_exchange.h"
#include "parallel/strategies/scale_gradient.h"

namespace parafit::detail {
namespace {

// After a rank's slice in the all-gather: whether its gradient slice was finite, the loss (the
// last rank's), the failure flag (the last rank's).
constexpr std::size_t kFlags = 3;

class Zero1Exchange final : public GradientExchange {
 public:
  Zero1Exchange(StrataEngine& engine, std::size_t p, const OptimizerFactory& make)
      : engine_(engine),
        comm_(engine.communicator()),
        p_(p),
        ranks_(std::size_t(comm_.size())),
        me_(std::size_t(comm_.rank())) {
    for (std::size_t r = 0; r <= ranks_; ++r) bounds_.push_back(p * r / ranks_);
    for (std::size_t r = 0; r < ranks_; ++r) {
      const std::size_t slice = bounds_[r + 1] - bounds_[r];
      tree_counts_.push_back(slice + (r + 1 == ranks_ ? 2 : 0));  // the tree's [g..., loss, failed]
      gather_counts_.push_back(slice + kFlags);
    }
    optimizer_ = std::make_unique<ShardedOptimizer>(slice(), engine.threads(), make);
    gathered_.resize(p_ + ranks_ * kFlags);
    send_.resize(slice() + kFlags);
  }

  StepReport step(const LocalPass& pass, std::span<double> theta, double scale, double lr,
                  const StepVerdict& verdict, bool /*agree: always*/) override {
    const std::size_t lo = bounds_[me_], n = slice();
    // 1. This rank's slice of the total gradient (+ loss and failure flag on the last rank).
    std::vector<double> mine = pass.tree->exchange_columns(pass.local, tree_counts_);
    engine_.count_collective(pass.tree->payload_values() * sizeof(double));
    const double loss = me_ + 1 == ranks_ ? mine[n] : 0.0;
    const double failed = me_ + 1 == ranks_ ? mine[n + 1] : 0.0;
    // 2. The mean gradient of the slice, checked, and the slice's weights updated in the buffer the
    // all-gather sends: [new weights (n), finite, loss, failed].
    const bool finite = scale_and_check(std::span<double>(mine.data(), n), scale);
    std::vector<double>& send = send_;
    std::copy(theta.begin() + std::ptrdiff_t(lo), theta.begin() + std::ptrdiff_t(lo + n), send.begin());
    if (failed == 0) optimizer_->step(std::span<double>(send.data(), n), std::span<const double>(mine.data(), n), lr);
    send[n] = finite ? 1.0 : 0.0;
    send[n + 1] = loss;
    send[n + 2] = failed;
    // 3. Every rank's new slice and flags.
    comm_.allgatherv<double>(send, gathered_, gather_counts_);
    engine_.count_collective(send.size() * sizeof(double));
    StepReport report;
    report.rows = pass.rows;
    bool any_failed = false;
    std::size_t at = 0;
    for (std::size_t r = 0; r < ranks_; ++r) {
      const std::size_t len = bounds_[r + 1] - bounds_[r];
      const double* flags = gathered_.data() + at + len;
      report.gradient_finite = report.gradient_finite && flags[0] != 0;
      if (r + 1 == ranks_) {
        report.loss = flags[1];
        any_failed = flags[2] != 0;
      }
      at += len + kFlags;
    }
    if (any_failed) {
      agree_or_throw(comm_, pass.first_error());
      throw Error("a worker failed");  // not reached: some rank reported an error above
    }
    if (!verdict(report)) return report;
    at = 0;
    for (std::size_t r = 0; r < ranks_; ++r) {
      const std::size_t len = bounds_[r + 1] - bounds_[r];
      std::copy(gathered_.begin() + std::ptrdiff_t(at), gathered_.begin() + std::ptrdiff_t(at + len),
                theta.begin() + std::ptrdiff_t(bounds_[r]));
      at += len + kFlags;
    }
    return report;
  }

  // The whole state, as one optimizer over every parameter has it: each moment all-gathered from
  // the slices (a collective; every rank calls it when a checkpoint is written).
  OptimizerState state() override {
    OptimizerState whole = optimizer_->state();
    std::vector<std::size_t> counts;
    for (std::size_t r = 0; r < ranks_; ++r) counts.push_back(bounds_[r + 1] - bounds_[r]);
    for (auto& [name, values] : whole) {
      if (name == "step") continue;
      std::vector<double> all(p_);
      comm_.allgatherv<double>(values, all, counts);
      values = std::move(all);
    }
    return whole;
  }

  void set_state(const OptimizerState& state) override {
    // Sizes are checked against the whole before slicing, so the messages speak of the whole.
    for (const auto& [name, values] : state)
      if (name != "step" && values.size() != p_)
        throw Error(fmt::format("optimizer state '{}' has {} values for {} parameters", name, values.size(), p_));
    OptimizerState mine;
    for (const auto& [name, values] : state) {
      if (name == "step")
        mine.emplace_back(name, values);
      else
        mine.emplace_back(name, std::vector<double>(values.begin() + std::ptrdiff_t(bounds_[me_]),
                                                    values.begin() + std::ptrdiff_t(bounds_[me_ + 1])));
    }
    optimizer_->set_state(mine);
  }

  std::size_t state_values() const override { return optimizer_->state_values(); }
  bool sharded() const override { return true; }

 private:
  std::size_t slice() const { return bounds_[me_ + 1] - bounds_[me_]; }

  StrataEngine& engine_;
  Communicator& comm_;
  std::size_t p_, ranks_, me_;
  std::vector<std::size_t> bounds_;         // ranks + 1 parameter bounds: rank r updates [bounds[r], bounds[r+1])
  std::vector<std::size_t> tree_counts_;    // per rank: its columns of the tree's total
  std::vector<std::size_t> gather_counts_;  // per rank: its slice + kFlags
  std::unique_ptr<ShardedOptimizer> optimizer_;
  std::vector<double> send_, gathered_;  // the all-gather's buffers, reused every step
};

}  // namespace

std::unique_ptr<GradientExchange> make_zero1_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                      const OptimizerFactory& make_optimizer) {
  return std::make_unique<Zero1Exchange>(engine, num_parameters, make_optimizer);
}

}  // namespace parafit::detail
