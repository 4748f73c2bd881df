// The step-wise Trainer (parafit/trainer.h): Init lays out the data and builds the model; Step runs
// one optimizer step (or one L-BFGS iteration) through the strata engine and the gradient exchange
// (under Hogwild, a chunk of steps on the threads: HogwildExchange::run);
// EndEpoch validates, keeps the history, stops early and checkpoints; Finish measures the final
// losses and hands over the model.
#include "parafit/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <thread>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/lbfgs.h"
#include "parallel/strata.h"
#include "parallel/strata_engine.h"
#include "parallel/strategies/gradient_exchange.h"
#include "parallel/strategies/ssp_server.h"
#include "parallel/strategies/hogwild_exchange.h"
#include "model/mlp_shape.h"
#include "model/mlp_tensor.h"
#include "train/checkpoint.h"
#include "train/mlp_tensor_objective.h"
#include "model/mlp_stages.h"
#include "train/mlp_pipeline_objective.h"
#include "train/model_grid.h"
#include "train/train_model.h"
#include "train/train_spec.h"

namespace parafit {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Hogwild's steps per Trainer::Step, per thread: enough that the threads' start and join (a few
// microseconds) and the chunk's bookkeeping are small beside the steps, few enough that progress,
// divergence checks and a user's stop come often.
constexpr std::size_t kHogwildChunkPerThread = 8;

// The optimizer of the spec over n parameters (all of them, or one rank's slice).
detail::OptimizerFactory optimizer_factory(const OptimizerOptions& o) {
  return [o](std::size_t n) {
    if (o.name == "sgd") return make_sgd(n, o.sgd);
    if (o.name == "adam") return make_adam(n, o.adam);
    return make_adamw(n, o.adam);
  };
}

// How the workers combine their gradients (parallel/strategies/): ZeRO-1 when asked for, or by
// default for models of at least kShardMinParameters weights, on several ranks (on one, or with
// fewer weights than ranks, there is nothing to shard). Both give the same bits.
std::unique_ptr<detail::GradientExchange> make_exchange(detail::StrataEngine& engine, const TrainSpec& spec,
                                                        std::size_t p, Communicator* world) {
  const std::size_t ranks = std::size_t(engine.communicator().size());
  using Shard = TrainerOptions::ShardOptimizer;
  const TrainerOptions::Sync& sync = spec.trainer.sync;
  if (sync.mode == TrainerOptions::Sync::Mode::kLocalSgd)
    return detail::make_local_sgd_exchange(engine, p, optimizer_factory(spec.optimizer), sync.local_period,
                                           sync.average_moments);
  if (sync.mode == TrainerOptions::Sync::Mode::kSsp)
    return detail::make_ssp_exchange(engine, p, optimizer_factory(spec.optimizer), *world, sync.servers,
                                     sync.staleness);
  if (sync.mode != TrainerOptions::Sync::Mode::kSync)  // Hogwild's exchange is made by init_mini_batch
    throw std::logic_error(fmt::format("make_exchange: no exchange for --sync {} here", to_string(sync)));
  const Shard shard = spec.trainer.shard_optimizer;
  const bool sharded = ranks > 1 && p >= ranks &&
                       (shard == Shard::kOn || (shard == Shard::kAuto && p >= TrainerOptions::kShardMinParameters));
  if (sharded) return detail::make_zero1_exchange(engine, p, optimizer_factory(spec.optimizer));
  return detail::make_replicated_exchange(engine, p, optimizer_factory(spec.optimizer));
}

}  // namespace

struct Trainer::State {
  State(Dataset local, TrainSpec spec, Context context)
      : local(std::move(local)), spec(std::move(spec)), context(context) {}

  Dataset local;
  TrainSpec spec;
  Context context;
  LocalCommunicator alone;
  Communicator* comm = nullptr;  // the workers' (all ranks but a parameter server's servers)
  // The parameter server (--sync ssp:S): every rank, the workers' own communicator, and on a
  // server rank its loop (it runs no training of its own).
  Communicator* world = nullptr;
  std::unique_ptr<Communicator> role_comm;
  std::unique_ptr<detail::SspServer> server;
  // Model parallelism (--tensor-parallel T, --pipeline-stages P): the grid's communicators (comm
  // is then the data one) and this rank's part of the network (its stage's layers, its slice of
  // them); theta and the optimizer hold that part only.
  detail::ModelGrid grid;
  std::vector<std::size_t> stage_bounds;
  std::unique_ptr<detail::TensorPlan> part;
  detail::PipelineStats pipeline_stats;
  // The engine's micro-batch and the micro-batches per step: a pipeline cuts `batch` into M.
  std::size_t engine_batch = 0, accumulate = 1;
  bool served = false;
  Termination server_termination = Termination::kCompleted;
  int threads = 1;
  bool initialised = false, finished = false;

  detail::TrainModel model;
  detail::StrataPlan plan;
  std::unique_ptr<detail::TrainObjective> objective;
  std::unique_ptr<detail::StrataEngine> engine;
  std::string fingerprint;
  std::vector<double> theta;

  // Mini-batch optimizers: the exchange (and optimizer), the position and everything a checkpoint
  // holds.
  std::unique_ptr<detail::GradientExchange> exchange;
  detail::HogwildExchange* hogwild = nullptr;  // the exchange, under --sync hogwild
  detail::TrainState st;
  std::size_t micro = 0, per_epoch = 0, total_steps = 0;
  bool epoch_started = false;
  Clock::time_point epoch_start{};
  double last_lr = 0;

