// train/train_spec.h — what of a run's layout the checkpoint fingerprint records.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parafit/train.h"

namespace parafit::detail {

struct TrainLayout {
  std::vector<std::string> inputs;
  std::string response;
  std::size_t num_parameters = 0;
  std::size_t strata = 0;
  std::size_t rows = 0;
};

// The settings that shape the trajectory, as a JSON object text: a checkpoint resumes only under
// the same ones. (Not the number of workers, nor the gradient exchange: they change no bit.)
std::string fingerprint(const TrainSpec& spec, const TrainLayout& layout);

}  // namespace parafit::detail
