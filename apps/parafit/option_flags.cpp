#include "option_flags.h"

#include <utility>

#include "parafit/error.h"

namespace parafit::cli {
namespace {

// Library option (FitSpec, TrainSpec) -> flag of `parafit fit` / `parafit train`.
constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
    {"model", "--model"},
    {"x", "--x"},
    {"y", "--y"},
    {"params", "--params"},
    {"weights", "--weights"},
    {"start", "--start"},
    {"fix", "--fix"},
    {"bounds", "--bounds"},
    {"solver.max_iterations", "--max-iterations"},
    {"confidence_level", "--conf-level"},
    {"profile_intervals", "--ci"},
    {"loss", "--loss"},
    {"model.name", "--model"},
    {"model.x", "--x"},
    {"model.y", "--y"},
    {"model.params", "--params"},
    {"model.start", "--start"},
    {"model.activation", "--activation"},
    {"model.precision", "--precision"},
    {"optimizer.name", "--optimizer"},
    {"optimizer.learning_rate", "--lr"},
    {"optimizer.schedule", "--schedule"},
    {"optimizer.sgd", "--optimizer sgd"},
    {"optimizer.adam", "--optimizer adam"},
    {"optimizer.lbfgs", "--optimizer lbfgs"},
    {"trainer.batch", "--batch"},
    {"trainer.epochs", "--epochs"},
    {"trainer.accumulate", "--accum"},
    {"context.strata", "--strata"},
    {"trainer.validation_fraction", "--val-split"},
    {"trainer.early_stop", "--early-stop"},
    {"trainer.seed", "--seed"},
    {"trainer.divergence_factor", "divergence factor"},
    {"trainer.shard_optimizer", "--shard-optimizer"},
    {"trainer.tensor_parallel", "--tensor-parallel"},
    {"trainer.pipeline_stages", "--pipeline-stages"},
    {"trainer.micro_batches", "--micro-batches"},
    {"trainer.recompute", "--recompute"},
    {"trainer.sync.average_moments", "--average-moments"},
    {"trainer.sync.servers", "--servers"},
    {"trainer.sync", "--sync"},
    {"trainer.debug_slow", "--debug-slow-rank"},
    {"checkpoint.path", "--checkpoint"},
    {"checkpoint.every", "--checkpoint-every"},
    {"checkpoint.resume", "--resume"},
    {"model.initial", "--init-from"},
    {"threads", "--threads"},
    {"drop_missing", "--drop-missing"},
};

}  // namespace

std::string flag_of(std::string_view option) {
  for (const auto& [name, flag] : kFlags)
    if (name == option) return std::string(flag);
  return std::string(option);
}

std::string message_with_flags(const std::exception& e) {
  return render_options(marked_message(e), [](std::string_view option) { return flag_of(option); });
}

}  // namespace parafit::cli