  // L-BFGS: one iteration per "epoch".
  std::unique_ptr<LbfgsSolver> lbfgs;
  Objective lbfgs_objective;
  std::size_t evaluations = 0;
  bool iteration_pending = false;  // an iteration was taken and EndEpoch has not recorded it
  Clock::time_point lbfgs_start{};

  bool stopped = false;  // by a rule (diverged, early stopped) or by Stop()
  TrainSummary summary;
  TrainProgress progress;
  double step_seconds = 0;       // time in training steps and shuffles, not validation (samples/s)
  std::size_t step_samples = 0;  // rows of this process's steps
  std::size_t steps_here = 0;

  bool is_lbfgs() const { return !spec.optimizer.is_step_optimizer(); }
  double scale() const { return objective->loss_scale(); }
  bool root() const { return comm->rank() == 0; }
  void stop(Termination why, std::string message) {
    stopped = true;
    summary.termination = why;
    summary.message = std::move(message);
  }

  // The mean loss per row (squared error, or the robust loss's rho) in response units over every
  // training (or validation) row, NaN for none.
  double mean_loss(bool validation) { return mean_of(objective->loss(), validation); }
  // The mean squared error, whatever the loss.
  double mse(bool validation) {
    return spec.loss.squared() ? mean_loss(validation) : mean_of(objective->squared_error(), validation);
  }
  double mean_of(const detail::RowKernel& kernel, bool validation) {
    const std::size_t rows = validation ? engine->validation_rows() : engine->train_rows();
    const double loss = engine->reduce(engine->fold_all(kernel, theta, validation))[0];
    return rows == 0 ? kNaN : loss / double(rows) * scale();
  }

  // The straggler of TrainerOptions::debug_slow_rank: sleeps (factor - 1) x the step's time.
  void slow_down(double step_seconds_taken) const {
    if (spec.trainer.debug_slow_rank != comm->rank() || spec.trainer.debug_slow_factor <= 1) return;
    std::this_thread::sleep_for(
        std::chrono::duration<double>((spec.trainer.debug_slow_factor - 1) * step_seconds_taken));
  }
  bool is_ssp() const { return spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kSsp; }
  bool is_tensor() const { return spec.trainer.tensor_parallel > 1; }
  bool is_pipeline() const { return spec.trainer.pipeline_stages > 1; }
  bool is_model_parallel() const { return is_tensor() || is_pipeline(); }
  // The file of this rank's checkpoint: a model-parallel run writes one per stage and slice.
  std::string checkpoint_file(const std::string& path) const {
    if (!is_model_parallel() || path.empty()) return path;
    std::string file = path;
    if (is_pipeline()) file += fmt::format(".stage{}of{}", grid.stage(), grid.stages);
    if (is_tensor()) file += fmt::format(".slice{}of{}", grid.slice(), grid.slices);
    return file;
  }
  void init_model_part();
  // The whole network's weights from every part's (a collective of the model group).
  std::vector<double> whole(std::span<const double> mine) const;
  bool is_server() const { return server != nullptr; }
  void init_ssp_roles();
  // The model with `weights` (all of them) and `with` as its summary.
  TrainResult result(const TrainSummary& with, std::vector<double> weights) const;
  void init_workers();
  // Runs f; under a parameter server, an agreed error on the workers is also told to the servers.
  template <class F>
  auto tell_servers_on_error(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const AgreedError& e) {
      if (exchange)
        exchange->fail(e);
      else if (is_ssp() && comm->rank() == 0)
        detail::ssp_start_failed(*world, spec.trainer.sync.servers, e);
      throw;
    }
  }
  // The divergence rules: the run's first step sets the reference loss (a non-finite one is an
  // error about the start); then a report passes if its mean loss (set in *mean) is finite, its
  // gradient too, and not above divergence_factor x the reference.
  void set_reference(const detail::StepReport& first);
  bool acceptable(const detail::StepReport& r, double* mean) const;
  double learning_rate(std::size_t step) const {
    return spec.optimizer.learning_rate * spec.optimizer.schedule.factor(step, per_epoch, total_steps);
  }
  // Bookkeeping after accepted steps (one, or a Hogwild chunk), from their reports in step order.
  void count_steps(std::span<const detail::StepReport> reports, double lr, Clock::time_point t0);
  void init_mini_batch();
  void init_lbfgs();
  void save_checkpoint();
  bool mini_batch_step();
  bool hogwild_step(Clock::time_point t0);
  void end_mini_batch_epoch();
  bool lbfgs_step();
  void end_lbfgs_iteration();
};

Trainer::Trainer(Dataset local, TrainSpec spec, Context context)
    : s_(std::make_unique<State>(std::move(local), std::move(spec), context)) {
  // Every rank meets these alike: a program under mpirun reports them once.
  try {
    validate(s_->spec);
  } catch (const Error& e) {
    throw AgreedError(e.marked());
  }
}

Trainer::~Trainer() = default;

void Trainer::Init() {
  State& s = *s_;
  if (s.initialised) throw std::logic_error("Trainer::Init: called twice");
  s.initialised = true;
  s.comm = s.context.communicator != nullptr ? s.context.communicator : &s.alone;
  s.world = s.comm;
  s.threads = s.context.resolved_threads();
  s.engine_batch = s.spec.trainer.batch;
  s.accumulate = s.spec.trainer.accumulate;
  if (s.is_model_parallel()) {
    s.grid = detail::make_model_grid(*s.world, s.spec.trainer.tensor_parallel, s.spec.trainer.pipeline_stages, s.local,
                                     s.context.strata);
    s.comm = s.grid.data.get();
    if (s.is_pipeline()) {
      s.engine_batch = s.spec.trainer.batch / s.spec.trainer.micro_batches;
      s.accumulate = s.spec.trainer.accumulate * s.spec.trainer.micro_batches;
    }
  }
  if (s.is_ssp()) {
    s.init_ssp_roles();
    if (s.is_server()) return;
    s.tell_servers_on_error([&] { s.init_workers(); });
    return;
  }
  s.init_workers();
}

