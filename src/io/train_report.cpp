// The text summary and JSON document of a training run.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "parafit/report.h"

namespace parafit {
namespace {

using json = nlohmann::ordered_json;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string model_line(const TrainResult& r) {
  if (r.mlp) return r.mlp->description();
  return fmt::format("{}: {}", r.curve->name(), r.curve->formula());
}

// What the Sync line says about the exchange after its name: "" when it has nothing to add.
std::string sync_detail(const TrainResult& r, const ReportContext& ctx) {
  const TrainSummary& s = r.summary;
  const TrainerOptions::Sync& sync = r.spec.trainer.sync;
  switch (sync.mode) {
    case TrainerOptions::Sync::Mode::kLocalSgd:
      return fmt::format(" (local SGD: {} weight average(s))", s.averages);
    case TrainerOptions::Sync::Mode::kHogwild:
      return fmt::format(" (lock-free threads; steps per thread: {})", fmt::join(s.thread_steps, ", "));
    case TrainerOptions::Sync::Mode::kSsp:
      return fmt::format(" (parameter server: {} server rank(s) and {} worker(s); weights stale by {:.2f} steps on "
                         "average, at most {})",
                         sync.servers, ctx.ranks - int(sync.servers), s.staleness_mean, s.staleness_max);
    case TrainerOptions::Sync::Mode::kSync: break;
  }
  return "";
}

std::string optimizer_line(const TrainSpec& spec) {
  const OptimizerOptions& o = spec.optimizer;
  if (!o.is_step_optimizer()) return fmt::format("lbfgs (memory {}), full batch", o.lbfgs.memory);
  std::string extra;
  if (o.name == "sgd" && o.sgd.momentum > 0)
    extra = fmt::format(", momentum {}{}", o.sgd.momentum, o.sgd.nesterov ? " (Nesterov)" : "");
  const TrainerOptions& t = spec.trainer;
  return fmt::format("{} lr {}{}, schedule {}; batch {}{}", o.name, o.learning_rate, extra, o.schedule.describe(),
                     t.batch, t.accumulate > 1 ? fmt::format(" x {} accumulated", t.accumulate) : std::string());
}

std::string mse(double v) { return std::isnan(v) ? std::string("-") : fmt::format("{:.6g}", v); }

}  // namespace

std::string format_train_summary(const TrainResult& r, const ReportContext& ctx) {
  const TrainSummary& s = r.summary;
  std::string out;
  out += fmt::format("Model:      {}\n", model_line(r));
  out += fmt::format("Inputs:     {} -> {}\n", fmt::join(r.inputs, ", "), r.response);
  if (!ctx.data_source.empty())
    out += fmt::format("Data:       {}, {} training rows, {} validation rows\n", ctx.data_source, s.train_rows,
                       s.validation_rows);
  out += fmt::format("Optimizer:  {}\n", optimizer_line(r.spec));
  const bool robust = !r.spec.loss.squared();
  if (robust)
    out += fmt::format("Loss:       {} (the history's losses are its mean rho per row, response units)\n",
                       r.spec.loss.name());
  if (s.resumed_from_step > 0) out += fmt::format("Resumed:    from step {}\n", s.resumed_from_step);
  out += "\n";
  if (!s.history.empty()) {
    const bool lbfgs = !r.spec.optimizer.is_step_optimizer();
    out += fmt::format("{:>6} {:>9} {:>14} {:>14} {:>11} {:>9}\n", lbfgs ? "iter" : "epoch", lbfgs ? "evals" : "steps",
                       robust ? "train loss" : "train MSE", robust ? "valid loss" : "valid MSE", "lr", "seconds");
    // Long runs: the first and last epochs, enough to see the curve.
    const std::size_t n = s.history.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (n > 24 && i == 10) out += fmt::format("{:>6}\n", "...");
      if (n > 24 && i >= 10 && i + 10 < n) continue;
      const EpochRecord& e = s.history[i];
      out += fmt::format("{:>6} {:>9} {:>14} {:>14} {:>11} {:>9.3f}\n", e.epoch, e.steps, mse(e.train_loss),
                         mse(e.validation_loss), lbfgs ? std::string("-") : fmt::format("{:.4g}", e.learning_rate),
                         e.seconds);
    }
    out += "\n";
  }
  if (r.curve) {
    out += "Parameters:\n";
    for (std::size_t j = 0; j < r.parameters.size(); ++j)
      out += fmt::format("  {:<10} {:.10g}\n", r.parameter_names[j], r.parameters[j]);
    out += "\n";
  }
  out += fmt::format("Termination: {}{}\n", to_string(s.termination), s.message.empty() ? "" : " - " + s.message);
  out += fmt::format("Final MSE:   training {}{}\n", mse(s.final_train_mse),
                     std::isnan(s.final_validation_mse) ? std::string()
                                                        : fmt::format(", validation {}", mse(s.final_validation_mse)));
  if (robust)
    out += fmt::format("Final loss:  training {}{}\n", mse(s.final_train_loss),
                       std::isnan(s.final_validation_loss) ? std::string()
                                                           : fmt::format(", validation {}", mse(s.final_validation_loss)));
  if (s.best_epoch > 0 && s.termination == Termination::kEarlyStopped)
    out += fmt::format("Best epoch:  {}\n", s.best_epoch);
  out += fmt::format("Throughput:  {:.0f} samples/s ({} samples in {:.3f} s) on {} rank(s) x {} thread(s){}\n",
                     s.samples_per_second, s.samples, s.seconds, ctx.ranks, ctx.threads,
                     s.sharded_optimizer ? ", optimizer state sharded (ZeRO-1)" : "");
  if (s.sync != "sync") out += fmt::format("Sync:        {}{}; {}\n", s.sync, sync_detail(r, ctx), s.reproducibility);
  const std::size_t t = r.spec.trainer.tensor_parallel, p = r.spec.trainer.pipeline_stages;
  if (t > 1 || p > 1)
    out += fmt::format("Grid:        {} data-parallel x {} pipeline stage(s) x {} tensor-parallel rank(s); {}\n",
                       std::size_t(ctx.ranks) / (t * p), p, t, s.reproducibility);
  if (p > 1) {
    out += fmt::format("Pipeline:    {} micro-batches of {} rows, {}{}; stage 0 (this report's rank) idle {:.1f}% of "
                       "the pipeline's flushes, peak activations {:.2f} MB\n",
                       r.spec.trainer.micro_batches, r.spec.trainer.batch / r.spec.trainer.micro_batches,
                       r.spec.trainer.pipeline_schedule == TrainerOptions::PipelineSchedule::kGpipe ? "GPipe" : "1F1B",
                       r.spec.trainer.recompute ? ", recomputing activations" : "",
                       100.0 * s.pipeline_idle_fraction, double(s.pipeline_peak_activation_bytes) / 1e6);
    std::string plan = s.pipeline_plan;
    for (std::size_t at = 0; (at = plan.find('\n', at)) != std::string::npos && at + 1 < plan.size(); at += 14)
      plan.insert(at + 1, "             ");
    out += "             " + plan;
  }
  if (!s.optimizer_report.empty()) out += "\n" + s.optimizer_report;
  return out;
}

