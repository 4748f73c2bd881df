// `parafit train --init-from MODEL.json`: fine-tuning a saved model. The file's weights (and an
// MLP's standardisation) become the starting point; the optimizer state starts fresh.
#pragma once

#include <string>

#include "parafit/communicator.h"
#include "parafit/train.h"

namespace parafit::cli {

// Which of the flags that describe the model were given on the command line: those not given take
// the file's values, those given must match it.
struct ModelFlagsGiven {
  bool x = false, y = false, params = false, activation = false, precision = false;
};

// Loads the model file at `path` on every rank (a collective: a rank that cannot read it stops all,
// exit 1) and sets model.initial. Throws UsageError (exit 2) naming the difference when the file
// holds another kind or shape of model than --model and the given flags ask for.
void apply_init_from(const std::string& path, TrainModelOptions& model, const ModelFlagsGiven& given,
                     Communicator& comm);

}  // namespace parafit::cli