// The parameter server's ranks: the last `servers` serve, the others work. The servers' rows move
// to the workers (in global order, whole strata per worker), then each side gets its own
// communicator; a server waits for worker 0's hello (the weights to serve) and is done with Init.
void Trainer::State::init_ssp_roles() {
  Communicator& all = *world;
  const std::size_t servers = spec.trainer.sync.servers;
  const auto ranks = std::size_t(all.size());
  if (servers >= ranks)
    throw AgreedError(fmt::format("{} {} needs more ranks than its {} server(s) ({}): run it under mpirun with at "
                                  "least {} ranks",
                                  option_name("trainer.sync"), to_string(spec.trainer.sync), servers,
                                  option_name("trainer.sync.servers"), servers + 1),
                      Error::Kind::kUsage);
  const std::size_t workers = ranks - servers;
  const RowLayout layout = row_layout(all, local.rows());
  if (layout.total == 0) throw AgreedError("no data rows");
  if (context.strata == 0) throw AgreedError(fmt::format("{}: must be at least 1", option_name("context.strata")));
  const detail::StrataPlan workers_plan = detail::plan_strata(layout.total, context.strata);
  std::vector<std::size_t> bounds = workers_plan.rank_bounds(workers);
  bounds.resize(ranks + 1, layout.total);  // the servers keep no rows
  redistribute_rows(local, all, bounds);
  const bool serves = std::size_t(all.rank()) >= workers;
  role_comm = all.split(serves ? 1 : 0, all.rank());
  if (!serves) {
    comm = role_comm.get();
    return;
  }
  detail::SspServerSetup setup;
  setup.world = &all;
  setup.workers = workers;
  setup.servers = servers;
  setup.plan = workers_plan;
  setup.make_optimizer = optimizer_factory(spec.optimizer);
  setup.threads = threads;
  server = std::make_unique<detail::SspServer>(std::move(setup));
  server->start();
}

void Trainer::State::init_workers() {
  State& s = *this;
  const TrainSpec& spec = s.spec;
  Communicator& comm = *s.comm;

  // Layout: rank r holds whole strata (rows move between neighbouring ranks).
  const bool hogwild = spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kHogwild;
  if (hogwild && comm.size() > 1)
    throw AgreedError(fmt::format("{} hogwild runs on the threads of one rank, not on {} ranks; use local:H or ssp:S "
                                  "across ranks",
                                  option_name("trainer.sync"), comm.size()),
                      Error::Kind::kUsage);
  if (hogwild && spec.trainer.debug_slow_rank >= s.threads)
    throw AgreedError(fmt::format("{}: thread {} does not exist ({} thread(s); under {} hogwild R is a thread)",
                                  option_name("trainer.debug_slow"), spec.trainer.debug_slow_rank, s.threads,
                                  option_name("trainer.sync")),
                      Error::Kind::kUsage);
  if (!hogwild && spec.trainer.debug_slow_rank >= comm.size())
    throw AgreedError(fmt::format("{}: rank {} does not exist ({} rank(s))", option_name("trainer.debug_slow"),
                                  spec.trainer.debug_slow_rank, comm.size()),
                      Error::Kind::kUsage);
  const RowLayout layout = row_layout(comm, s.local.rows());
  if (layout.total == 0) throw AgreedError("no data rows");
  if (s.context.strata == 0) throw AgreedError(fmt::format("{}: must be at least 1", option_name("context.strata")));
  s.plan = detail::plan_strata(layout.total, s.context.strata);
  if (s.engine_batch < s.plan.strata)
    throw AgreedError(fmt::format("{}: {} is smaller than the {} strata every batch draws from; use a larger batch "
                                  "or fewer strata ({}){}",
                                  option_name("trainer.batch"), s.engine_batch, s.plan.strata,
                                  option_name("context.strata"),
                                  s.is_pipeline() ? fmt::format(" (a micro-batch: {} / {} {})", spec.trainer.batch,
                                                                option_name("trainer.micro_batches"),
                                                                spec.trainer.micro_batches)
                                                  : std::string()));
  const std::vector<std::size_t> bounds = s.plan.rank_bounds(std::size_t(comm.size()));
  redistribute_rows(s.local, comm, bounds);

  std::string local_error;
  Error::Kind local_kind = Error::Kind::kData;
  try {
    s.model = detail::resolve_train_model(spec.model, s.local);
  } catch (const Error& e) {
    local_error = e.marked();
    local_kind = e.kind();
  }
  agree_or_throw(comm, local_error, local_kind);

  detail::StrataRows rows = detail::split_strata(s.plan, comm, bounds[std::size_t(comm.rank())], s.local.rows(),
                                                 spec.trainer.seed, spec.trainer.validation_fraction);
  std::size_t train_total = 0;
  for (std::size_t c : rows.train_counts) train_total += c;
  if (train_total == 0) throw AgreedError("no training rows left after the validation split");
  std::size_t validation_total = 0;
  for (std::size_t c : rows.validation_counts) validation_total += c;
  // Each row is held out with probability validation_fraction (by the seed): few rows may give
  // none, and validation (and early stopping with it) would then be skipped without a word.
  if (spec.trainer.validation_fraction > 0 && validation_total == 0)
    throw AgreedError(fmt::format("{} {} held out none of the {} rows (each row is held out with that "
                                  "probability, by the seed): give more rows or a larger fraction",
                                  option_name("trainer.validation_fraction"), spec.trainer.validation_fraction,
                                  train_total));
  if (s.model.is_mlp) {
    if (spec.model.initial)
      detail::keep_standardisation(s.model.mlp, *spec.model.initial);
    else
      detail::standardise(s.model.mlp, s.local, s.plan, comm, rows);
  }
  s.theta = detail::starting_weights(s.model, spec, comm);
  if (s.is_model_parallel()) {
    s.init_model_part();
  } else {
    s.objective = detail::make_objective(s.model, s.local, s.threads, spec.loss);
  }
  s.engine = std::make_unique<detail::StrataEngine>(s.plan, std::move(rows), comm, s.threads, s.engine_batch,
                                                    spec.trainer.seed);
  s.summary.strata = s.plan.strata;
  s.fingerprint = detail::fingerprint(spec, {s.model.inputs, s.model.response, s.model.num_parameters,
                                             s.plan.strata, s.plan.rows});
  if (s.is_lbfgs())
    s.init_lbfgs();
  else
    s.init_mini_batch();
}

