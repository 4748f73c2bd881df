// parallel/strategies/hogwild_exchange.h — Hogwild! (Niu et al. 2011) on the threads of one rank.
//
// The workers are this rank's threads and they share one weight vector. Each takes whole
// optimizer steps: it draws the next step of the epoch from a shared counter (so a slow thread
// takes fewer), snapshots the shared weights, folds the step's gradient at the snapshot with its
// own row worker, steps its own optimizer and writes the change into the shared weights — without
// locks, through relaxed std::atomic_ref loads and stores (plain moves on x86-64). Updates that
// race may be lost; that is Hogwild. Not reproducible, by design.
//
// It is a GradientExchange for what the Trainer keeps (optimizer state, checkpoints), but its
// steps do not come from a pass folded beforehand: the Trainer calls run() for a chunk of steps
// instead of step().
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "parallel/row_kernel.h"
#include "parallel/strategies/gradient_exchange.h"

namespace parafit::detail {

struct HogwildOptions {
  std::size_t accumulate = 1;  // micro-batches per step (TrainerOptions::accumulate)
  // The straggler of TrainerOptions::debug_slow_rank: this thread sleeps (slow_factor - 1) x its
  // step's compute time after each of its steps; -1: none.
  int slow_thread = -1;
  double slow_factor = 1;
};

// What a chunk of steps found: one report per step of the chunk, in step order. A step not taken
// (the chunk halts after a non-finite gradient) has rows = 0.
struct HogwildReport {
  std::vector<StepReport> steps;
};

class HogwildExchange : public GradientExchange {
 public:
  // Runs steps [first, last) of the current epoch (StrataEngine::start_epoch called) on the
  // threads: step i folds the draws of micro-batches [i * accumulate, (i + 1) * accumulate) (the
  // epoch's last step fewer), as fold_batches would, at the weights its thread snapshots, scales
  // the sum to the mean gradient (2 / rows) and steps with learning rate lr[i - first]. Steps are
  // handed out one at a time to whichever thread asks next; each is taken exactly once. A step
  // whose gradient is not finite writes nothing and halts the chunk (no new steps start). A
  // worker's failure is thrown (parafit::Error) after the chunk. Nothing else may touch theta
  // while it runs.
  virtual HogwildReport run(std::span<double> theta, std::size_t first, std::size_t last,
                            std::span<const double> lr) = 0;
  // Steps each thread has taken (the whole run), by thread number.
  virtual const std::vector<std::size_t>& thread_steps() const = 0;

  // Not Hogwild's: its threads fold and step together, so there is no pass folded beforehand.
  // Throws std::logic_error.
  StepReport step(const LocalPass& pass, std::span<double> theta, double scale, double lr,
                  const StepVerdict& verdict, bool agree) final;
};

// Hogwild over the engine's threads, with the objective's gradient kernel (sums [g..., loss]) and
// one optimizer over all num_parameters weights per thread. The engine must have one rank.
std::unique_ptr<HogwildExchange> make_hogwild_exchange(StrataEngine& engine, const RowKernel& gradient,
                                                       std::size_t num_parameters,
                                                       const OptimizerFactory& make_optimizer,
                                                       const HogwildOptions& options);

}  // namespace parafit::detail
