// parafit/trainer.h — training step by step: Init, Step, EndEpoch, Finish.
//
//   parafit::Trainer trainer(std::move(rows), spec, context);
//   trainer.Init();                                  // layout, model, weights (or the checkpoint)
//   while (trainer.running()) {
//     while (trainer.Step()) { /* look at trainer.progress(); trainer.Stop() to end early */ }
//     if (trainer.running()) trainer.EndEpoch();     // validation, early stopping, checkpoint
//   }
//   parafit::TrainResult result = trainer.Finish();  // final losses, the trained model
//
// train() (train.h) is exactly this loop with a callback. With a mini-batch optimizer a Step is
// one optimizer step (accumulate micro-batches, one exchange of the gradient across workers, one
// update) and an epoch is a pass over the training rows; with L-BFGS a Step is one iteration and
// each iteration counts as an epoch (its history record). Under --sync hogwild a Step is a chunk
// of optimizer steps that the threads take at once (8 per thread, up to the epoch's end and the
// next checkpoint step); progress() then counts every step of the chunk.
//
// Every call is a collective under several ranks: every rank makes the same calls in the same
// order (they take the same decisions: every quantity they decide on is the same bits everywhere).
//
// How workers combine their gradients is the gradient exchange of src/parallel/strategies/
// (synchronous strata tree, replicated or ZeRO-1 sharded); the loop above does not change with it.
#pragma once

#include <memory>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/train.h"

namespace parafit {

class Trainer {
 public:
  // Checks the spec (throws parafit::Error naming the option); nothing else happens until Init.
  Trainer(Dataset local, TrainSpec spec, Context context = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Lays out the rows over the ranks, builds the model, standardises an MLP's data, and takes the
  // starting weights (self-start or --start for curves, seeded initialisation for an MLP) or the
  // checkpoint's state. Throws parafit::Error (an AgreedError on every rank) for bad input.
  void Init();
  // One optimizer step (L-BFGS: one iteration). Returns true if it took one; false when the
  // current epoch has no steps left (call EndEpoch) or the run has stopped (running() is false:
  // diverged, converged, stopped).
  bool Step();
  // Ends the epoch: validation loss, history, early stopping, the end-of-epoch checkpoint.
  // Afterwards running() says whether another epoch follows.
  void EndEpoch();
  // Ends the run early with Termination::kUserStopped (the weights are the current ones); does
  // nothing once the run has ended.
  void Stop();
  // Whether the run goes on.
  bool running() const;
  // Where the run is (after Step: that step; after EndEpoch: the epoch, with its validation loss).
  const TrainProgress& progress() const;
  // The model as it stands on this rank now — its current weights, with a summary of the steps so
  // far — to evaluate or save mid-run. Not a collective: under local SGD, between averages, it is
  // this rank's own weights; under the parameter server, the newest this worker has (a server rank
  // has no model: logic_error).
  TrainResult snapshot() const;
  // The final training (and validation) loss passes, the summary and the trained model. Call once,
  // after the loop.
  TrainResult Finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace parafit