void Trainer::State::init_mini_batch() {
  const TrainerOptions& t = spec.trainer;
  micro = engine->micro_batches_per_epoch();
  per_epoch = (micro + accumulate - 1) / accumulate;
  total_steps = per_epoch * t.epochs;
  if (t.sync.mode == TrainerOptions::Sync::Mode::kHogwild) {
    auto h = detail::make_hogwild_exchange(*engine, objective->gradient(), theta.size(),
                                           optimizer_factory(spec.optimizer),
                                           {t.accumulate, t.debug_slow_rank, t.debug_slow_factor});
    hogwild = h.get();
    exchange = std::move(h);
  } else {
    exchange = make_exchange(*engine, spec, theta.size(), world);
  }
  summary.termination = Termination::kCompleted;
  if (!spec.checkpoint.resume.empty()) {
    const std::string path = checkpoint_file(spec.checkpoint.resume);
    std::string error;
    try {
      st = detail::read_checkpoint(path, fingerprint);
      if (st.theta.size() != theta.size() || st.previous_theta.size() != theta.size() ||
          (!st.best_theta.empty() && st.best_theta.size() != theta.size()))
        throw Error(fmt::format("checkpoint '{}' holds {} weights for a model with {}", path, st.theta.size(),
                                theta.size()));
      if (st.epoch > t.epochs || st.step_in_epoch > per_epoch)
        throw Error(fmt::format("checkpoint '{}' is at epoch {}, step {}, past this run's {} epochs of {} steps", path,
                                st.epoch + 1, st.step_in_epoch, t.epochs, per_epoch));
      exchange->set_state(st.optimizer_state);
    } catch (const Error& e) {
      error = e.marked();
    }
    agree_or_throw(*comm, error);
    theta = st.theta;
    summary.resumed_from_step = st.global_step;
  } else {
    st.theta = theta;
    st.previous_theta = theta;
  }
  last_lr = learning_rate(st.global_step);
  if (t.early_stop > 0 && st.epochs_without_improvement >= t.early_stop && !st.best_theta.empty()) {
    // Resumed from the checkpoint of a run that had already stopped early: nothing more to do.
    stop(Termination::kEarlyStopped, fmt::format("no better validation loss for {} epoch(s); kept the weights of "
                                                 "epoch {}",
                                                 t.early_stop, st.best_epoch));
    theta = st.best_theta;
  }
}

void Trainer::State::init_lbfgs() {
  lbfgs_objective = [this](std::span<const double> x, std::span<double> gradient) {
    const std::vector<double> total = engine->reduce(engine->fold_all(objective->gradient(), x, false));
    ++evaluations;
    const std::size_t rows = engine->train_rows();
    const double gscale = 2.0 / double(rows);
    for (std::size_t j = 0; j < gradient.size(); ++j) gradient[j] = total[j] * gscale;
    return total[gradient.size()] / double(rows);
  };
  lbfgs_start = Clock::now();
  lbfgs = std::make_unique<LbfgsSolver>(lbfgs_objective, theta.size(), spec.optimizer.lbfgs);
  lbfgs->Init(theta);
}

void Trainer::State::save_checkpoint() {
  if (spec.checkpoint.path.empty()) return;
  st.theta = theta;
  st.optimizer_state = exchange->state();
  std::string error;
  if (root()) {  // rank 0 writes; a failure stops every rank
    try {
      detail::write_checkpoint(checkpoint_file(spec.checkpoint.path), fingerprint, st);
    } catch (const Error& e) {
      error = e.marked();
    }
  }
  agree_or_throw(*comm, error);
  if (is_model_parallel()) agree_or_throw(*grid.model, error);
}

void Trainer::State::set_reference(const detail::StepReport& first) {
  const double mean = first.loss / double(first.rows);
  if (!std::isfinite(mean) || !first.gradient_finite)
    throw AgreedError(fmt::format(
        "the loss or its gradient is not finite at the starting weights (check the data and {})",
        option_name("model.start")));
  st.reference_loss = mean;
}

