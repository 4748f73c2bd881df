#include "train/training_loop.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/lbfgs.h"
#include "model/fast_exp.h"
#include "train/checkpoint.h"

namespace parafit::detail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// g[i] = g[i] * factor; returns whether every result is finite. One vectorised sweep (baseline and
// AVX2 copies): |x| <= DBL_MAX is false exactly for inf and NaN.
[[gnu::always_inline]] inline void scale_loop(std::size_t n, double* __restrict g, double factor, bool* finite) {
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = g[i] * factor;
    g[i] = x;
    ok &= std::fabs(x) <= std::numeric_limits<double>::max();
  }
  *finite = ok;
}

bool scale_and_check(std::span<double> g, double factor) {
  bool finite = true;
  run_dispatched<scale_loop>(g.size(), g.data(), factor, &finite);
  return finite;
}

// A pass's sums over every rank: the gradient (empty for a loss pass), the loss and the rows.
struct PassResult {
  std::vector<double> gradient;
  double loss = 0;
  std::size_t rows = 0;
};
PassResult finish_pass(StrataEngine& engine, const LocalPass& local, bool gradient) {
  std::vector<double> total = engine.reduce(local);
  PassResult r;
  r.loss = total.back();
  r.rows = local.rows;
  if (gradient) {
    total.pop_back();
    r.gradient = std::move(total);
  }
  return r;
}
PassResult full_loss(const LoopSetup& s, std::span<const double> theta, bool validation) {
  return finish_pass(s.engine, s.engine.fold_all(s.objective.loss(), theta, validation), false);
}

// Mean squared error in response units over a whole pass, NaN for an empty one.
double pass_mse(const PassResult& pass, double scale) {
  return pass.rows == 0 ? kNaN : pass.loss / double(pass.rows) * scale;
}

void finish(const LoopSetup& s, std::span<const double> theta, TrainSummary& summary, double step_seconds,
            std::size_t step_samples) {
  const double scale = s.objective.loss_scale();
  summary.final_train_mse = pass_mse(full_loss(s, theta, false), scale);
  summary.final_validation_mse = s.engine.validation_rows() > 0 ? pass_mse(full_loss(s, theta, true), scale) : kNaN;
  summary.train_rows = s.engine.train_rows();
  summary.validation_rows = s.engine.validation_rows();
  summary.seconds = step_seconds;
  summary.samples_per_second = step_seconds > 0 ? double(step_samples) / step_seconds : 0;
  summary.collectives = s.engine.collectives();
  summary.collective_bytes = s.engine.collective_bytes();
}

}  // namespace

