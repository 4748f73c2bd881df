#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "cli_common.h"
#include "parse_messages.h"
#include "commands.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/html_report.h"
#include "parafit/formula.h"
#include "parafit/mlp_file.h"
#include "parafit/model_file.h"
#include "parafit/report.h"
#include "parafit/table.h"
#include "parafit/train.h"
#include "init_from.h"
#include "option_flags.h"
#include "output_paths.h"
#include "rank_timeout.h"
#include "test_seam.h"

namespace parafit::cli {
namespace {

// Progress on stderr: a live line on a terminal (redrawn at most 5 times a second), otherwise one
// line per epoch, so logs stay readable. Rank 0 only.
class ProgressPrinter {
 public:
  // `measure`: what the losses are ("MSE", or "loss" for a robust loss).
  ProgressPrinter(bool terminal, std::string measure) : terminal_(terminal), measure_(std::move(measure)) {}
  void operator()(const TrainProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.epoch_end) {
      if (terminal_) std::fputs("\r\033[K", stderr);
      fmt::print(stderr, "parafit: epoch {}/{}: train {} {:.6g}{}, {:.0f} samples/s{}\n", p.epoch, p.epochs, measure_,
                 p.loss,
                 std::isnan(p.validation_loss) ? std::string()
                                               : fmt::format(", valid {} {:.6g}", measure_, p.validation_loss),
                 p.samples_per_second, p.eta_seconds > 0 ? fmt::format(", ETA {:.0f} s", p.eta_seconds) : "");
      last_ = now;
      return;
    }
    if (!terminal_ || now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    fmt::print(stderr, "\r\033[Kepoch {}/{} step {}/{}  loss {:.5g}  {:.0f} samples/s  ETA {:.0f} s", p.epoch, p.epochs,
               p.step, p.steps_per_epoch, p.loss, p.samples_per_second, p.eta_seconds);
    std::fflush(stderr);
  }

