// TrainSpec: the options' checks (IsValid, validate) and the fingerprint a checkpoint must match.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "parafit/error.h"
#include "parafit/train.h"
#include "train/train_spec.h"

namespace parafit {
namespace {

bool fail(std::string* why, const std::string& text) {
  if (why != nullptr) *why = text;
  return false;
}

}  // namespace

bool TrainModelOptions::IsValid(std::string* why) const {
  if (name.empty()) return fail(why, fmt::format("{}: no model given", option_name("model.name")));
  if (!is_mlp_name(name) && precision != Precision::kFloat32)
    return fail(why, fmt::format("{} is for MLP models; built-in and formula models train in float64",
                                 option_name("model.precision")));
  if (initial && !start.empty())
    return fail(why, fmt::format("{} and {} both give the starting weights: give one", option_name("model.start"),
                                 option_name("model.initial")));
  return true;
}

bool OptimizerOptions::IsValid(std::string* why) const {
  if (name != "lbfgs" && !is_step_optimizer())
    return fail(why, fmt::format("{}: unknown optimizer '{}' (use sgd, adam, adamw or lbfgs)", option_name("optimizer.name"),
                                 name));
  std::string detail;
  if (name == "sgd" && !sgd.IsValid(&detail)) return fail(why, fmt::format("{}: {}", option_name("optimizer.sgd"), detail));
  if ((name == "adam" || name == "adamw") && !adam.IsValid(&detail))
    return fail(why, fmt::format("{}: {}", option_name("optimizer.adam"), detail));
  if (name == "lbfgs" && !lbfgs.IsValid(&detail)) return fail(why, fmt::format("{}: {}", option_name("optimizer.lbfgs"), detail));
  if (!schedule.IsValid(&detail)) return fail(why, fmt::format("{}: {}", option_name("optimizer.schedule"), detail));
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    return fail(why, fmt::format("{}: the learning rate must be a finite number > 0, not {}",
                                 option_name("optimizer.learning_rate"), learning_rate));
  return true;
}

bool TrainerOptions::IsValid(std::string* why) const {
  if (batch == 0) return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.batch")));
  if (epochs == 0) return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.epochs")));
  if (accumulate == 0) return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.accumulate")));
  if (!(validation_fraction >= 0 && validation_fraction < 1))
    return fail(why, fmt::format("{}: must be in [0, 1), not {}", option_name("trainer.validation_fraction"),
                                 validation_fraction));
  if (early_stop > 0 && validation_fraction == 0)
    return fail(why, fmt::format("{} needs a validation split ({} > 0)", option_name("trainer.early_stop"),
                                 option_name("trainer.validation_fraction")));
  if (!(divergence_factor > 1))
    return fail(why, fmt::format("{}: must be > 1, not {}", option_name("trainer.divergence_factor"), divergence_factor));
  if (sync.mode == Sync::Mode::kLocalSgd && sync.local_period == 0)
    return fail(why, fmt::format("{}: local:H needs H >= 1", option_name("trainer.sync")));
  if (sync.average_moments && sync.mode != Sync::Mode::kLocalSgd)
    return fail(why, fmt::format("{} is for local SGD ({} local:H)", option_name("trainer.sync.average_moments"),
                                 option_name("trainer.sync")));
  if (sync.servers == 0)
    return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.sync.servers")));
  if (sync.servers != 1 && sync.mode != Sync::Mode::kSsp)
    return fail(why, fmt::format("{} is for the parameter server ({} ssp:S)", option_name("trainer.sync.servers"),
                                 option_name("trainer.sync")));
  if (sync.mode != Sync::Mode::kSync && shard_optimizer == ShardOptimizer::kOn)
    return fail(why, fmt::format("{} on shards the synchronous optimizer over the ranks; {} {} {}",
                                 option_name("trainer.shard_optimizer"), option_name("trainer.sync"), to_string(sync),
                                 sync.mode == Sync::Mode::kLocalSgd ? "(local SGD) keeps one per rank"
                                 : sync.mode == Sync::Mode::kSsp    ? "shards it over its servers"
                                                                    : "keeps one per thread"));
  if (tensor_parallel == 0) return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.tensor_parallel")));
  if (tensor_parallel > 1 && sync.mode != Sync::Mode::kSync)
    return fail(why, fmt::format("{} needs {} sync (its slices step together), not {}",
                                 option_name("trainer.tensor_parallel"), option_name("trainer.sync"), to_string(sync)));
  if (pipeline_stages == 0)
    return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.pipeline_stages")));
  if (micro_batches == 0)
    return fail(why, fmt::format("{}: must be at least 1", option_name("trainer.micro_batches")));
  if (pipeline_stages == 1 && micro_batches != 1)
    return fail(why, fmt::format("{} is for {} P > 1 (without a pipeline, {} sums micro-batches)",
                                 option_name("trainer.micro_batches"), option_name("trainer.pipeline_stages"),
                                 option_name("trainer.accumulate")));
  if (pipeline_stages == 1 && recompute)
    return fail(why, fmt::format("{} is for {} P > 1", option_name("trainer.recompute"),
                                 option_name("trainer.pipeline_stages")));
  if (pipeline_stages > 1 && sync.mode != Sync::Mode::kSync)
    return fail(why, fmt::format("{} needs {} sync (its stages step together), not {}",
                                 option_name("trainer.pipeline_stages"), option_name("trainer.sync"), to_string(sync)));
  if (pipeline_stages > 1 && batch % micro_batches != 0)
    return fail(why, fmt::format("{} {} is not a multiple of {} {}: every micro-batch has batch / M rows",
                                 option_name("trainer.batch"), batch, option_name("trainer.micro_batches"),
                                 micro_batches));
  if (debug_slow_rank < -1)
    return fail(why, fmt::format("{}: rank must be >= 0, not {}", option_name("trainer.debug_slow"), debug_slow_rank));
  if (!(debug_slow_factor >= 1 && debug_slow_factor <= 1000))
    return fail(why, fmt::format("{}: factor must be in [1, 1000], not {}", option_name("trainer.debug_slow"),
                                 debug_slow_factor));
  return true;
}

TrainerOptions::Sync parse_sync(std::string_view text) {
  TrainerOptions::Sync sync;
  if (text == "sync") return sync;
  if (text == "hogwild") {
    sync.mode = TrainerOptions::Sync::Mode::kHogwild;
    return sync;
  }
  constexpr std::string_view kSsp = "ssp:";
  if (text.substr(0, kSsp.size()) == kSsp) {
    const std::string_view v = text.substr(kSsp.size());
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec == std::errc() && end == v.data() + v.size() && !v.empty()) {
      sync.mode = TrainerOptions::Sync::Mode::kSsp;
      sync.staleness = value;
      return sync;
    }
    throw usage_error(fmt::format("{} '{}': S in ssp:S must be a whole number >= 0", option_name("trainer.sync"),
                                  text));
  }
  constexpr std::string_view kLocal = "local:";
  if (text.substr(0, kLocal.size()) == kLocal) {
    const std::string_view h = text.substr(kLocal.size());
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(h.data(), h.data() + h.size(), value);
    if (ec == std::errc() && end == h.data() + h.size() && !h.empty() && value >= 1) {
      sync.mode = TrainerOptions::Sync::Mode::kLocalSgd;
      sync.local_period = value;
      return sync;
    }
    throw usage_error(fmt::format("{} '{}': H in local:H must be a whole number >= 1", option_name("trainer.sync"),
                                  text));
  }
  throw usage_error(fmt::format("{} '{}': expected sync, local:H (local SGD, average every H steps), hogwild "
                                "(lock-free threads) or ssp:S (parameter server, staleness bound S)",
                                option_name("trainer.sync"), text));
}