void run_training_loop(const LoopSetup& s, Optimizer& optimizer, std::vector<double>& theta, TrainSummary& summary) {
  const TrainSpec& spec = s.spec;
  StrataEngine& engine = s.engine;
  const bool root = s.comm.rank() == 0;
  const double scale = s.objective.loss_scale();
  const std::size_t micro = engine.micro_batches_per_epoch();
  const std::size_t per_epoch = (micro + spec.accumulate - 1) / spec.accumulate;
  const std::size_t total_steps = per_epoch * spec.epochs;

  TrainState st;
  if (!spec.resume.empty()) {
    std::string error;
    try {
      st = read_checkpoint(spec.resume, s.fingerprint);
      if (st.theta.size() != theta.size() || st.previous_theta.size() != theta.size() ||
          (!st.best_theta.empty() && st.best_theta.size() != theta.size()))
        throw Error(fmt::format("checkpoint '{}' holds {} weights for a model with {}", spec.resume, st.theta.size(),
                                theta.size()));
      if (st.epoch > spec.epochs || st.step_in_epoch > per_epoch)
        throw Error(fmt::format("checkpoint '{}' is at epoch {}, step {}, past this run's {} epochs of {} steps",
                                spec.resume, st.epoch + 1, st.step_in_epoch, spec.epochs, per_epoch));
      optimizer.set_state(st.optimizer_state);
    } catch (const Error& e) {
      error = e.what();
    }
    agree_or_throw(s.comm, error);
    theta = st.theta;
    summary.resumed_from_step = st.global_step;
  } else {
    st.theta = theta;
    st.previous_theta = theta;
  }

  auto save = [&] {
    if (spec.checkpoint.empty()) return;
    st.theta = theta;
    st.optimizer_state = optimizer.state();
    std::string error;
    if (root) {  // rank 0 writes; a failure stops every rank
      try {
        write_checkpoint(spec.checkpoint, s.fingerprint, st);
      } catch (const Error& e) {
        error = e.what();
      }
    }
    agree_or_throw(s.comm, error);
  };

  double step_seconds = 0;       // time in training steps and shuffles, not validation (samples/s)
  std::size_t step_samples = 0;  // rows of this process's steps
  std::size_t steps_here = 0;
  double last_lr = spec.learning_rate * spec.schedule.factor(st.global_step, per_epoch, total_steps);
  summary.termination = TrainTermination::kCompleted;
  bool stop = false;
  if (spec.early_stop > 0 && st.epochs_without_improvement >= spec.early_stop && !st.best_theta.empty()) {
    // Resumed from the checkpoint of a run that had already stopped early: nothing more to do.
    summary.termination = TrainTermination::kEarlyStopped;
    summary.message = fmt::format("no better validation loss for {} epoch(s); kept the weights of epoch {}",
                                  spec.early_stop, st.best_epoch);
    theta = st.best_theta;
    stop = true;
  }

  while (st.epoch < spec.epochs && !stop) {
    const auto epoch_start = Clock::now();
    engine.start_epoch(st.epoch);
    step_seconds += seconds_since(epoch_start);  // the shuffle is part of training (as in PyTorch's timing)
    while (st.step_in_epoch < per_epoch) {
      const auto t0 = Clock::now();
      const std::size_t first = st.step_in_epoch * spec.accumulate;
      const std::size_t last = std::min(micro, first + spec.accumulate);
      PassResult pass = finish_pass(engine, engine.fold_batches(s.objective.gradient(), theta, first, last), true);
      const double mean = pass.loss / double(pass.rows);
      // The mean gradient of the squared error: 2/n times the sum (checked after scaling).
      const bool gradient_finite = scale_and_check(pass.gradient, 2.0 / double(pass.rows));
      const bool bad = !std::isfinite(mean) || !gradient_finite;
      if (std::isnan(st.reference_loss)) {
        if (bad)
          throw AgreedError("the loss or its gradient is not finite at the starting weights (check the data and --start)");
        st.reference_loss = mean;
      }
      if (bad || mean > spec.divergence_factor * std::max(st.reference_loss, 1e-300)) {
        summary.termination = TrainTermination::kDiverged;
        summary.message = fmt::format(
            "training diverged at epoch {}, step {}: the batch loss is {:.6g} (first batch: {:.6g}); the weights "
            "are the last good ones, from before the step that led there. Try a smaller --lr.",
            st.epoch + 1, st.step_in_epoch + 1, mean * scale, st.reference_loss * scale);
        theta = st.previous_theta;
        stop = true;
        break;
      }
      last_lr = spec.learning_rate * spec.schedule.factor(st.global_step, per_epoch, total_steps);
      st.previous_theta = theta;
      optimizer.step(theta, pass.gradient, last_lr);
      ++st.global_step;
      ++st.step_in_epoch;
      st.samples += pass.rows;
      st.epoch_loss_sum = st.epoch_loss_sum + pass.loss;
      st.epoch_rows += pass.rows;
      step_seconds += seconds_since(t0);
      step_samples += pass.rows;
      ++steps_here;
      if (spec.checkpoint_every > 0 && st.global_step % spec.checkpoint_every == 0) save();
      if (root && s.progress) {
        TrainProgress p;
        p.epoch = st.epoch + 1;
        p.epochs = spec.epochs;
        p.step = st.step_in_epoch;
        p.steps_per_epoch = per_epoch;
        p.loss = st.epoch_loss_sum / double(st.epoch_rows) * scale;
        p.samples_per_second = step_seconds > 0 ? double(step_samples) / step_seconds : 0;
        const double per_step = step_seconds / double(steps_here);
        p.eta_seconds = per_step * double(total_steps - st.global_step);
        s.progress(p);
      }
      if (spec.stop_after_steps > 0 && steps_here >= spec.stop_after_steps) {
        summary.termination = TrainTermination::kInterrupted;
        summary.message = fmt::format("stopped after {} step(s) (test hook)", steps_here);
        stop = true;
        break;
      }
    }
    if (stop) break;

    // End of the epoch: validation, history, early stopping, checkpoint.
    EpochRecord rec;
    rec.epoch = st.epoch + 1;
    rec.steps = st.global_step;
    rec.train_loss = st.epoch_rows > 0 ? st.epoch_loss_sum / double(st.epoch_rows) * scale : kNaN;
    rec.validation_loss = engine.validation_rows() > 0 ? pass_mse(full_loss(s, theta, true), scale) : kNaN;
    rec.learning_rate = last_lr;
    rec.seconds = seconds_since(epoch_start);
    st.history.push_back(rec);
    st.epoch_loss_sum = 0;
    st.epoch_rows = 0;
    st.step_in_epoch = 0;
    ++st.epoch;
    if (std::isfinite(rec.validation_loss)) {
      if (rec.validation_loss < st.best_validation) {
        st.best_validation = rec.validation_loss;
        st.best_epoch = rec.epoch;
        st.best_theta = theta;
        st.epochs_without_improvement = 0;
      } else {
        ++st.epochs_without_improvement;
      }
    }
    if (root && s.progress) {
      TrainProgress p;
      p.epoch = rec.epoch;
      p.epochs = spec.epochs;
      p.step = per_epoch;
      p.steps_per_epoch = per_epoch;
      p.loss = rec.train_loss;
      p.samples_per_second = step_seconds > 0 ? double(step_samples) / step_seconds : 0;
      p.eta_seconds = steps_here > 0 ? step_seconds / double(steps_here) * double(total_steps - st.global_step) : 0;
      p.epoch_end = true;
      p.validation_loss = rec.validation_loss;
      s.progress(p);
    }
    if (spec.early_stop > 0 && st.epochs_without_improvement >= spec.early_stop) {
      summary.termination = TrainTermination::kEarlyStopped;
      summary.message = fmt::format("no better validation loss for {} epoch(s); kept the weights of epoch {}",
                                    spec.early_stop, st.best_epoch);
      theta = st.best_theta;
      stop = true;
    }
    if (spec.checkpoint_every == 0) save();
  }

  summary.epochs = st.history.size();
  summary.steps = st.global_step;
  summary.samples = st.samples;
  summary.history = st.history;
  summary.best_epoch = st.best_epoch;
  if (summary.termination == TrainTermination::kCompleted)
    summary.message = fmt::format("{} epoch(s) of {} step(s)", spec.epochs, per_epoch);
  finish(s, theta, summary, step_seconds, step_samples);
}

