#include "train/train_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/formula.h"
#include "train/curve_objective.h"
#include "train/mlp_init.h"
#include "train/mlp_objective.h"

namespace parafit::detail {
namespace {

constexpr std::size_t kSelfStartRows = 4096;  // as fit(): an evenly spread global sample


}  // namespace

TrainModel resolve_train_model(const TrainModelOptions& o, const Dataset& local) {
  TrainModel m;
  m.is_mlp = is_mlp_name(o.name);
  if (m.is_mlp) {
    const std::vector<std::size_t> hidden = parse_mlp_hidden(o.name);
    local.column(o.y);  // throws naming the columns that exist
    std::vector<std::string> inputs = o.x;
    if (inputs.empty())
      for (const auto& name : local.names())
        if (name != o.y) inputs.push_back(name);
    if (inputs.empty()) throw Error(fmt::format("no input columns: the data has only the response '{}'", o.y));
    for (const auto& name : inputs) {
      local.column(name);
      if (name == o.y) throw Error(fmt::format("{}: '{}' is the response ({})", option_name("model.x"), name, option_name("model.y")));
    }
    m.mlp.inputs = inputs;
    m.mlp.response = o.y;
    m.mlp.widths = {inputs.size()};
    m.mlp.widths.insert(m.mlp.widths.end(), hidden.begin(), hidden.end());
    m.mlp.widths.push_back(1);
    m.mlp.activation = o.activation;
    m.mlp.precision = o.precision;
    m.inputs = inputs;
    m.response = o.y;
    m.response_columns = {o.y};
    m.num_parameters = m.mlp.num_parameters();
    return m;
  }
  m.curve = resolve_model(local, o.name, o.x, o.y, o.params);
  m.inputs = m.curve.inputs;
  m.response = m.curve.response;
  m.response_columns = m.curve.response_columns;
  m.num_parameters = m.curve.model->num_parameters();
  m.parameter_names = m.curve.model->parameter_names();
  for (const auto& name : m.curve.inputs) m.curve_inputs.push_back(local.column(name));
  m.curve_y = m.curve.transformed_y.empty() ? local.column(o.y) : std::span<const double>(m.curve.transformed_y);
  return m;
}

void standardise(MlpModel& mlp, const Dataset& data, const StrataPlan& plan, Communicator& comm,
                 const StrataRows& rows) {
  const std::size_t d = mlp.inputs.size();
  std::vector<std::span<const double>> cols;
  for (const auto& name : mlp.inputs) cols.push_back(data.column(name));
  cols.push_back(data.column(mlp.response));
  const std::size_t width = d + 1;
  StrataTree tree(plan, comm, width);
  std::size_t n = 0;
  for (std::size_t c : rows.train_counts) n += c;
  auto pass = [&](const std::vector<double>* mean) {
    std::vector<double> local(rows.train.size() * width, 0.0);
    for (std::size_t s = 0; s < rows.train.size(); ++s) {
      double* acc = local.data() + s * width;
      for (std::size_t i : rows.train[s])
        for (std::size_t k = 0; k < width; ++k) {
          const double v = mean ? cols[k][i] - (*mean)[k] : cols[k][i];
          acc[k] = acc[k] + (mean ? v * v : v);
        }
    }
    return tree.reduce(local);
  };
  std::vector<double> mean = pass(nullptr);
  for (double& m : mean) m = m / double(n);
  std::vector<double> var = pass(&mean);
  auto scale_of = [&](std::size_t k) {
    const double sd = std::sqrt(var[k] / double(n));
    // A constant column carries no information; scale 1 keeps it at 0 after centring.
    return sd > 0 && std::isfinite(sd) ? sd : 1.0;
  };
  mlp.input_mean.assign(mean.begin(), mean.begin() + std::ptrdiff_t(d));
  mlp.input_scale.clear();
  for (std::size_t k = 0; k < d; ++k) mlp.input_scale.push_back(scale_of(k));
  mlp.y_mean = mean[d];
  mlp.y_scale = scale_of(d);
}

void keep_standardisation(MlpModel& mlp, const TrainModelOptions::InitialWeights& initial) {
  const std::size_t d = mlp.inputs.size();
  if (initial.input_mean.size() != d || initial.input_scale.size() != d)
    throw AgreedError(fmt::format("{}: the standardisation is for {} inputs, the model has {}",
                                  option_name("model.initial"), initial.input_mean.size(), d));
  mlp.input_mean = initial.input_mean;
  mlp.input_scale = initial.input_scale;
  mlp.y_mean = initial.y_mean;
  mlp.y_scale = initial.y_scale;
}

std::vector<double> starting_weights(const TrainModel& m, const TrainSpec& spec, Communicator& comm) {
  if (spec.model.initial) {
    const std::vector<double>& w = spec.model.initial->parameters;
    if (w.size() != m.num_parameters)
      throw AgreedError(fmt::format("{}: {} weights for a model with {} parameters", option_name("model.initial"),
                                    w.size(), m.num_parameters));
    for (double v : w)
      if (!std::isfinite(v)) throw AgreedError(fmt::format("{}: a weight is not finite", option_name("model.initial")));
    return w;
  }
  if (m.is_mlp) return init_mlp_weights(m.mlp.widths, m.mlp.activation, spec.trainer.seed);
  const Model& model = *m.curve.model;
  const std::size_t p = model.num_parameters();
  std::vector<double> theta0(p, 0.0);
  std::vector<bool> given(p, false);
  // The same names, sample and rule on every rank: these errors are everyone's.
  try {
    for (const auto& [name, value] : spec.model.start) {
      const std::size_t j = parameter_index(model, name, option_name("model.start").c_str());
      if (given[j]) throw usage_error(fmt::format("{}: parameter '{}' given twice", option_name("model.start"), name));
      given[j] = true;
      theta0[j] = value;
    }
    std::vector<std::string> missing;
    for (std::size_t j = 0; j < p; ++j)
      if (!given[j]) missing.push_back(model.parameter_names()[j]);
    if (!missing.empty()) {
      if (looks_like_formula(spec.model.name))
        throw usage_error(fmt::format("formula models have no self-start rule: give {} for {}", option_name("model.start"),
                                fmt::join(missing, ", ")));
      std::vector<std::span<const double>> columns = m.curve_inputs;
      columns.push_back(m.curve_y);
      const auto sample = global_sample(columns, comm, kSelfStartRows);
      const std::vector<std::span<const double>> sx(sample.begin(), sample.end() - 1);
      const std::vector<double> auto_start = model.initial_values(sx, sample.back());
      for (std::size_t j = 0; j < p; ++j)
        if (!given[j]) theta0[j] = auto_start[j];
    }
  } catch (const AgreedError&) {
    throw;
  } catch (const Error& e) {
    throw AgreedError(e.marked(), e.kind());
  }
  return theta0;
}

std::unique_ptr<TrainObjective> make_objective(const TrainModel& m, const Dataset& local, int threads,
                                               const Loss& loss) {
  if (m.is_mlp) return make_mlp_objective(m.mlp, local, threads, loss);
  return make_curve_objective(*m.curve.model, m.curve_inputs, m.curve_y, loss);
}

}  // namespace parafit::detail