std::string to_string(const TrainerOptions::Sync& sync) {
  switch (sync.mode) {
    case TrainerOptions::Sync::Mode::kLocalSgd: return fmt::format("local:{}", sync.local_period);
    case TrainerOptions::Sync::Mode::kHogwild: return "hogwild";
    case TrainerOptions::Sync::Mode::kSsp: return fmt::format("ssp:{}", sync.staleness);
    case TrainerOptions::Sync::Mode::kSync: break;
  }
  return "sync";
}

bool CheckpointOptions::IsValid(std::string* why) const {
  if (every > 0 && path.empty())
    return fail(why, fmt::format("{} needs {}", option_name("checkpoint.every"), option_name("checkpoint.path")));
  return true;
}

void validate(const TrainSpec& spec) {
  std::string why;
  if (!spec.model.IsValid(&why) || !spec.optimizer.IsValid(&why) || !spec.trainer.IsValid(&why) ||
      !spec.checkpoint.IsValid(&why))
    throw usage_error(why);
  check_loss(spec.loss, option_name("loss"));
  // Flags that would change nothing are refused: moments to average need an optimizer with some.
  if (spec.trainer.sync.average_moments && spec.optimizer.name == "sgd" && spec.optimizer.sgd.momentum == 0)
    throw usage_error(fmt::format("{}: plain SGD has no moments to average (use adam, adamw or SGD with momentum)",
                                  option_name("trainer.sync.average_moments")));
  if (!spec.optimizer.is_step_optimizer()) {
    if (!spec.checkpoint.path.empty() || !spec.checkpoint.resume.empty())
      throw usage_error(fmt::format("{} and {} are for the mini-batch optimizers (sgd, adam, adamw), not lbfgs",
                              option_name("checkpoint.path"), option_name("checkpoint.resume")));
    if (spec.trainer.accumulate != 1)
      throw usage_error(fmt::format("{} is for the mini-batch optimizers, not lbfgs", option_name("trainer.accumulate")));
    if (spec.trainer.shard_optimizer == TrainerOptions::ShardOptimizer::kOn)
      throw usage_error(fmt::format("{} is for the mini-batch optimizers, not lbfgs", option_name("trainer.shard_optimizer")));
    if (spec.trainer.sync.mode != TrainerOptions::Sync::Mode::kSync)
      throw usage_error(fmt::format("{} {} is for the mini-batch optimizers, not lbfgs", option_name("trainer.sync"),
                                    to_string(spec.trainer.sync)));
    for (const auto& [on, name] : {std::pair{spec.trainer.tensor_parallel > 1, "trainer.tensor_parallel"},
                                   std::pair{spec.trainer.pipeline_stages > 1, "trainer.pipeline_stages"}})
      if (on)
        throw usage_error(fmt::format("{} is for the mini-batch optimizers (sgd, adam, adamw), not lbfgs",
                                      option_name(name)));
  }
  for (const auto& [on, name] : {std::pair{spec.trainer.tensor_parallel > 1, "trainer.tensor_parallel"},
                                 std::pair{spec.trainer.pipeline_stages > 1, "trainer.pipeline_stages"}})
    if (on && !is_mlp_name(spec.model.name))
      throw usage_error(fmt::format("{} splits an MLP's layers; '{}' is not an MLP (mlp:W1,W2,...)", option_name(name),
                                    printable(spec.model.name, 60)));
}

