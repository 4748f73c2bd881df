// train() — from a rank's rows and a TrainSpec to trained weights: layout, model, standardisation,
// initial weights, then the training loop (training_loop.cpp) or L-BFGS.
#include "parafit/train.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/formula.h"
#include "solve/resolve_model.h"
#include "train/curve_objective.h"
#include "train/mlp_init.h"
#include "train/mlp_objective.h"
#include "parallel/sharded_optimizer.h"
#include "parallel/strata_engine.h"
#include "train/training_loop.h"

namespace parafit {
namespace {

using detail::StrataPlan;
constexpr std::size_t kSelfStartRows = 4096;  // as fit(): an evenly spread global sample

bool is_step_optimizer(const std::string& name) { return name == "sgd" || name == "adam" || name == "adamw"; }

// Mean and standard deviation of each input and of the response over the training rows, folded
// per stratum in row order and combined by the strata tree: the same bits for any layout.
void standardise(MlpModel& mlp, const Dataset& data, const StrataPlan& plan, Communicator& comm,
                 const detail::StrataRows& rows) {
  const std::size_t d = mlp.inputs.size();
  std::vector<std::span<const double>> cols;
  for (const auto& name : mlp.inputs) cols.push_back(data.column(name));
  cols.push_back(data.column(mlp.response));
  const std::size_t width = d + 1;
  detail::StrataTree reducer(plan, comm, width);
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
    return reducer.reduce(local);
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

// The settings that shape the trajectory: a checkpoint resumes only under the same ones.
std::string fingerprint(const TrainSpec& spec, const TrainResult& r, const StrataPlan& plan) {
  nlohmann::ordered_json j;
  j["model"] = spec.model;
  j["inputs"] = r.inputs;
  j["response"] = r.response;
  j["parameters"] = r.num_parameters;
  if (is_mlp_name(spec.model)) {
    j["activation"] = to_string(spec.activation);
    j["precision"] = to_string(spec.precision);
  }
  j["optimizer"] = spec.optimizer;
  j["learning_rate"] = spec.learning_rate;
  if (spec.optimizer == "sgd") {
    j["momentum"] = spec.sgd.momentum;
    j["nesterov"] = spec.sgd.nesterov;
    j["dampening"] = spec.sgd.dampening;
    j["weight_decay"] = spec.sgd.weight_decay;
  } else {
    j["beta1"] = spec.adam.beta1;
    j["beta2"] = spec.adam.beta2;
    j["epsilon"] = spec.adam.epsilon;
    j["weight_decay"] = spec.adam.weight_decay.value_or(spec.optimizer == "adamw" ? kAdamWDefaultWeightDecay : 0.0);
  }
  j["schedule"] = spec.schedule.describe();
  j["batch"] = spec.batch;
  j["accumulate"] = spec.accumulate;
  j["epochs"] = spec.epochs;
  j["strata"] = plan.strata;
  j["rows"] = plan.rows;
  j["validation_fraction"] = spec.validation_fraction;
  j["early_stop"] = spec.early_stop;
  j["seed"] = spec.seed;
  j["divergence_factor"] = spec.divergence_factor;
  return j.dump();
}

// The optimizer of the spec, its update spread over the threads (ShardedOptimizer: the same bits).
std::unique_ptr<Optimizer> make_optimizer(const TrainSpec& spec, std::size_t p, int threads) {
  return std::make_unique<detail::ShardedOptimizer>(p, threads, [&](std::size_t n) {
    if (spec.optimizer == "sgd") return make_sgd(n, spec.sgd);
    if (spec.optimizer == "adam") return make_adam(n, spec.adam);
    return make_adamw(n, spec.adam);
  });
}

}  // namespace

const char* to_string(TrainTermination t) {
  switch (t) {
    case TrainTermination::kCompleted: return "completed";
    case TrainTermination::kEarlyStopped: return "early stopped";
    case TrainTermination::kDiverged: return "diverged";
    case TrainTermination::kNotConverged: return "not converged";
    case TrainTermination::kInterrupted: return "interrupted";
  }
  return "?";
}

bool TrainSummary::IsSolutionUsable() const {
  return termination == TrainTermination::kCompleted || termination == TrainTermination::kEarlyStopped;
}

std::string TrainSummary::BriefReport() const {
  return fmt::format("{}: {} epoch(s), {} step(s), final training MSE {:.6g}{}", to_string(termination), epochs,
                     steps, final_train_mse,
                     std::isnan(final_validation_mse) ? std::string()
                                                      : fmt::format(", validation MSE {:.6g}", final_validation_mse));
}

std::string TrainSummary::FullReport() const {
  std::string out = fmt::format("Termination:        {}\n", to_string(termination));
  if (!message.empty()) out += fmt::format("                    {}\n", message);
  out += fmt::format("Epochs, steps:      {}, {}\n", epochs, steps);
  out += fmt::format("Rows:               {} training, {} validation\n", train_rows, validation_rows);
  out += fmt::format("Samples/s:          {:.0f} ({} samples in {:.3f} s)\n", samples_per_second, samples, seconds);
  out += fmt::format("Final training MSE: {:.6g}\n", final_train_mse);
  if (!std::isnan(final_validation_mse)) out += fmt::format("Validation MSE:     {:.6g}\n", final_validation_mse);
  if (best_epoch > 0) out += fmt::format("Best epoch:         {}\n", best_epoch);
  if (!optimizer_report.empty()) out += optimizer_report;
  return out;
}

void validate(const TrainSpec& spec) {
  if (spec.model.empty()) throw Error("--model: no model given");
  if (spec.optimizer != "lbfgs" && !is_step_optimizer(spec.optimizer))
    throw Error(fmt::format("--optimizer: unknown optimizer '{}' (use sgd, adam, adamw or lbfgs)", spec.optimizer));
  std::string why;
  if (spec.optimizer == "sgd" && !spec.sgd.IsValid(&why)) throw Error(fmt::format("sgd: {}", why));
  if ((spec.optimizer == "adam" || spec.optimizer == "adamw") && !spec.adam.IsValid(&why))
    throw Error(fmt::format("{}: {}", spec.optimizer, why));
  if (spec.optimizer == "lbfgs" && !spec.lbfgs.IsValid(&why)) throw Error(fmt::format("lbfgs: {}", why));
  if (!spec.schedule.IsValid(&why)) throw Error(fmt::format("--schedule: {}", why));
  if (!(spec.learning_rate > 0) || !std::isfinite(spec.learning_rate))
    throw Error(fmt::format("--lr: the learning rate must be a finite number > 0, not {}", spec.learning_rate));
  if (spec.batch == 0) throw Error("--batch: must be at least 1");
  if (spec.epochs == 0) throw Error("--epochs: must be at least 1");
  if (spec.accumulate == 0) throw Error("--accum: must be at least 1");
  if (spec.strata == 0) throw Error("--strata: must be at least 1");
  if (!(spec.validation_fraction >= 0 && spec.validation_fraction < 1))
    throw Error(fmt::format("--val-split: must be in [0, 1), not {}", spec.validation_fraction));
  if (spec.early_stop > 0 && spec.validation_fraction == 0)
    throw Error("--early-stop needs a validation split (--val-split F)");
  if (!(spec.divergence_factor > 1)) throw Error("divergence factor must be > 1");
  if (spec.optimizer == "lbfgs" && (!spec.checkpoint.empty() || !spec.resume.empty()))
    throw Error("--checkpoint and --resume are for the mini-batch optimizers (sgd, adam, adamw), not lbfgs");
  if (spec.optimizer == "lbfgs" && spec.accumulate != 1) throw Error("--accum is for the mini-batch optimizers, not lbfgs");
  if (spec.checkpoint_every > 0 && spec.checkpoint.empty()) throw Error("--checkpoint-every needs --checkpoint FILE");
  if (!is_mlp_name(spec.model) && spec.precision != Precision::kFloat32)
    throw Error("--precision is for MLP models; built-in and formula models train in float64");
}

TrainResult train(Dataset local, const TrainSpec& spec, const Context& context, const TrainCallback& progress) {
  // Errors that every rank meets alike are AgreedErrors: a program under mpirun reports them once.
  try {
    validate(spec);
  } catch (const Error& e) {
    throw AgreedError(e.what());
  }
  LocalCommunicator alone;
  Communicator& comm = context.communicator != nullptr ? *context.communicator : alone;
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto me = static_cast<std::size_t>(comm.rank());
  const int threads = context.resolved_threads();
  const bool is_mlp = is_mlp_name(spec.model);

  // Layout: rank r holds whole strata (rows move between neighbouring ranks).
  const RowLayout layout = row_layout(comm, local.rows());
  if (layout.total == 0) throw AgreedError("no data rows");
  const StrataPlan plan = detail::plan_strata(layout.total, spec.strata);
  if (spec.batch < plan.strata)
    throw AgreedError(fmt::format("--batch {} is smaller than the {} strata every batch draws from; use a larger "
                            "batch or fewer --strata",
                            spec.batch, plan.strata));
  const std::vector<std::size_t> bounds = plan.rank_bounds(ranks);
  redistribute_rows(local, comm, bounds);
  const std::size_t first_row = bounds[me];

  TrainResult result;
  result.spec = spec;
  MlpModel mlp;
  detail::ResolvedModel curve;
  std::vector<double> theta0;
  std::unique_ptr<detail::TrainObjective> objective;
  std::string local_error;
  try {
    if (is_mlp) {
      const std::vector<std::size_t> hidden = parse_mlp_hidden(spec.model);
      local.column(spec.y);  // throws naming the columns that exist
      std::vector<std::string> inputs = spec.x;
      if (inputs.empty())
        for (const auto& name : local.names())
          if (name != spec.y) inputs.push_back(name);
      if (inputs.empty()) throw Error(fmt::format("no input columns: the data has only the response '{}'", spec.y));
      for (const auto& name : inputs) {
        local.column(name);
        if (name == spec.y) throw Error(fmt::format("--x: '{}' is the response (--y)", name));
      }
      mlp.inputs = inputs;
      mlp.response = spec.y;
      mlp.widths = {inputs.size()};
      mlp.widths.insert(mlp.widths.end(), hidden.begin(), hidden.end());
      mlp.widths.push_back(1);
      mlp.activation = spec.activation;
      mlp.precision = spec.precision;
      result.inputs = inputs;
      result.response = spec.y;
      result.response_columns = {spec.y};
      result.num_parameters = mlp.num_parameters();
    } else {
      curve = detail::resolve_model(local, spec.model, spec.x, spec.y, spec.params);
      result.inputs = curve.inputs;
      result.response = curve.response;
      result.response_columns = curve.response_columns;
      result.num_parameters = curve.model->num_parameters();
      result.parameter_names = curve.model->parameter_names();
    }
  } catch (const Error& e) {
    local_error = e.what();
  }
  agree_or_throw(comm, local_error);

  detail::StrataRows rows = detail::split_strata(plan, comm, first_row, local.rows(), spec.seed, spec.validation_fraction);
  std::size_t train_total = 0;
  for (std::size_t c : rows.train_counts) train_total += c;
  if (train_total == 0) throw AgreedError("no training rows left after the validation split");

  std::span<const double> y;
  std::vector<std::span<const double>> inputs;
  if (is_mlp) {
    standardise(mlp, local, plan, comm, rows);
    theta0 = detail::init_mlp_weights(mlp.widths, mlp.activation, spec.seed);
    objective = detail::make_mlp_objective(mlp, local, threads);
  } else {
    const Model& model = *curve.model;
    for (const auto& name : curve.inputs) inputs.push_back(local.column(name));
    y = curve.transformed_y.empty() ? local.column(spec.y) : std::span<const double>(curve.transformed_y);
    const std::size_t p = model.num_parameters();
    theta0.assign(p, 0.0);
    std::vector<bool> given(p, false);
    // The same names, sample and rule on every rank: these errors are everyone's.
    try {
      for (const auto& [name, value] : spec.start) {
        const std::size_t j = detail::parameter_index(model, name, "--start");
        if (given[j]) throw Error(fmt::format("--start: parameter '{}' given twice", name));
        given[j] = true;
        theta0[j] = value;
      }
      std::vector<std::string> missing;
      for (std::size_t j = 0; j < p; ++j)
        if (!given[j]) missing.push_back(model.parameter_names()[j]);
      if (!missing.empty()) {
        if (looks_like_formula(spec.model))
          throw Error(fmt::format("formula models have no self-start rule: give --start for {}", fmt::join(missing, ", ")));
        std::vector<std::span<const double>> columns = inputs;
        columns.push_back(y);
        const auto sample = global_sample(columns, comm, kSelfStartRows);
        const std::vector<std::span<const double>> sx(sample.begin(), sample.end() - 1);
        const std::vector<double> auto_start = model.initial_values(sx, sample.back());
        for (std::size_t j = 0; j < p; ++j)
          if (!given[j]) theta0[j] = auto_start[j];
      }
    } catch (const AgreedError&) {
      throw;
    } catch (const Error& e) {
      throw AgreedError(e.what());
    }
    objective = detail::make_curve_objective(model, inputs, y);
  }

  detail::StrataEngine engine(plan, std::move(rows), comm, threads, spec.batch, spec.seed);
  result.summary.strata = plan.strata;
  detail::LoopSetup setup{spec, engine, *objective, comm, progress, fingerprint(spec, result, plan)};
  if (spec.optimizer == "lbfgs") {
    detail::run_lbfgs(setup, theta0, result.summary);
  } else {
    auto optimizer = make_optimizer(spec, theta0.size(), threads);
    detail::run_training_loop(setup, *optimizer, theta0, result.summary);
  }
  if (is_mlp) {
    mlp.parameters = theta0;
    result.mlp = std::make_shared<const MlpModel>(std::move(mlp));
  } else {
    result.curve = curve.model;
    result.parameters = theta0;
  }
  return result;
}

}  // namespace parafit