std::string format_train_json(const TrainResult& r, const ReportContext& ctx) {
  const TrainSummary& s = r.summary;
  const TrainSpec& spec = r.spec;
  json doc;
  doc["schema"] = "parafit-train/1";
  json model;
  if (r.mlp) {
    model["kind"] = "mlp";
    model["widths"] = r.mlp->widths;
    model["activation"] = to_string(r.mlp->activation);
    model["precision"] = to_string(r.mlp->precision);
  } else {
    model["kind"] = "curve";
    model["name"] = r.curve->name();
    model["formula"] = r.curve->formula();
  }
  model["parameters"] = r.num_parameters;
  model["inputs"] = r.inputs;
  model["response"] = r.response;
  doc["model"] = model;
  json opt;
  opt["name"] = spec.optimizer.name;
  if (spec.optimizer.is_step_optimizer()) {
    opt["learning_rate"] = spec.optimizer.learning_rate;
    opt["schedule"] = spec.optimizer.schedule.describe();
    opt["batch"] = spec.trainer.batch;
    opt["accumulate"] = spec.trainer.accumulate;
    opt["epochs"] = spec.trainer.epochs;
    opt["sync"] = s.sync;
    if (spec.trainer.tensor_parallel > 1) opt["tensor_parallel"] = spec.trainer.tensor_parallel;
    if (spec.trainer.pipeline_stages > 1) {
      opt["pipeline_stages"] = spec.trainer.pipeline_stages;
      opt["micro_batches"] = spec.trainer.micro_batches;
      opt["pipeline_schedule"] =
          spec.trainer.pipeline_schedule == TrainerOptions::PipelineSchedule::kGpipe ? "gpipe" : "1f1b";
      opt["recompute"] = spec.trainer.recompute;
    }
    if (spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kLocalSgd)
      opt["average_moments"] = spec.trainer.sync.average_moments;
    if (spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kSsp) opt["servers"] = spec.trainer.sync.servers;
  }
  opt["strata"] = s.strata;
  opt["seed"] = spec.trainer.seed;
  opt["validation_fraction"] = spec.trainer.validation_fraction;
  opt["loss"] = spec.loss.name();
  const bool robust = !spec.loss.squared();
  doc["optimizer"] = opt;
  json sum;
  sum["termination"] = to_string(s.termination);
  sum["usable"] = s.IsSolutionUsable();
  sum["message"] = s.message;
  sum["epochs"] = s.epochs;
  sum["steps"] = s.steps;
  sum["samples"] = s.samples;
  sum["train_rows"] = s.train_rows;
  sum["validation_rows"] = s.validation_rows;
  sum["train_mse"] = number(s.final_train_mse);
  sum["validation_mse"] = number(s.final_validation_mse);
  if (robust) {
    sum["train_loss"] = number(s.final_train_loss);
    sum["validation_loss"] = number(s.final_validation_loss);
  }
  sum["best_epoch"] = s.best_epoch;
  sum["resumed_from_step"] = s.resumed_from_step;
  sum["reproducibility"] = s.reproducibility;
  if (spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kLocalSgd) sum["averages"] = s.averages;
  if (spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kSsp) {
    sum["staleness_mean"] = s.staleness_mean;
    sum["staleness_max"] = s.staleness_max;
  }
  if (spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kHogwild) sum["thread_steps"] = s.thread_steps;
  if (spec.trainer.pipeline_stages > 1) {
    sum["pipeline_plan"] = s.pipeline_plan;
    sum["pipeline_idle_fraction"] = s.pipeline_idle_fraction;
    sum["pipeline_peak_activation_bytes"] = s.pipeline_peak_activation_bytes;
  }
  doc["summary"] = sum;
  if (r.curve) {
    json params = json::object();
    for (std::size_t j = 0; j < r.parameters.size(); ++j) params[r.parameter_names[j]] = number(r.parameters[j]);
    doc["parameters"] = params;
  }
  json history = json::array();
  for (const auto& e : s.history)
    history.push_back({{"epoch", e.epoch},
                       {"steps", e.steps},
                       {robust ? "train_loss" : "train_mse", number(e.train_loss)},
                       {robust ? "validation_loss" : "validation_mse", number(e.validation_loss)},
                       {"learning_rate", number(e.learning_rate)}});
  doc["history"] = history;
  json epoch_seconds = json::array();
  for (const auto& e : s.history) epoch_seconds.push_back(e.seconds);
  doc["run"] = {{"ranks", ctx.ranks},
                {"threads", ctx.threads},
                {"seconds", s.seconds},
                {"samples_per_s", s.samples_per_second},
                {"epoch_seconds", epoch_seconds},
                {"collectives", s.collectives},
                {"collective_bytes", s.collective_bytes},
                {"peak_rss_bytes", ctx.peak_rss_bytes}};
  return doc.dump(2) + "\n";
}

}  // namespace parafit
