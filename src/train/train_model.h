// train/train_model.h — the model a run trains, built from the spec and this rank's rows: an MLP
// (shape, inputs, standardisation, seeded weights) or a built-in/formula curve (resolved against
// the columns, start values from the spec or the self-start rule), and its objective.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/dataset.h"
#include "parafit/mlp.h"
#include "parafit/train.h"
#include "parallel/strata.h"
#include "parallel/strata_engine.h"
#include "solve/resolve_model.h"
#include "train/objective.h"

namespace parafit::detail {

struct TrainModel {
  bool is_mlp = false;
  MlpModel mlp;                 // is_mlp: shape and standardisation (parameters set at the end)
  ResolvedModel curve;          // otherwise
  std::vector<std::string> inputs;
  std::string response;
  std::vector<std::string> response_columns;
  std::vector<std::string> parameter_names;  // curves
  std::size_t num_parameters = 0;
  std::vector<std::span<const double>> curve_inputs;  // curves: the local input columns
  std::span<const double> curve_y;                    // curves: the local response
};

// Resolves the model against this rank's columns. Throws parafit::Error (this rank's own: the
// caller agrees on it with the other ranks).
TrainModel resolve_train_model(const TrainModelOptions& options, const Dataset& local);

// An MLP's standardisation (mean and standard deviation of each input and of the response over the
// training rows, folded per stratum and combined by the strata tree: the same bits for any layout).
// A collective.
void standardise(MlpModel& mlp, const Dataset& local, const StrataPlan& plan, Communicator& comm,
                 const StrataRows& rows);

// Fine-tuning: the standardisation the initial weights were trained in. Throws AgreedError if its
// sizes do not fit the model.
void keep_standardisation(MlpModel& mlp, const TrainModelOptions::InitialWeights& initial);

// The starting weights: the initial weights when given (AgreedError unless one per parameter); seeded initialisation for an MLP; for a curve, the spec's start values
// and the self-start rule (on a global sample, the same on every rank) for the others. A
// collective; throws AgreedError.
std::vector<double> starting_weights(const TrainModel& model, const TrainSpec& spec, Communicator& comm);

// The objective over this rank's rows (`local` must outlive it).
std::unique_ptr<TrainObjective> make_objective(const TrainModel& model, const Dataset& local, int threads,
                                               const Loss& loss);

}  // namespace parafit::detail