bool Trainer::State::acceptable(const detail::StepReport& r, double* mean) const {
  *mean = r.loss / double(r.rows);
  return std::isfinite(*mean) && r.gradient_finite &&
         *mean <= spec.trainer.divergence_factor * std::max(st.reference_loss, 1e-300);
}

void Trainer::State::count_steps(std::span<const detail::StepReport> reports, double lr, Clock::time_point t0) {
  last_lr = lr;
  for (const detail::StepReport& report : reports) {
    st.samples += report.rows;
    st.epoch_loss_sum = st.epoch_loss_sum + report.loss;
    st.epoch_rows += report.rows;
    step_samples += report.rows;
  }
  st.global_step += reports.size();
  st.step_in_epoch += reports.size();
  steps_here += reports.size();
  step_seconds += seconds_since(t0);
  if (spec.checkpoint.every > 0 && st.global_step % spec.checkpoint.every == 0) save_checkpoint();

  progress = TrainProgress{};
  progress.epoch = st.epoch + 1;
  progress.epochs = spec.trainer.epochs;
  progress.step = st.step_in_epoch;
  progress.steps_per_epoch = per_epoch;
  progress.global_step = st.global_step;
  progress.loss = st.epoch_loss_sum / double(st.epoch_rows) * scale();
  progress.samples_per_second = step_seconds > 0 ? double(step_samples) / step_seconds : 0;
  progress.eta_seconds = step_seconds / double(steps_here) * double(total_steps - st.global_step);
}

bool Trainer::State::mini_batch_step() {
  if (stopped || st.epoch >= spec.trainer.epochs) return false;
  if (!epoch_started) {
    epoch_start = Clock::now();
    engine->start_epoch(st.epoch);
    step_seconds += seconds_since(epoch_start);  // the shuffle is part of training (as in PyTorch's timing)
    epoch_started = true;
  }
  if (st.step_in_epoch >= per_epoch) return false;
  const auto t0 = Clock::now();
  if (hogwild != nullptr) return hogwild_step(t0);
  const std::size_t first = st.step_in_epoch * accumulate;
  const std::size_t last = std::min(micro, first + accumulate);
  const detail::LocalPass pass = engine->fold_batches(objective->gradient(), theta, first, last);
  const double lr = learning_rate(st.global_step);
  // Steps after which every rank must hold the same weights: an epoch's last (validation, early
  // stopping, the epoch's checkpoint) and a checkpoint's.
  const bool agree = st.step_in_epoch + 1 == per_epoch ||
                     (spec.checkpoint.every > 0 && (st.global_step + 1) % spec.checkpoint.every == 0);
  double mean = kNaN;
  bool diverged = false;
  // The mean gradient of the squared error: 2/n times the sum (checked after scaling).
  const detail::StepReport report =
      exchange->step(pass, theta, 2.0 / double(pass.rows), lr, [&](detail::StepReport r) {
        if (is_model_parallel()) {  // each part checked its own part of the gradient
          std::vector<std::int64_t> finite = {r.gradient_finite ? 1 : 0};
          grid.model->allreduce(finite, ReduceOp::kMin);
          r.gradient_finite = finite[0] == 1;
        }
        if (std::isnan(st.reference_loss)) set_reference(r);
        if (!acceptable(r, &mean)) {
          diverged = true;
          return false;
        }
        st.previous_theta.assign(theta.begin(), theta.end());  // theta still holds the step's start
        return true;
      }, agree);
  if (diverged) {
    stop(Termination::kDiverged,
         fmt::format("training diverged at epoch {}, step {}: the batch loss is {:.6g} (first batch: {:.6g}); the "
                     "weights are the last good ones, from before the step that led there. Try a smaller learning "
                     "rate.",
                     st.epoch + 1, st.step_in_epoch + 1, mean * scale(), st.reference_loss * scale()));
    theta = st.previous_theta;
    return false;
  }
  slow_down(seconds_since(t0));
  count_steps(std::span(&report, 1), lr, t0);
  return true;
}

// Hogwild: a chunk of steps on the threads (HogwildExchange::run), up to the epoch's end and to
// the next --checkpoint-every step, so that checkpoints fall where synchronous training's do. The
// divergence verdict is the chunk's, on its steps' losses summed; a bad chunk restores the weights
// from the start of the last good chunk (as sync restores those from before the last good step).
bool Trainer::State::hogwild_step(Clock::time_point t0) {
  const std::size_t first = st.step_in_epoch;
  std::size_t last = std::min(per_epoch, first + kHogwildChunkPerThread * std::size_t(threads));
  if (spec.checkpoint.every > 0)
    last = std::min(last, first + spec.checkpoint.every - st.global_step % spec.checkpoint.every);
  std::vector<double> lr(last - first);
  for (std::size_t i = 0; i < lr.size(); ++i) lr[i] = learning_rate(st.global_step + i);
  const std::vector<double> start = theta;
  const detail::HogwildReport chunk = hogwild->run(theta, first, last, lr);
  detail::StepReport report;  // the chunk's, for the verdict
  for (const detail::StepReport& r : chunk.steps) {
    report.loss = report.loss + r.loss;
    report.rows += r.rows;
    report.gradient_finite = report.gradient_finite && r.gradient_finite;
  }
  if (std::isnan(st.reference_loss)) set_reference(chunk.steps.front());
  double mean = kNaN;
  if (!acceptable(report, &mean)) {
    stop(Termination::kDiverged,
         fmt::format("training diverged at epoch {}, in steps {}-{} (Hogwild checks a chunk of steps at a time): "
                     "their mean batch loss is {:.6g} (first batch: {:.6g}); the weights are the last good ones, "
                     "from before the chunk that led there. Try a smaller learning rate.",
                     st.epoch + 1, first + 1, last, mean * scale(), st.reference_loss * scale()));
    theta = st.previous_theta;
    return false;
  }
  st.previous_theta = start;
  count_steps(chunk.steps, lr.back(), t0);  // in step order: the epoch's loss sums as sync's does
  return true;
}

