// parafit/model_file.h — saving a fitted model, loading it back, and predicting with it.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/fit.h"
#include "parafit/model.h"
#include "parafit/train.h"

namespace parafit {

// A fitted model as stored in a model file (format "parafit-model", version 1; docs/json-schema.md).
struct SavedModel {
  std::shared_ptr<const Model> model;
  std::vector<std::string> inputs;     // input column names used in the fit
  std::string response;                // the response fitted: a column, or a formula's left side
  std::vector<std::string> response_columns;  // columns the response is computed from
  std::vector<double> estimates;       // one per parameter
  std::vector<bool> fixed;             // one per parameter
  Eigen::MatrixXd covariance;          // p x p; NaN where a parameter was not estimated
  double sigma = 0;                    // residual standard error
  double df = 0;                       // residual degrees of freedom
  double confidence_level = 0.95;
};

SavedModel saved_model_from(const FitResult& fit);
// A built-in or formula model trained by `parafit train`: its estimates, without a covariance
// (every entry NaN, so predictions carry no standard errors) and with sigma from the training MSE.
SavedModel saved_model_from(const TrainResult& trained);
std::string serialize_model(const SavedModel& saved);
void save_model_file(const std::string& path, const SavedModel& saved);
// Throws parafit::Error naming the file and what is wrong for a missing, truncated, damaged or
// inconsistent model file.
SavedModel load_model_file(const std::string& path);
SavedModel parse_model(const std::string& text, const std::string& source);

// Which interval predict gives around each fitted value, at which level.
enum class IntervalKind {
  kConfidence,  // of the mean f(x; theta): f +- t se_fit
  kPrediction,  // of a new observation at x: f +- t se_pred, se_pred^2 = se_fit^2 + sigma^2 / w
};

struct PredictOptions {
  IntervalKind interval = IntervalKind::kConfidence;
  double level = 0;                  // in (0, 1); 0: the model's confidence level
  std::span<const double> weights;   // a new observation's weight w per row (> 0); empty: 1
};

struct Predictions {
  std::vector<double> fit;      // f(x_i; theta)
  std::vector<double> se_fit;   // standard error of the fitted mean (delta method: g^T C g, g = df/dtheta)
  std::vector<double> se_pred;  // kPrediction: sqrt(se_fit^2 + sigma^2 / w); empty otherwise
  std::vector<double> lower;    // the interval asked for, Student t with the fit's df
  std::vector<double> upper;
  double level = 0;             // the level used
};

// Predictions for every row of `data` (columns named as the model's inputs). Throws parafit::Error
// "cannot predict at data row N: ..." naming the quantity (fitted value, a derivative, se_fit, the
// interval) when one is not finite: a prediction is never a silent NaN, infinity or 0.
// Throws parafit::Error (usage) for a level outside (0, 1), weights of the wrong length, and a
// weight that is not finite and > 0 (naming its row).
Predictions predict(const SavedModel& saved, const Dataset& data, const Context& context = {},
                    const PredictOptions& options = {});

}  // namespace parafit
