// train/training_loop.h — the epochs and steps of mini-batch training, and full-batch L-BFGS, over
// a StrataEngine: schedule, divergence, validation, early stopping, checkpoints, progress.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/optimizer.h"
#include "parafit/train.h"
#include "train/objective.h"
#include "parallel/strata_engine.h"

namespace parafit::detail {

struct LoopSetup {
  const TrainSpec& spec;
  StrataEngine& engine;
  const TrainObjective& objective;
  Communicator& comm;
  const TrainCallback& progress;  // called on rank 0 only
  std::string fingerprint;        // settings a checkpoint must match
};

// Trains theta in place (from the checkpoint when spec.resume is set) and fills the summary.
void run_training_loop(const LoopSetup& setup, Optimizer& optimizer, std::vector<double>& theta,
                       TrainSummary& summary);
void run_lbfgs(const LoopSetup& setup, std::vector<double>& theta, TrainSummary& summary);

}  // namespace parafit::detail