void Trainer::State::end_mini_batch_epoch() {
  const TrainerOptions& t = spec.trainer;
  EpochRecord rec;
  rec.epoch = st.epoch + 1;
  rec.steps = st.global_step;
  rec.train_loss = st.epoch_rows > 0 ? st.epoch_loss_sum / double(st.epoch_rows) * scale() : kNaN;
  rec.validation_loss = engine->validation_rows() > 0 ? mean_loss(true) : kNaN;
  rec.learning_rate = last_lr;
  rec.seconds = seconds_since(epoch_start);
  st.history.push_back(rec);
  st.epoch_loss_sum = 0;
  st.epoch_rows = 0;
  st.step_in_epoch = 0;
  ++st.epoch;
  epoch_started = false;
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
  progress = TrainProgress{};
  progress.epoch = rec.epoch;
  progress.epochs = t.epochs;
  progress.step = per_epoch;
  progress.steps_per_epoch = per_epoch;
  progress.global_step = st.global_step;
  progress.loss = rec.train_loss;
  progress.samples_per_second = step_seconds > 0 ? double(step_samples) / step_seconds : 0;
  progress.eta_seconds =
      steps_here > 0 ? step_seconds / double(steps_here) * double(total_steps - st.global_step) : 0;
  progress.epoch_end = true;
  progress.validation_loss = rec.validation_loss;
  if (t.early_stop > 0 && st.epochs_without_improvement >= t.early_stop) {
    stop(Termination::kEarlyStopped, fmt::format("no better validation loss for {} epoch(s); kept the weights of "
                                                 "epoch {}",
                                                 t.early_stop, st.best_epoch));
    theta = st.best_theta;
  }
  if (spec.checkpoint.every == 0) save_checkpoint();
}

bool Trainer::State::lbfgs_step() {
  if (stopped || iteration_pending || lbfgs->done()) return false;
  const std::size_t accepted = lbfgs->summary().cost_history.size();
  lbfgs->Step();
  theta.assign(lbfgs->x().begin(), lbfgs->x().end());
  if (lbfgs->summary().cost_history.size() == accepted) return false;  // stopped without a step
  iteration_pending = true;
  const double elapsed = std::max(seconds_since(lbfgs_start), 1e-9);
  progress = TrainProgress{};
  progress.epoch = std::size_t(lbfgs->summary().iterations);
  progress.epochs = std::size_t(spec.optimizer.lbfgs.max_iterations);
  progress.step = 1;
  progress.steps_per_epoch = 1;
  progress.global_step = std::size_t(lbfgs->summary().iterations);
  progress.loss = lbfgs->cost() * scale();
  progress.samples_per_second = double(evaluations * engine->train_rows()) / elapsed;
  return true;
}

void Trainer::State::end_lbfgs_iteration() {
  if (!iteration_pending) return;
  iteration_pending = false;
  EpochRecord rec;
  rec.epoch = std::size_t(lbfgs->summary().iterations);
  rec.steps = evaluations;
  rec.train_loss = lbfgs->cost() * scale();
  rec.validation_loss = kNaN;
  rec.seconds = seconds_since(lbfgs_start);
  summary.history.push_back(rec);
  progress.epoch_end = true;
  progress.validation_loss = kNaN;
}

bool Trainer::Step() {
  State& s = *s_;
  if (!s.initialised || s.finished) throw std::logic_error("Trainer::Step: call Init first, and not after Finish");
  if (s.is_server()) {  // a parameter server's server: serve the whole run in one call
    if (!s.served) s.server_termination = s.server->serve();
    s.served = true;
    return false;
  }
  if (s.is_ssp()) return s.tell_servers_on_error([&] { return s.mini_batch_step(); });
  return s.is_lbfgs() ? s.lbfgs_step() : s.mini_batch_step();
}

void Trainer::EndEpoch() {
  State& s = *s_;
  if (!s.initialised || s.finished) throw std::logic_error("Trainer::EndEpoch: call Init first, and not after Finish");
  if (s.is_server()) return;
  if (s.is_ssp() && !s.stopped && s.st.epoch < s.spec.trainer.epochs) {
    s.tell_servers_on_error([&] { s.end_mini_batch_epoch(); });
    return;
  }
  if (s.is_lbfgs())
    s.end_lbfgs_iteration();
  else if (!s.stopped && s.st.epoch < s.spec.trainer.epochs)
    s.end_mini_batch_epoch();
}

void Trainer::Stop() {
  State& s = *s_;
  if (!running()) return;  // a run that has ended keeps the reason it ended
  if (s.is_lbfgs()) {
    s.end_lbfgs_iteration();  // the iteration the caller saw is part of the history
    s.lbfgs->Stop(fmt::format("stopped by the callback after iteration {}", s.lbfgs->summary().iterations));
  }
  s.stop(Termination::kUserStopped, fmt::format("stopped by the callback after {} step(s)", s.steps_here));
}

