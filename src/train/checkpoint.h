// train/checkpoint.h — the full state of a training run, written atomically and read back.
//
// Everything a resumed run needs to continue bit for bit: the weights (and the previous step's, the
// last good ones for divergence), the optimizer's moments, the position (epoch, step in epoch —
// the shuffles are derived from (seed, epoch, stratum), so the position is the whole generator
// state), the running epoch loss, early-stopping state and the history. A fingerprint of the
// settings that shape the trajectory must match the resuming run's.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "parafit/train.h"

namespace parafit::detail {

struct TrainState {
  std::vector<double> theta;
  std::vector<double> previous_theta;  // before the last step: the last good weights
  std::vector<std::pair<std::string, std::vector<double>>> optimizer_state;
  std::size_t epoch = 0;          // current epoch, 0-based
  std::size_t step_in_epoch = 0;  // optimizer steps done in the current epoch
  std::size_t global_step = 0;
  double epoch_loss_sum = 0;      // sum of squared errors of this epoch's batches so far (internal units)
  std::size_t epoch_rows = 0;     // rows of this epoch's batches so far
  double reference_loss = std::numeric_limits<double>::quiet_NaN();  // first batch's mean loss
  std::size_t samples = 0;
  std::vector<EpochRecord> history;
  double best_validation = std::numeric_limits<double>::infinity();
  std::size_t best_epoch = 0;
  std::vector<double> best_theta;
  std::size_t epochs_without_improvement = 0;
};

// `fingerprint` is a JSON object text of the settings that must match on resume.
void write_checkpoint(const std::string& path, const std::string& fingerprint, const TrainState& state);
// Throws parafit::Error naming the file and what is wrong: missing, damaged, or a fingerprint that
// differs from `fingerprint` (listing each differing setting).
TrainState read_checkpoint(const std::string& path, const std::string& fingerprint);

}  // namespace parafit::detail
