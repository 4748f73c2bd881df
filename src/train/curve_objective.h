// train/curve_objective.h — training a built-in or formula model (parafit::Model) by its exact
// Jacobian, row block by row block.
#pragma once

#include <span>
#include <vector>

#include "parafit/model.h"
#include "train/objective.h"

namespace parafit::detail {

class CurveObjective final : public TrainObjective {
 public:
  // `inputs[k]` and `y` are this rank's local columns; they must outlive the objective.
  CurveObjective(const Model& model, std::vector<std::span<const double>> inputs, std::span<const double> y);

  std::size_t num_parameters() const override { return model_.num_parameters(); }
  std::unique_ptr<GradientAccumulator> make_accumulator() const override;
  std::unique_ptr<TrainWorker> make_worker() const override;

 private:
  friend class CurveWorker;
  const Model& model_;
  std::vector<std::span<const double>> inputs_;
  std::span<const double> y_;
};

}  // namespace parafit::detail