bool Trainer::running() const {
  const State& s = *s_;
  if (!s.initialised || s.finished || s.stopped) return false;
  if (s.is_server()) return !s.served;
  if (s.is_lbfgs()) return !s.lbfgs->done() || s.iteration_pending;
  return s.st.epoch < s.spec.trainer.epochs;
}

const TrainProgress& Trainer::progress() const { return s_->progress; }

TrainResult Trainer::Finish() {
  State& s = *s_;
  if (!s.initialised || s.finished) throw std::logic_error("Trainer::Finish: call Init first, and only once");
  if (s.is_server()) {
    if (!s.served) s.server_termination = s.server->serve();  // Stop() before the first Step
    s.served = s.finished = true;
    TrainResult result;
    result.spec = s.spec;
    result.summary.termination = s.server_termination;
    result.summary.sync = to_string(s.spec.trainer.sync);
    result.summary.message = fmt::format("served parameters [{} clocks applied]", s.server->applied());
    return result;
  }
  if (s.is_lbfgs()) s.end_lbfgs_iteration();
  s.finished = true;
  TrainSummary& summary = s.summary;
  double seconds = s.step_seconds;
  std::size_t samples = s.step_samples;
  if (s.is_lbfgs()) {
    const LbfgsSummary& ls = s.lbfgs->summary();
    summary.optimizer_report = ls.FullReport();
    if (ls.termination == Termination::kUserStopped)
      summary.termination = Termination::kUserStopped;
    else
      summary.termination = ls.IsSolutionUsable() ? Termination::kCompleted : Termination::kNotConverged;
    summary.message = fmt::format("L-BFGS: {}", ls.BriefReport());
    summary.epochs = summary.history.size();
    summary.steps = std::size_t(ls.iterations);
    summary.samples = s.evaluations * s.engine->train_rows();
    seconds = seconds_since(s.lbfgs_start);
    samples = summary.samples;
  } else {
    summary.epochs = s.st.history.size();
    summary.steps = s.st.global_step;
    summary.samples = s.st.samples;
    summary.history = s.st.history;
    summary.best_epoch = s.st.best_epoch;
    if (summary.termination == Termination::kCompleted)
      summary.message = fmt::format("{} epoch(s) of {} step(s)", s.spec.trainer.epochs, s.per_epoch);
    // A run stopped between two averages (local SGD) or ahead of the servers' clock agrees on
    // its weights first; a strategy with servers then tells them it is done.
    s.tell_servers_on_error([&] {
      if (summary.termination == Termination::kUserStopped) s.exchange->synchronize(s.theta);
      s.exchange->finish(int(summary.termination));
    });
    // Only the parameter server has staleness: the other strategies add no collective here.
    const auto stale = s.exchange->staleness();
    std::vector<double> sums = {stale.sum, double(stale.steps)};
    std::vector<std::int64_t> most = {std::int64_t(stale.max)};
    if (s.is_ssp() && s.comm->size() > 1) {
      s.comm->allreduce(sums);
      s.comm->allreduce(most, ReduceOp::kMax);
    }
    summary.staleness_mean = sums[1] > 0 ? sums[0] / sums[1] : 0;
    summary.staleness_max = std::size_t(most[0]);
    summary.sharded_optimizer = s.exchange->sharded();
    summary.optimizer_state_values = s.exchange->state_values();
    summary.averages = s.exchange->averages();
  }
  summary.sync = to_string(s.spec.trainer.sync);
  switch (s.spec.trainer.sync.mode) {
    case TrainerOptions::Sync::Mode::kLocalSgd:
      summary.reproducibility = "the same bits for the same number of workers (MPI ranks, or the threads of one process)";
      break;
    case TrainerOptions::Sync::Mode::kHogwild:
      summary.reproducibility = "none: Hogwild threads race by design (not reproducible)";
      break;
    case TrainerOptions::Sync::Mode::kSsp:
      summary.reproducibility = s.spec.trainer.sync.staleness > 0
                                    ? "none: workers compute on weights up to S steps stale, as timing has it (not "
                                      "reproducible)"
                                    : "the same bits as --sync sync: for any number of threads and workers";
      break;
    case TrainerOptions::Sync::Mode::kSync:
      if (s.is_tensor())
        summary.reproducibility = fmt::format("the same bits for any number of threads and data-parallel ranks at {} "
                                              "tensor slices (other slice counts agree to rounding){}",
                                              s.spec.trainer.tensor_parallel,
                                              s.is_pipeline() ? "; stages and schedules change no bit" : "");
      else if (s.is_pipeline())
        summary.reproducibility = fmt::format("the same bits for any number of threads, data-parallel ranks, stages "
                                              "and schedule: those of --batch {} --accum {} on one rank",
                                              s.engine_batch, s.accumulate);
      else
        summary.reproducibility = "the same bits for any number of threads and ranks";
  }
  if (s.hogwild != nullptr) summary.thread_steps = s.hogwild->thread_steps();
  summary.final_train_loss = s.mean_loss(false);
  summary.final_validation_loss = s.engine->validation_rows() > 0 ? s.mean_loss(true) : kNaN;
  if (s.spec.loss.squared()) {
    summary.final_train_mse = summary.final_train_loss;
    summary.final_validation_mse = summary.final_validation_loss;
  } else {
    summary.final_train_mse = s.mse(false);
    summary.final_validation_mse = s.engine->validation_rows() > 0 ? s.mse(true) : kNaN;
  }
  summary.train_rows = s.engine->train_rows();
  summary.validation_rows = s.engine->validation_rows();
  summary.seconds = seconds;
  summary.samples_per_second = seconds > 0 ? double(samples) / seconds : 0;
  summary.collectives = s.engine->collectives();
  summary.collective_bytes = s.engine->collective_bytes();
  if (s.is_pipeline()) {
    const detail::PipelineStats& p = s.pipeline_stats;
    // The bubble is each stage's idle time within the pipeline's flushes, which last as long as the
    // longest stage's: the first stage's, as it runs the first forward and the last backward. A
    // stage's own window would leave out the drain it does not wait for (the last stage stops at
    // its last backward). Only durations cross ranks, never clock readings.
    double span = p.flush_seconds;
    s.grid.pipe->allreduce(std::span<double>(&span, 1), ReduceOp::kMax);
    summary.pipeline_idle_fraction = span > 0 ? 1.0 - p.busy_seconds / span : 0.0;
    summary.pipeline_peak_activation_bytes = p.peak_activation_bytes;
  }

  return s.result(summary, s.whole(s.theta));
}

