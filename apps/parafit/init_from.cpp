#include "init_from.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <vector>

#include "cli_common.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/formula.h"
#include "parafit/mlp_file.h"
#include "parafit/model_file.h"

namespace parafit::cli {
namespace {

std::string list(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ",")); }

void apply_mlp(const std::string& path, const MlpModel& mlp, TrainModelOptions& model, const ModelFlagsGiven& given) {
  if (!is_mlp_name(model.name))
    throw UsageError(fmt::format("--init-from '{}' holds an MLP ({}), but --model is '{}'", path, mlp.description(),
                                 model.name));
  const std::vector<std::size_t> hidden = parse_mlp_hidden(model.name);
  const std::vector<std::size_t> file_hidden(mlp.widths.begin() + 1, mlp.widths.end() - 1);
  if (hidden != file_hidden)
    throw UsageError(fmt::format("--init-from '{}': the model's hidden layers are mlp:{}, but --model is '{}'", path,
                                 fmt::join(file_hidden, ","), model.name));
  if (given.x && model.x != mlp.inputs)
    throw UsageError(fmt::format("--init-from '{}': the model's inputs are {}, but --x is {}", path, list(mlp.inputs),
                                 list(model.x)));
  model.x = mlp.inputs;
  if (given.y && model.y != mlp.response)
    throw UsageError(fmt::format("--init-from '{}': the model's response is {}, but --y is {}", path, mlp.response,
                                 model.y));
  model.y = mlp.response;
  if (given.activation && model.activation != mlp.activation)
    throw UsageError(fmt::format("--init-from '{}': the model's activation is {}, but --activation is {}", path,
                                 to_string(mlp.activation), to_string(model.activation)));
  model.activation = mlp.activation;
  // The arithmetic may change (the weights are float64 either way): --precision wins when given.
  if (!given.precision) model.precision = mlp.precision;
  model.initial = TrainModelOptions::InitialWeights{mlp.parameters, mlp.input_mean, mlp.input_scale, mlp.y_mean,
                                                    mlp.y_scale};
}

void apply_curve(const std::string& path, const SavedModel& saved, TrainModelOptions& model,
                 const ModelFlagsGiven& given) {
  const std::string name = saved.model->name();
  if (is_mlp_name(model.name))
    throw UsageError(fmt::format("--init-from '{}' holds the curve model '{}', but --model is '{}'", path, name,
                                 model.name));
  if (model.name != name)
    throw UsageError(fmt::format("--init-from '{}' holds the model '{}', but --model is '{}'", path, name, model.name));
  const std::vector<std::string>& names = saved.model->parameter_names();
  if (given.params && model.params != names)
    throw UsageError(fmt::format("--init-from '{}': the model's parameters are {}, but --params is {}", path,
                                 list(names), list(model.params)));
  if (looks_like_formula(name)) model.params = names;
  if (given.x && model.x != saved.inputs)
    throw UsageError(fmt::format("--init-from '{}': the model's inputs are {}, but --x is {}", path, list(saved.inputs),
                                 list(model.x)));
  model.x = saved.inputs;
  // A response computed by a formula ("log(y) ~ ...") comes with the formula; a column is --y.
  const bool column_response = saved.response_columns.size() == 1 && saved.response_columns[0] == saved.response;
  if (column_response) {
    if (given.y && model.y != saved.response)
      throw UsageError(fmt::format("--init-from '{}': the model's response is {}, but --y is {}", path, saved.response,
                                   model.y));
    model.y = saved.response;
  }
  model.initial = TrainModelOptions::InitialWeights{saved.estimates, {}, {}, 0, 1};
}

}  // namespace

void apply_init_from(const std::string& path, TrainModelOptions& model, const ModelFlagsGiven& given,
                     Communicator& comm) {
  std::optional<MlpModel> mlp;
  std::optional<SavedModel> curve;
  std::string error;
  try {
    if (is_mlp_model_file(path))
      mlp = load_mlp_file(path);
    else
      curve = load_model_file(path);
  } catch (const Error& e) {
    error = "--init-from: " + e.marked();
  }
  try {
    agree_or_throw(comm, error);
  } catch (const AgreedError&) {
    throw;
  } catch (const Error& e) {
    throw AgreedError(e.marked());  // alone, agree_or_throw passes the error on as it is: still bad input
  }
  if (mlp)
    apply_mlp(path, *mlp, model, given);
  else
    apply_curve(path, *curve, model, given);
}

}  // namespace parafit::cli
