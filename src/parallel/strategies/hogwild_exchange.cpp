// Hogwild! (Niu et al. 2011): the threads of one rank take optimizer steps on one shared weight
// vector without locks (hogwild_exchange.h).
//
// A step is what synchronous training's step is, taken by one thread alone: the step's draws of
// every stratum folded into that stratum's sums (StrataEngine::fold_stratum), the strata added in
// the fixed tree (StrataTree, one rank: no communication), scaled to the mean gradient, one
// optimizer update. So one thread is the synchronous run, bit for bit (tested). With several, each
// thread steps from a snapshot of weights that the others keep changing.
//
// The shared weights are read and written through std::atomic_ref<double> with relaxed order: a
// plain load, the computation, a plain store — no compare-and-swap, so two threads writing the
// same weight at once may lose one's update, as in Hogwild. Relaxed atomics make those races
// defined behaviour in C++ (no torn doubles, no data race for the compiler or ThreadSanitizer to
// find), and on x86-64 they compile to the ordinary moves. Nothing orders one thread's writes
// against another's reads: a snapshot may mix weights from before and after another step.
//
// The update written is the change the thread's optimizer made to its snapshot,
// θ_j += (new_j − snapshot_j), so that the others' updates since the snapshot are kept; where
// θ_j is still the snapshot's value the thread stores new_j itself, which is the same in real
// arithmetic and keeps one thread's run identical to the synchronous one in floating point.
//
// Optimizer state is per thread: each thread has its own optimizer over all the weights (Adam's
// moments and step count are then over the steps that thread took). A checkpoint holds thread 0's
// state and a resumed run starts every thread from it.
#include "parallel/strategies/hogwild_exchange.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "parafit/error.h"
#include "parallel/strata_tree.h"
#include "parallel/strategies/scale_gradient.h"

namespace parafit::detail {
namespace {

using Clock = std::chrono::steady_clock;
using Shared = std::atomic_ref<double>;
// A std::vector<double>'s elements are aligned enough for atomic_ref, and its accesses never lock.
static_assert(Shared::required_alignment == alignof(double));
static_assert(Shared::is_always_lock_free);

// One thread's tools: its row worker, per-stratum sums and tree buffer, its optimizer, its
// snapshot of the weights and the weights its step computes from it.
struct Worker {
  std::unique_ptr<RowWorker> rows;
  std::vector<std::unique_ptr<RowSums>> sums;  // one per owned stratum, zero between steps
  std::vector<double> local;                   // the strata tree's rows (row 0: the total)
  std::unique_ptr<Optimizer> optimizer;
  std::vector<double> snapshot, next;
  std::vector<std::size_t> scratch;
};

// What one thread did in a chunk.
struct Tally {
  std::size_t steps = 0;
  std::string error;  // the first failure, "" if none
};

class Hogwild final : public HogwildExchange {
 public:
  Hogwild(StrataEngine& engine, const RowKernel& kernel, std::size_t p, const OptimizerFactory& make,
          const HogwildOptions& options)
      : engine_(engine),
        p_(p),
        width_(kernel.width()),
        options_(options),
        tree_(engine.plan(), engine.communicator(), width_) {
    if (engine.communicator().size() != 1) throw std::logic_error("Hogwild runs on the threads of one rank");
    if (width_ != p + 1) throw std::logic_error("Hogwild needs a gradient kernel: [g..., loss]");
    const std::size_t owned = engine.owned_strata();
    for (int t = 0; t < engine.threads(); ++t) {
      auto w = std::make_unique<Worker>();
      w->rows = kernel.make_worker();
      for (std::size_t s = 0; s < owned; ++s) {
        w->sums.push_back(kernel.make_sums());
        w->sums.back()->zero();
      }
      w->local.resize(owned * width_);
      w->optimizer = make(p);
      w->snapshot.resize(p);
      w->next.resize(p);
      workers_.push_back(std::move(w));
    }
    thread_steps_.assign(workers_.size(), 0);
  }

