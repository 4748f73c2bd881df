// train/mlp_pipeline_objective.h — training one pipeline stage of an MLP (GPipe, Huang et al. 2019;
// 1F1B as in PipeDream-Flush and DeepSpeed): the stage holds a run of layers (model/mlp_stages.h),
// possibly split across a tensor group (model/mlp_tensor.h); micro-batches flow forward through
// the stages and their gradients back, by nonblocking send/recv between neighbouring stages.
//
// Bits: a micro-batch is every stratum's draws of one engine micro-batch (the strata engine's
// collective path), and each stage folds each stratum's gradient micro-batch after micro-batch, row
// after row, with MlpCompute's operations: the same bits as the whole network trained with
// --accum M on the same micro-batches, for either schedule, with or without recomputation.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/dataset.h"
#include "parafit/loss.h"
#include "parafit/mlp.h"
#include "train/objective.h"

namespace parafit::detail {

// What a stage measured (this rank's), for the summary and the W4 benchmark.
struct PipelineStats {
  double busy_seconds = 0;   // computing (gathers, forward, backward) in gradient flushes
  double flush_seconds = 0;  // wall time of this stage's gradient flushes (the summary takes the longest stage's)
  std::size_t flushes = 0;
  std::size_t peak_activation_bytes = 0;  // most activation memory held at once (inputs included)
};

struct PipelineSetup {
  Communicator* pipe = nullptr;    // the stages, in order (this rank's slice of each)
  Communicator* tensor = nullptr;  // this stage's slices (size 1 without tensor parallelism)
  std::vector<std::size_t> bounds;  // stage layer bounds (balance_stages)
  std::size_t micro_batches = 1;    // M: micro-batches per flush
  bool one_f_one_b = true;          // 1F1B, else GPipe
  bool recompute = false;           // keep only each micro-batch's stage input; recompute the rest
  PipelineStats* stats = nullptr;   // filled in when not null
};

// The objective of stage pipe->rank() (slice tensor->rank()). Its kernels are collective: every
// rank of the pipeline and tensor groups must run the same passes over the same rows. The
// communicators and stats must outlive it. `loss` is in the response's units.
std::unique_ptr<TrainObjective> make_pipeline_mlp_objective(const MlpModel& model, const Dataset& data, int threads,
                                                            const PipelineSetup& setup, const Loss& loss = {});

}  // namespace parafit::detail
