// parallel/strategies/gradient_exchange.h — the Trainer's strategy: from every worker's local
// gradient contribution for a step to the update every worker applies.
//
// The Trainer (src/train/trainer.cpp) folds a step's micro-batches through the strata engine and
// hands this rank's part of the pass (its strata tree nodes) to a GradientExchange, which combines
// the gradient across ranks, applies the optimizer and leaves every rank holding the same new
// weights. Strategies differ in who holds what and which collectives they make:
//   replicated_exchange.cpp  the synchronous strata tree; every rank gets the whole gradient and
//                            runs the whole optimizer update (its threads split it)
//   zero1_exchange.cpp       ZeRO-1: the gradient is reduce-scattered, each rank keeps the
//                            optimizer state of its slice of the weights and updates that slice,
//                            and the new weights are all-gathered
//   local_sgd_exchange.cpp   local SGD: each rank steps on its own strata's gradient with its own
//                            optimizer, and every H steps the weights are averaged over the ranks
//   hogwild_exchange.cpp     Hogwild: the threads of one rank each take whole steps on shared
//                            weights without locks (its own entry point, hogwild_exchange.h)
// A new strategy (parameter server, local SGD, ...) is a new file here and a case in
// make_gradient_exchange; the Trainer's loop does not change.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "parafit/error.h"
#include "parafit/optimizer.h"
#include "parallel/strata_engine.h"

namespace parafit::detail {

// What a step found, the same bits on every rank.
// A strategy whose workers step apart (local SGD) reports only when they agree: its other steps
// report rows = 0 and do not ask the verdict, and the agreeing step reports every step since the
// last one.
struct StepReport {
  double loss = 0;               // sum of squared residuals over the step's rows, all ranks
  std::size_t rows = 0;          // rows in the step, all ranks
  bool gradient_finite = true;   // every value of the scaled gradient is finite
};

// The Trainer's verdict on a step (its divergence rules): true to keep the update. It may throw
// (an error every rank throws alike).
using StepVerdict = std::function<bool(const StepReport&)>;

// Makes an optimizer over n parameters (one slice, or all of them).
using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(std::size_t n)>;

class GradientExchange {
 public:
  virtual ~GradientExchange() = default;

  // One optimizer step from this rank's part of a gradient pass (StrataEngine::fold_batches with
  // the objective's gradient kernel, whose sums are [gradient..., loss]): combines the gradient
  // over the ranks, multiplies it by `scale` (to the mean gradient of the loss), asks `verdict`,
  // and if it agrees updates `theta` (all parameters, the same on every rank) with learning rate
  // `lr`. theta still holds the step's starting weights while the verdict runs; if it does not
  // agree, theta keeps them (a strategy that must update before the verdict is known may have
  // advanced its optimizer state: the Trainer stops the run then). A worker's failure on any rank
  // is thrown on every rank as one AgreedError. With `agree`, every rank holds the same theta
  // afterwards (the end of an epoch, a checkpoint); the synchronous strategies always do.
  virtual StepReport step(const LocalPass& pass, std::span<double> theta, double scale, double lr,
                          const StepVerdict& verdict, bool agree) = 0;
  // Makes every rank hold the same theta now, without a verdict (a run stopped between agreeing
  // steps). A collective; nothing to do for the synchronous strategies.
  virtual void synchronize(std::span<double> theta) { (void)theta; }
  // Weight averages made so far (local SGD), 0 for the synchronous strategies.
  virtual std::size_t averages() const { return 0; }
  // The run is over on this rank (termination: a Termination value): a strategy with server
  // ranks tells them. After synchronize() or an agreeing step.
  virtual void finish(int termination) { (void)termination; }
  // Every worker has failed with this agreed error: a strategy with server ranks tells them.
  virtual void fail(const Error& error) { (void)error; }
  // The staleness of the weights each step started from (steps behind the newest clock): sum,
  // count and maximum over this rank's steps; all zero for the synchronous strategies.
  struct Staleness {
    double sum = 0;
    std::size_t steps = 0, max = 0;
  };
  virtual Staleness staleness() const { return {}; }

  // The optimizer state of all parameters, as one optimizer over them all would have it (a
  // checkpoint does not depend on the strategy or the number of ranks). A collective when the
  // state is sharded.
  virtual OptimizerState state() = 0;
  // Restores a state() (each rank keeps what it needs). Throws parafit::Error naming the problem.
  virtual void set_state(const OptimizerState& state) = 0;
  // Optimizer state values this rank holds.
  virtual std::size_t state_values() const = 0;
  // Whether the optimizer state is sharded across ranks.
  virtual bool sharded() const = 0;
};

// The replicated strata-tree exchange (replicated_exchange.cpp).
std::unique_ptr<GradientExchange> make_replicated_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                           const OptimizerFactory& make_optimizer);
// ZeRO-1 over the engine's ranks (zero1_exchange.cpp). Every rank needs at least one parameter
// in its slice for the state to be sharded; with more ranks than parameters some slices are empty.
std::unique_ptr<GradientExchange> make_zero1_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                      const OptimizerFactory& make_optimizer);
// The parameter server's workers (ssp_exchange.cpp): the engine's communicator holds the workers,
// ranks [0, W) of `world`; the `servers` ranks after them run SspServer. A worker runs at most
// `staleness` steps ahead of the slowest.
std::unique_ptr<GradientExchange> make_ssp_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                    const OptimizerFactory& make_optimizer, Communicator& world,
                                                    std::size_t servers, std::size_t staleness);
// Worker 0 of a parameter-server run whose workers failed before their first step tells the
// `servers` last ranks of `world` (they are waiting for its hello) the agreed error.
void ssp_start_failed(Communicator& world, std::size_t servers, const Error& error);
// Local SGD over the engine's ranks (local_sgd_exchange.cpp): average every `period` steps;
// `average_moments` averages the optimizer's moments too.
std::unique_ptr<GradientExchange> make_local_sgd_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                          const OptimizerFactory& make_optimizer, std::size_t period,
                                                          bool average_moments);

}  // namespace parafit::detail