void run_lbfgs(const LoopSetup& s, std::vector<double>& theta, TrainSummary& summary) {
  StrataEngine& engine = s.engine;
  const bool root = s.comm.rank() == 0;
  const double scale = s.objective.loss_scale();
  const auto start = Clock::now();
  std::size_t evaluations = 0;
  const Objective objective = [&](std::span<const double> x, std::span<double> gradient) {
    PassResult pass = finish_pass(engine, engine.fold_all(s.objective.gradient(), x, false), true);
    ++evaluations;
    const double gscale = 2.0 / double(pass.rows);
    for (std::size_t j = 0; j < gradient.size(); ++j) gradient[j] = pass.gradient[j] * gscale;
    return pass.loss / double(pass.rows);
  };
  std::size_t iterations = 0;
  const LbfgsCallback callback = [&](int iteration, double cost, std::span<const double>) {
    iterations = std::size_t(iteration);
    EpochRecord rec;
    rec.epoch = std::size_t(iteration);
    rec.steps = evaluations;
    rec.train_loss = cost * scale;
    rec.validation_loss = kNaN;
    rec.seconds = seconds_since(start);
    summary.history.push_back(rec);
    if (root && s.progress) {
      TrainProgress p;
      p.epoch = std::size_t(iteration);
      p.epochs = std::size_t(s.spec.lbfgs.max_iterations);
      p.step = 1;
      p.steps_per_epoch = 1;
      p.loss = cost * scale;
      p.samples_per_second = double(evaluations * engine.train_rows()) / std::max(seconds_since(start), 1e-9);
      p.epoch_end = true;
      p.validation_loss = kNaN;
      s.progress(p);
    }
    return !(s.spec.stop_after_steps > 0 && std::size_t(iteration) >= s.spec.stop_after_steps);
  };
  const LbfgsSummary ls = lbfgs_minimize(objective, theta, s.spec.lbfgs, callback);
  summary.optimizer_report = ls.FullReport();
  summary.termination = ls.IsSolutionUsable() ? TrainTermination::kCompleted : TrainTermination::kNotConverged;
  if (ls.termination == LbfgsTermination::kUserStopped) summary.termination = TrainTermination::kInterrupted;
  summary.message = fmt::format("L-BFGS: {}", ls.BriefReport());
  summary.epochs = iterations;
  summary.steps = std::size_t(ls.iterations);
  summary.samples = evaluations * engine.train_rows();
  finish(s, theta, summary, seconds_since(start), summary.samples);
}

}  // namespace parafit::detail