std::vector<double> Trainer::State::whole(std::span<const double> mine) const {
  if (!is_model_parallel()) return {mine.begin(), mine.end()};
  const detail::MlpShape shape = detail::mlp_shape(model.mlp);
  // Model rank q = p T + t holds slice t of stage p.
  std::vector<detail::TensorPlan> parts;
  std::vector<std::size_t> counts;
  for (std::size_t p = 0; p < grid.stages; ++p)
    for (std::size_t t = 0; t < grid.slices; ++t) {
      parts.emplace_back(shape, grid.slices, t, stage_bounds[p], stage_bounds[p + 1]);
      counts.push_back(parts.back().num_parameters());
    }
  std::vector<double> all(std::accumulate(counts.begin(), counts.end(), std::size_t(0)));
  grid.model->allgatherv<double>(mine, all, counts);
  std::vector<double> out(shape.num_parameters());
  std::size_t offset = 0;
  for (std::size_t q = 0; q < parts.size(); ++q) {
    parts[q].put(std::span<const double>(all).subspan(offset, counts[q]), out);
    offset += counts[q];
  }
  return out;
}

// This rank's part of the network: its stage's layers (balanced by multiply-adds), its slice of
// them; theta becomes that part, and the objective the part's.
void Trainer::State::init_model_part() {
  const detail::MlpShape shape = detail::mlp_shape(model.mlp);
  const std::size_t stages = spec.trainer.pipeline_stages, slices = spec.trainer.tensor_parallel;
  if (stages > shape.num_layers())
    throw AgreedError(fmt::format("{} {}: the network has only {} layer(s) to cut into stages",
                                  option_name("trainer.pipeline_stages"), stages, shape.num_layers()),
                      Error::Kind::kUsage);
  stage_bounds = detail::balance_stages(shape, stages);
  std::size_t most = std::numeric_limits<std::size_t>::max();
  for (std::size_t p = 0; p < stages; ++p)
    most = std::min(most, detail::TensorPlan::max_slices(shape, stage_bounds[p], stage_bounds[p + 1]));
  if (slices > most)
    throw AgreedError(fmt::format("{} {}: the narrowest layer it would split is {} wide (at most {} slices)",
                                  option_name("trainer.tensor_parallel"), slices, most, most),
                      Error::Kind::kUsage);
  const std::size_t p = grid.stage();
  part = std::make_unique<detail::TensorPlan>(shape, slices, grid.slice(), stage_bounds[p], stage_bounds[p + 1]);
  theta = part->take(theta);
  if (is_pipeline()) {
    detail::PipelineSetup setup;
    setup.pipe = grid.pipe.get();
    setup.tensor = grid.tensor.get();
    setup.bounds = stage_bounds;
    setup.micro_batches = spec.trainer.micro_batches;
    setup.one_f_one_b = spec.trainer.pipeline_schedule == TrainerOptions::PipelineSchedule::k1F1B;
    setup.recompute = spec.trainer.recompute;
    setup.stats = &pipeline_stats;
    objective = detail::make_pipeline_mlp_objective(model.mlp, local, threads, setup, spec.loss);
    summary.pipeline_plan = detail::describe_stages(shape, stage_bounds);
  } else {
    objective = detail::make_tensor_mlp_objective(model.mlp, local, threads, *grid.tensor, spec.loss);
  }
}

TrainResult Trainer::State::result(const TrainSummary& with, std::vector<double> weights) const {
  TrainResult out;
  out.spec = spec;
  out.inputs = model.inputs;
  out.response = model.response;
  out.response_columns = model.response_columns;
  out.parameter_names = model.parameter_names;
  out.num_parameters = model.num_parameters;
  out.summary = with;
  if (model.is_mlp) {
    MlpModel mlp = model.mlp;
    mlp.parameters = std::move(weights);
    out.mlp = std::make_shared<const MlpModel>(std::move(mlp));
  } else {
    out.curve = model.curve.model;
    out.parameters = std::move(weights);
  }
  return out;
}

TrainResult Trainer::snapshot() const {
  const State& s = *s_;
  if (!s.initialised || s.is_server()) throw std::logic_error("Trainer::snapshot: call Init first, on a worker");
  TrainSummary summary;
  summary.steps = s.st.global_step;
  summary.epochs = s.st.history.size();
  summary.samples = s.st.samples;
  summary.sync = to_string(s.spec.trainer.sync);
  if (s.is_model_parallel())
    throw std::logic_error("Trainer::snapshot: a model-parallel run's weights are in parts (Finish gathers them)");
  return s.result(summary, s.theta);
}

}  // namespace parafit