namespace detail {

std::string fingerprint(const TrainSpec& spec, const TrainLayout& layout) {
  nlohmann::ordered_json j;
  j["model"] = spec.model.name;
  j["inputs"] = layout.inputs;
  j["response"] = layout.response;
  j["parameters"] = layout.num_parameters;
  if (is_mlp_name(spec.model.name)) {
    j["activation"] = to_string(spec.model.activation);
    j["precision"] = to_string(spec.model.precision);
    // A fine-tuned MLP's weights are in its initial model's units: resume with the same ones.
    if (const auto& init = spec.model.initial)
      j["init_from"] = {{"input_mean", init->input_mean}, {"input_scale", init->input_scale},
                        {"y_mean", init->y_mean}, {"y_scale", init->y_scale}};
  }
  const OptimizerOptions& o = spec.optimizer;
  j["optimizer"] = o.name;
  j["learning_rate"] = o.learning_rate;
  if (o.name == "sgd") {
    j["momentum"] = o.sgd.momentum;
    j["nesterov"] = o.sgd.nesterov;
    j["dampening"] = o.sgd.dampening;
    j["weight_decay"] = o.sgd.weight_decay;
  } else {
    j["beta1"] = o.adam.beta1;
    j["beta2"] = o.adam.beta2;
    j["epsilon"] = o.adam.epsilon;
    j["weight_decay"] = o.adam.weight_decay.value_or(o.name == "adamw" ? kAdamWDefaultWeightDecay : 0.0);
  }
  const TrainerOptions& t = spec.trainer;
  j["schedule"] = o.schedule.describe();
  j["batch"] = t.batch;
  j["accumulate"] = t.accumulate;
  // More epochs extend a run (--resume with a larger --epochs), unless the schedule spans them all:
  // a cosine's every step depends on the run's length.
  if (o.schedule.kind == LearningRateSchedule::Kind::kCosine) j["epochs"] = t.epochs;
  j["strata"] = layout.strata;
  j["rows"] = layout.rows;
  j["validation_fraction"] = t.validation_fraction;
  j["early_stop"] = t.early_stop;
  j["seed"] = t.seed;
  j["divergence_factor"] = t.divergence_factor;
  // Only a robust loss is recorded: checkpoints from before losses existed resume as squared error.
  if (!spec.loss.squared()) j["loss"] = spec.loss.name();
  // A tensor-parallel checkpoint holds one slice's weights and state: resume on the same grid.
  if (t.tensor_parallel > 1) j["tensor_parallel"] = t.tensor_parallel;
  // A stage's checkpoint holds its layers: resume on the same stages (either schedule: the same bits).
  if (t.pipeline_stages > 1) {
    j["pipeline_stages"] = t.pipeline_stages;
    j["micro_batches"] = t.micro_batches;
  }
  return j.dump();
}

}  // namespace detail
}  // namespace parafit