 private:
  bool terminal_;
  std::string measure_;
  std::chrono::steady_clock::time_point last_{};
};

class TrainCommand final : public Command {
 public:
  explicit TrainCommand(CLI::App& parent) {
    app = parent.add_subcommand("train",
                                "Train a model by mini-batch SGD/Adam/AdamW or full-batch L-BFGS, data-parallel on "
                                "threads and MPI ranks");
    app->add_option("--data", data_, "CSV file with a header row, or a directory of <column>.npy files")->required();
    app->add_option("--model", spec_.model.name,
                    "mlp:W1,W2,... (hidden layer widths), a built-in model (see 'parafit models') or a formula")
        ->required();
    app->add_option("--x", x_, "Input column(s), comma-separated (default: every column but --y for an MLP; x for a "
                               "built-in model; the columns a formula names)");
    app->add_option("--y", spec_.model.y, "Response column")->capture_default_str();
    add_list_option(*app, "--params", params_, "Formula models: parameter names in order");
    add_list_option(*app, "--start", start_, "Built-in and formula models: start values, e.g. a=1,b=2 (default: "
                                              "self-start for built-ins)");
    app->add_option("--loss", loss_,
                    "What training minimises: squared (mean squared error), or a robust loss with its scale in "
                    "the response's units: huber:D, soft-l1:D, cauchy:D, arctan:D, tukey:D (rows with |r| "
                    "beyond D pull less)")
        ->capture_default_str();
    app->add_option("--activation", activation_, "MLP hidden-layer activation: tanh, relu, sigmoid, gelu")
        ->capture_default_str();
    app->add_option("--precision", precision_,
                    "MLP arithmetic: float32 (default: twice the SIMD width; weights and optimizer state stay "
                    "float64) or float64")
        ->capture_default_str();
    app->add_option("--optimizer", spec_.optimizer.name, "sgd, adam, adamw or lbfgs (full batch)")->capture_default_str();
    app->add_option("--lr", spec_.optimizer.learning_rate, "Base learning rate (sgd/adam/adamw)")->capture_default_str();
    app->add_option("--schedule", schedule_, "Learning-rate schedule: constant, step:E:G (x G every E epochs), cosine "
                                             "or cosine:MIN")
        ->capture_default_str();
    app->add_option("--warmup", spec_.optimizer.schedule.warmup_steps, "Linear warm-up over this many steps")
        ->capture_default_str();
    app->add_option("--momentum", spec_.optimizer.sgd.momentum, "SGD momentum in [0, 1)")->capture_default_str();
    app->add_flag("--nesterov", spec_.optimizer.sgd.nesterov, "SGD: Nesterov momentum");
    app->add_option("--weight-decay", weight_decay_, "L2 (sgd, adam) or decoupled (adamw, default 0.01) weight decay");
    app->add_option("--batch", spec_.trainer.batch, "Rows per (micro-)batch, over all workers")->capture_default_str();
    app->add_option("--epochs", spec_.trainer.epochs, "Passes over the training rows")->capture_default_str();
    app->add_option("--accum", spec_.trainer.accumulate, "Micro-batches summed before each step (gradient accumulation)")
        ->capture_default_str();
    app->add_option("--val-split", spec_.trainer.validation_fraction, "Fraction of rows held out for validation")
        ->capture_default_str();
    app->add_option("--early-stop", spec_.trainer.early_stop,
                    "Stop after this many epochs without a better validation loss (needs --val-split)");
    app->add_option("--seed", spec_.trainer.seed, "Seed of the weights, shuffles and validation split")->capture_default_str();
    app->add_option("--strata", strata_,
                    "Strata every batch draws from: the most workers a step can use; results depend on it, never on "
                    "the number of workers")
        ->capture_default_str()
        ->check(in_range(1, double(std::size_t{1} << 20)));
    app->add_option("--max-iterations", spec_.optimizer.lbfgs.max_iterations, "L-BFGS iteration limit")->capture_default_str();
    app->add_option("--threads", threads_, "Worker threads per rank (default: all cores)")->check(in_range(1, 4096));
    add_rank_timeout_option(*app, rank_timeout);
    app->add_option("--shard-optimizer", shard_,
                    "ZeRO-1 across MPI ranks: each rank keeps and updates only its slice of the optimizer state "
                    "(the same weights, bit for bit): auto (on for models of at least " +
                        std::to_string(TrainerOptions::kShardMinParameters) + " weights on 2+ ranks), on or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "on", "off"}));
    app->add_option("--tensor-parallel", spec_.trainer.tensor_parallel,
                    "MLP: split each pair of layers across T ranks (Megatron-LM style: the first by output columns, "
                    "the second by input rows; an odd first layer stays whole); each rank holds only its slice of "
                    "the weights and optimizer state. Run D x T ranks under mpirun (rank r is slice r mod T); one "
                    "thread per rank computes. Agrees with T = 1 to rounding; any D gives the same bits")
        ->capture_default_str();
    app->add_option("--pipeline-stages", spec_.trainer.pipeline_stages,
                    "MLP: cut the layers into P stages (balanced by multiply-adds; the plan is printed), each on its "
                    "own ranks; micro-batches flow forward and gradients back between them. Run D x P x T ranks "
                    "under mpirun (rank r is stage (r / T) mod P). The same bits as --batch B/M --accum M on one rank")
        ->capture_default_str();
    app->add_option("--micro-batches", spec_.trainer.micro_batches,
                    "Pipeline: micro-batches M each step's --batch rows are cut into (--batch must be a multiple of M)")
        ->capture_default_str();
    app->add_option("--pipeline-schedule", schedule_pipeline_,
                    "Pipeline: 1f1b (one forward, one backward: at most P micro-batches in flight) or gpipe (all M "
                    "forwards, then all backwards); the same bits")
        ->capture_default_str()
        ->check(CLI::IsMember({"1f1b", "gpipe"}));
    app->add_flag("--recompute", spec_.trainer.recompute,
                  "Pipeline: keep only each micro-batch's stage input and recompute its activations in the backward "
                  "pass (less memory, about a third more compute; the same bits)");
    app->add_option("--sync", sync_,
                    "How workers combine their work: sync (every step's gradient summed over all workers: the same "
                    "bits for any threads and ranks); local:H (local SGD: each worker - an MPI rank, or on one "
                    "process each of --threads - steps on its own rows with its own optimizer state and the weights "
                    "are averaged every H steps and at each epoch's end; the same bits for the same number of "
                    "workers); hogwild (the threads of one rank update shared "
                    "weights without locks; not reproducible); ssp:S (parameter server over MPI ranks, see "
                    "--servers: a worker runs at most S steps ahead of the slowest; ssp:0 is sync, bit for bit)")
        ->capture_default_str();
    app->add_option("--servers", servers_,
                    "Parameter server (--sync ssp:S): ranks that hold the weights and optimizer state, by parameter "
                    "ranges; the other ranks are workers")
        ->capture_default_str();
    app->add_flag("--average-moments", spec_.trainer.sync.average_moments,
                  "Local SGD: average the optimizer's moments (Adam's, SGD momentum) with the weights");
    app->add_option("--debug-slow-rank", slow_rank_,
                    "Testing aid, R:F: rank R (under --sync hogwild: thread R) sleeps (F - 1) x its compute time "
                    "after each step (a straggler F times slower), e.g. 1:2");
    app->add_option("--json", json_, "Write the result (history, summary, run) as JSON to this file");
    app->add_option("--report", report_,
                    "Write an HTML report to this file: summary, training and validation loss per epoch, samples/s "
                    "(one self-contained file; docs/report.md)");
    app->add_option("--save", save_, "Save the trained model for 'parafit predict'");
    app->add_option("--checkpoint", spec_.checkpoint.path, "Write the full training state to this file (atomically)");
    app->add_option("--checkpoint-every", spec_.checkpoint.every,
                    "Steps between checkpoints (default: at the end of each epoch)");
    app->add_option("--resume", spec_.checkpoint.resume, "Continue from a checkpoint written with the same settings (--epochs may grow, unless the schedule is "
                    "cosine)");
    app->add_option("--init-from", init_from_,
                    "Fine-tune a model saved by --save: start from its weights (fresh optimizer state); it must be "
                    "the model --model asks for, and its inputs, response and activation are the defaults");
    app->add_flag("--drop-missing", drop_missing_, "Drop rows with empty, NaN or Inf fields instead of failing");
    app->add_option("--delimiter", delimiter_, "Field delimiter (default: detect , tab ;)");
  }

  bool runs_on_every_rank() const override { return true; }

  int run() override {
    if (!x_.empty()) spec_.model.x = split_list({x_});
    spec_.model.params = split_list(params_);
    spec_.model.start = parse_assignments(start_, "--start");
    refuse_options_that_do_nothing();
    try {
      spec_.model.activation = parse_activation(activation_);
      spec_.model.precision = parse_precision(precision_);
      spec_.loss = parse_loss(loss_, "--loss");
      if (!init_from_.empty())
        apply_init_from(init_from_, spec_.model,
                        {app->count("--x") > 0, app->count("--y") > 0, app->count("--params") > 0,
                         app->count("--activation") > 0, app->count("--precision") > 0},
                        parallel->comm());
      spec_.optimizer.schedule = [&] {
        LearningRateSchedule s = parse_schedule(schedule_);
        s.warmup_steps = spec_.optimizer.schedule.warmup_steps;
        return s;
      }();
      if (app->count("--weight-decay") > 0) {
        spec_.optimizer.sgd.weight_decay = weight_decay_;
        spec_.optimizer.adam.weight_decay = weight_decay_;
      }
      const bool average_moments = spec_.trainer.sync.average_moments;
      spec_.trainer.sync = parse_sync(sync_);
      spec_.trainer.sync.average_moments = average_moments;
      spec_.trainer.sync.servers = servers_;
      if (!slow_rank_.empty()) parse_slow_rank(slow_rank_);
      // A parameter server's workers wait on its results every step: a hung rank is found within
      // 10 s unless the user set another bound.
      if (spec_.trainer.sync.mode == TrainerOptions::Sync::Mode::kSsp && !rank_timeout &&
          std::getenv("PARAFIT_RANK_TIMEOUT") == nullptr)
        parallel->set_rank_timeout(std::chrono::seconds(10));
      spec_.trainer.pipeline_schedule = schedule_pipeline_ == "gpipe" ? TrainerOptions::PipelineSchedule::kGpipe
                                                                      : TrainerOptions::PipelineSchedule::k1F1B;
      if (app->count("--pipeline-schedule") > 0 && spec_.trainer.pipeline_stages == 1)
        throw Error("--pipeline-schedule is for --pipeline-stages P > 1");
      spec_.trainer.shard_optimizer = shard_ == "on"    ? TrainerOptions::ShardOptimizer::kOn
                                      : shard_ == "off" ? TrainerOptions::ShardOptimizer::kOff
                                                        : TrainerOptions::ShardOptimizer::kAuto;
      validate(spec_);
    } catch (const AgreedError&) {
      throw;  // --init-from's file cannot be read: bad input, not bad usage
    } catch (const Error& e) {
      throw UsageError(message_with_flags(e));
    }

    TableOptions table;
    table.drop_missing = drop_missing_;
    table.delimiter = parse_delimiter(delimiter_);
    Communicator& comm = parallel->comm();
    const bool root = comm.rank() == 0;
    // Before training: an unwritable --json found after the last epoch would cost the whole run.
    check_output_paths(comm, {{"--data", data_}, {"--resume", spec_.checkpoint.resume}},
                       {{"--json", json_, "JSON file"},
                        {"--report", report_, "report file"},
                        {"--save", save_, "model file"},
                        {"--checkpoint", spec_.checkpoint.path, "checkpoint", "--resume"}});
    Context ctx;
    ctx.threads = threads_;
    ctx.strata = strata_;
    ctx.communicator = &comm;
    table.shard_index = std::size_t(comm.rank());
    table.shard_count = std::size_t(comm.size());
    TableReport report;
    Dataset data;
    std::string local_error;
    Error::Kind local_kind = Error::Kind::kData;
    try {
      table.columns = columns_to_load(table);
      data = read_table(test_seam().data_path ? test_seam().data_path(data_, comm.rank()) : data_, table, &report);
    } catch (const Error& e) {
      local_error = e.marked();
      local_kind = e.kind();
    }
    agree_or_throw(comm, local_error, local_kind);
    std::vector<std::int64_t> dropped = {std::int64_t(report.rows_dropped)};
    comm.allreduce(dropped);
    if (dropped[0] > 0 && root)
      fmt::print(stderr, "parafit: dropped {} row(s) with empty, NaN or Inf fields (--drop-missing)\n", dropped[0]);

    ProgressPrinter printer(stderr_is_terminal(), spec_.loss.squared() ? "MSE" : "loss");
    const std::size_t stop_after = test_seam().stop_after_steps;
    std::size_t steps = 0;
    bool warmup_checked = false;
    const TrainResult result = train(std::move(data), spec_, ctx, [&](const TrainProgress& p) {
      if (root && !warmup_checked) warn_if_warmup_outlasts_run(p);
      warmup_checked = true;
      if (root) printer(p);
      if (!p.epoch_end) {
        ++steps;
        if (test_seam().after_step) test_seam().after_step(comm.rank(), steps);
      }
      return stop_after == 0 || steps < stop_after;
    });

    const std::int64_t peak = std::int64_t(peak_rss_bytes());
    std::vector<std::int64_t> peaks(std::size_t(comm.size()));
    comm.allgather<std::int64_t>(std::span(&peak, 1), std::span(peaks));
    if (!root) return result.summary.IsSolutionUsable() ? 0 : 1;
    const std::size_t workers = std::size_t(comm.size()) * std::size_t(ctx.resolved_threads());
    if (workers > result.summary.strata)
      fmt::print(stderr,
                 "parafit: note: {} workers but {} strata: at most {} computed at once (more --strata uses more "
                 "workers; it changes the batches, so the weights too)\n",
                 workers, result.summary.strata, result.summary.strata);
    ReportContext rc{data_, ctx.resolved_threads(), comm.size(), 0, result.summary.collectives,
                     result.summary.collective_bytes, std::vector<double>(peaks.begin(), peaks.end())};
    fmt::print("{}", format_train_summary(result, rc));
    std::fflush(stdout);
    if (!json_.empty()) write_text_file(json_, format_train_json(result, rc), "JSON file");
    if (!report_.empty()) {
      HtmlReportOptions ho;
      ho.subtitle = fmt::format("{} trained on {} ({} training rows) on {} rank(s) x {} thread(s)", spec_.model.name,
                                data_, result.summary.train_rows, comm.size(), ctx.resolved_threads());
      ho.text_summary = format_train_summary(result, rc);
      write_text_file(report_, train_report_html(result, ho), "report file");
    }
    if (!save_.empty()) {
      if (result.summary.termination == Termination::kUserStopped) {
        fmt::print(stderr, "parafit: model not saved to '{}': training was interrupted\n", save_);
      } else if (result.mlp) {
        save_mlp_file(save_, *result.mlp);
      } else {
        save_model_file(save_, saved_model_from(result));
      }
      if (result.summary.termination == Termination::kDiverged)
        fmt::print(stderr, "parafit: saved the last good weights to '{}' (training diverged)\n", save_);
    }
    return result.summary.IsSolutionUsable() ? 0 : 1;
  }

 private:
  // A flag that the chosen model or optimizer never reads is a mistake in the command line: it is
  // refused (exit 2) rather than silently ignored.
  void refuse_options_that_do_nothing() const {
    const std::string& model = spec_.model.name;
    const std::string& optimizer = spec_.optimizer.name;
    const bool mlp = is_mlp_name(model);
    for (const char* flag : {"--momentum", "--nesterov"})
      if (app->count(flag) > 0 && optimizer != "sgd")
        throw UsageError(fmt::format("{} is for --optimizer sgd; --optimizer {} does not use it", flag, optimizer));
    if (app->count("--activation") > 0 && !mlp)
      throw UsageError(fmt::format("--activation is for MLP models (mlp:W1,W2,...); model '{}' has no hidden layers",
                                   model));
    if (app->count("--start") > 0 && mlp)
      throw UsageError("--start is for built-in and formula models; an MLP's weights start at random (set --seed)");
    if (app->count("--warmup") > 0 && optimizer == "lbfgs")
      throw UsageError("--warmup is for the mini-batch optimizers (sgd, adam, adamw); lbfgs takes no learning rate");
  }

  // --debug-slow-rank R:F: a rank R >= 0 and a factor F in [1, 1000] (checked by the library).
  void parse_slow_rank(const std::string& text) {
    const auto colon = text.find(':');
    const auto bad = [&] {
      return UsageError(fmt::format("--debug-slow-rank '{}': expected R:F, a rank and a slow-down factor (e.g. 1:2)",
                                    printable(text)));
    };
    if (colon == std::string::npos) throw bad();
    const std::string r = text.substr(0, colon), f = text.substr(colon + 1);
    int rank = -1;
    const auto [rend, rec] = std::from_chars(r.data(), r.data() + r.size(), rank);
    if (rec != std::errc() || rend != r.data() + r.size() || r.empty() || rank < 0) throw bad();
    double factor = 0;
    const auto [fend, fec] = fast_float::from_chars(f.data(), f.data() + f.size(), factor);
    if (fec != std::errc() || fend != f.data() + f.size() || f.empty()) throw bad();
    spec_.trainer.debug_slow_rank = rank;
    spec_.trainer.debug_slow_factor = factor;
  }

  // A warm-up longer than the run is allowed (the run is still valid, e.g. a short trial of a long
  // schedule), but the learning rate never reaches --lr: said once, on the first step.
  void warn_if_warmup_outlasts_run(const TrainProgress& p) const {
    const std::uint64_t warmup = spec_.optimizer.schedule.warmup_steps;
    const std::uint64_t steps = std::uint64_t(p.steps_per_epoch) * p.epochs;
    if (spec_.optimizer.is_step_optimizer() && warmup > steps && steps > 0)
      fmt::print(stderr,
                 "parafit: warning: --warmup {} is longer than the whole run ({} steps: {} epochs x {}); the learning "
                 "rate never reaches --lr {}\n",
                 warmup, steps, p.epochs, p.steps_per_epoch, spec_.optimizer.learning_rate);
  }

  // The columns training reads, so that other columns of the file are never parsed.
  std::vector<std::string> columns_to_load(const TableOptions& table) const {
    std::vector<std::string> columns;
    const TrainModelOptions& m = spec_.model;
    if (is_mlp_name(m.name)) {
      parse_mlp_hidden(m.name);
      if (m.x.empty()) return {};  // every column: the inputs are all but the response
      columns = m.x;
    } else if (looks_like_formula(m.name)) {
      const CompiledFormula cf = compile_formula({m.name, read_table_columns(data_, table), m.params, m.x});
      columns = cf.inputs;
      if (cf.response) {  // "log(y) ~ ...": the response is computed from these columns
        for (const auto& c : cf.response_columns)
          if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
        return columns;
      }
    } else {
      model_flag_checked([&] { make_builtin_model(m.name); });
      columns = m.x.empty() ? std::vector<std::string>{"x"} : m.x;
    }
    if (std::find(columns.begin(), columns.end(), m.y) == columns.end()) columns.push_back(m.y);
    return columns;
  }

  TrainSpec spec_;
  std::string loss_ = "squared", report_;
  std::string data_, x_, json_, save_, init_from_, delimiter_, activation_ = "tanh", precision_ = "float32",
                                                   schedule_ = "constant", shard_ = "auto", sync_ = "sync",
                                                   slow_rank_, schedule_pipeline_ = "1f1b";
  std::vector<std::string> start_, params_;
  double weight_decay_ = 0;
  std::size_t servers_ = 1;
  int threads_ = 0;
  std::size_t strata_ = Context{}.strata;
  bool drop_missing_ = false;
};

}  // namespace

std::unique_ptr<Command> add_train_command(CLI::App& parent) { return std::make_unique<TrainCommand>(parent); }

}  // namespace parafit::cli
