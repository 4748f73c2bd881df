// train/mlp_objective.h — training an MLP: this rank's rows standardised once into a row-major
// matrix in the model's precision, gathered per batch and run through MlpCompute.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "parafit/dataset.h"
#include "parafit/loss.h"
#include "parafit/mlp.h"
#include "train/objective.h"

namespace parafit::detail {

// `model` supplies the shape, activation, precision and standardisation (its parameters are not
// used). The local rows of `data` (columns model.inputs and model.response) are copied in. `loss`
// is in the response's units.
std::unique_ptr<TrainObjective> make_mlp_objective(const MlpModel& model, const Dataset& data, int threads,
                                                   const Loss& loss = {});

}  // namespace parafit::detail
