// train/curve_objective.h — training a built-in or formula model (parafit::Model) by its exact
// Jacobian, row block by row block.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "parafit/loss.h"
#include "parafit/model.h"
#include "train/objective.h"

namespace parafit::detail {

// `inputs[k]` and `y` are this rank's local columns; they and the model must outlive the objective.
// `loss` is in the response's units.
std::unique_ptr<TrainObjective> make_curve_objective(const Model& model, std::vector<std::span<const double>> inputs,
                                                     std::span<const double> y, const Loss& loss = {});

}  // namespace parafit::detail