  HogwildReport run(std::span<double> theta, std::size_t first, std::size_t last,
                    std::span<const double> lr) override {
    HogwildReport report;
    report.steps.resize(last - first);
    const int threads = static_cast<int>(std::min(workers_.size(), last - first));
    std::vector<Tally> tallies(workers_.size());
    std::atomic<std::size_t> next_step{first};
    std::atomic<bool> halt{false};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      Tally& tally = tallies[t];
      while (!halt.load(std::memory_order_relaxed)) {
        // The hand-out: whoever is free takes the next step, so a slow thread takes fewer.
        const std::size_t i = next_step.fetch_add(1, std::memory_order_relaxed);
        if (i >= last) break;
        const auto t0 = Clock::now();
        StepReport& r = report.steps[i - first];  // this thread's alone
        try {
          r = take_step(*workers_[t], theta, i, lr[i - first]);
        } catch (const std::exception& e) {
          for (auto& sums : workers_[t]->sums) sums->zero();
          tally.error = e.what();
          halt.store(true, std::memory_order_relaxed);
          break;
        }
        ++tally.steps;
        if (!r.gradient_finite) halt.store(true, std::memory_order_relaxed);
        if (int(t) == options_.slow_thread && options_.slow_factor > 1)
          std::this_thread::sleep_for(std::chrono::duration<double>(
              (options_.slow_factor - 1) * std::chrono::duration<double>(Clock::now() - t0).count()));
      }
    }
    std::string error;
    for (std::size_t t = 0; t < tallies.size(); ++t) {
      thread_steps_[t] += tallies[t].steps;
      if (error.empty()) error = tallies[t].error;
    }
    if (!error.empty()) throw Error(error);
    return report;
  }

  const std::vector<std::size_t>& thread_steps() const override { return thread_steps_; }

  // Thread 0's state: a checkpoint holds one optimizer's.
  OptimizerState state() override { return workers_.front()->optimizer->state(); }
  void set_state(const OptimizerState& state) override {
    for (auto& w : workers_) w->optimizer->set_state(state);
  }
  std::size_t state_values() const override {
    std::size_t values = 0;
    for (const auto& w : workers_)
      for (const auto& [name, v] : w->optimizer->state())
        if (name != "step") values += v.size();
    return values;
  }
  bool sharded() const override { return false; }

 private:
  // Step i of the epoch on one thread, from a snapshot of theta to the change written into it.
  StepReport take_step(Worker& w, std::span<double> theta, std::size_t i, double lr) {
    for (std::size_t j = 0; j < p_; ++j) w.snapshot[j] = Shared(theta[j]).load(std::memory_order_relaxed);
    w.rows->set_parameters(w.snapshot);
    const std::size_t m0 = i * options_.accumulate;
    const std::size_t m1 = std::min(engine_.micro_batches_per_epoch(), m0 + options_.accumulate);
    StepReport r;
    for (std::size_t s = 0; s < w.sums.size(); ++s)
      r.rows += engine_.fold_stratum(s, m0, m1, *w.rows, *w.sums[s], w.scratch);
    // The strata in the synchronous run's tree: the same additions, so the same gradient.
    tree_.reduce_leaves(w.local, 0, width_, [&](std::size_t stratum, std::size_t b, std::size_t e, double* out) {
      w.sums[stratum - tree_.first_owned()]->take_values(b, {out, e - b});
    });
    for (auto& sums : w.sums) sums->zero();
    if (r.rows == 0) return r;
    r.loss = w.local[p_];
    const std::span<double> g(w.local.data(), p_);
    r.gradient_finite = scale_and_check(g, 2.0 / double(r.rows));
    if (!r.gradient_finite) return r;  // the Trainer stops the run: nothing to write
    std::copy(w.snapshot.begin(), w.snapshot.end(), w.next.begin());
    w.optimizer->step(w.next, g, lr);
    for (std::size_t j = 0; j < p_; ++j) {
      const Shared shared(theta[j]);
      const double now = shared.load(std::memory_order_relaxed);
      shared.store(now == w.snapshot[j] ? w.next[j] : now + (w.next[j] - w.snapshot[j]), std::memory_order_relaxed);
    }
    return r;
  }

  StrataEngine& engine_;
  std::size_t p_, width_;
  HogwildOptions options_;
  StrataTree tree_;  // one rank: reduce_leaves is const and keeps its scratch per thread
  std::vector<std::unique_ptr<Worker>> workers_;  // one per thread
  std::vector<std::size_t> thread_steps_;
};

}  // namespace

StepReport HogwildExchange::step(const LocalPass&, std::span<double>, double, double, const StepVerdict&, bool) {
  throw std::logic_error("HogwildExchange::step: Hogwild's threads fold and step together; call run()");
}

std::unique_ptr<HogwildExchange> make_hogwild_exchange(StrataEngine& engine, const RowKernel& gradient,
                                                       std::size_t num_parameters,
                                                       const OptimizerFactory& make_optimizer,
                                                       const HogwildOptions& options) {
  return std::make_unique<Hogwild>(engine, gradient, num_parameters, make_optimizer, options);
}

}  // namespace parafit::detail
