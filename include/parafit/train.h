// parafit/train.h — mini-batch training (SGD, Adam, AdamW) and full-batch L-BFGS, data-parallel
// on threads and ranks, for MLPs, built-in models and formulas.
//
//   TrainSpec        what to train: model, optimizer, trainer and checkpoint options
//   TrainSummary     why it stopped, the loss history, the reports
//   train()          the whole run, with checkpoints and resume (a loop over parafit::Trainer,
//                    trainer.h, which gives the same run step by step)
//
// Determinism: with the same seed and settings, the weights are the same bits for any number of
// threads and ranks, with or without the sharded optimizer, and a batch b with accumulation K
// follows the same trajectory as a batch K*b without it (when the number of strata divides b).
// How: src/parallel/strata.h and docs/design.md.
//
// Errors name options by their place in TrainSpec ("trainer.batch", "optimizer.learning_rate"; see
// parafit/error.h); the command line shows its flags instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/lbfgs.h"
#include "parafit/loss.h"
#include "parafit/mlp.h"
#include "parafit/model.h"
#include "parafit/optimizer.h"
#include "parafit/termination.h"

namespace parafit {

// The model to train and the columns it reads.
struct TrainModelOptions {
  // "mlp:64,64" (hidden widths), a built-in model name ("exp-decay") or a formula ("a*exp(-b*x)+c").
  std::string name;
  // Input columns. Empty: every column but the response for an MLP; "x" for a built-in model; the
  // columns a formula names.
  std::vector<std::string> x;
  std::string y = "y";
  std::vector<std::string> params;                      // formula parameter names, in order
  std::vector<std::pair<std::string, double>> start;    // curve models: start values (default: self-start)
  // MLP only. tanh suits smooth regression targets; relu/gelu train deeper nets faster.
  Activation activation = Activation::kTanh;
  // MLP only. float32 by default: twice the SIMD width and half the memory traffic of float64, and
  // regression targets standardised to unit variance need no more than float32's 7 digits for SGD
  // (PyTorch trains in float32 too). Master weights and optimizer state stay float64 either way.
  Precision precision = Precision::kFloat32;

  // Fine-tuning: the weights of a trained model to start from, instead of the seeded initialisation
  // (MLP) or the start values and self-start rule (curves); the optimizer state starts fresh. With
  // a checkpoint to resume, its weights win; a fine-tuned MLP's checkpoint records the initial
  // standardisation, so its resume needs the same initial model.
  struct InitialWeights {
    std::vector<double> parameters;  // one per parameter of the model trained
    // MLP: the standardisation the weights were trained in (MlpModel's), kept instead of the
    // training rows'.
    std::vector<double> input_mean, input_scale;
    double y_mean = 0, y_scale = 1;
  };
  std::optional<InitialWeights> initial;

  // True if every option is consistent; otherwise false and *why (if given) names the option.
  bool IsValid(std::string* why = nullptr) const;
};

// How the weights move.
struct OptimizerOptions {
  std::string name = "adam";       // sgd | adam | adamw | lbfgs
  double learning_rate = 1e-3;     // base learning rate (not used by lbfgs)
  SgdOptions sgd;
  AdamOptions adam;                // adam and adamw
  LbfgsOptions lbfgs;
  LearningRateSchedule schedule;   // sgd, adam, adamw

  // Whether `name` is a mini-batch optimizer (sgd, adam, adamw), not lbfgs.
  bool is_step_optimizer() const { return name == "sgd" || name == "adam" || name == "adamw"; }
  bool IsValid(std::string* why = nullptr) const;
};

// Batches, epochs, the data-parallel layout, stopping rules.
struct TrainerOptions {
  std::size_t batch = 256;         // rows per micro-batch (the whole global batch, all workers)
  std::size_t epochs = 10;         // passes over the training rows (lbfgs: ignored)
  std::size_t accumulate = 1;      // micro-batches summed before each optimizer step (mini-batch only)
  // (The strata every batch draws from are the Context's: its determinism unit.)
  double validation_fraction = 0;  // rows held out (a seeded hash of the row index) for validation, in [0, 1)
  std::size_t early_stop = 0;      // stop after this many epochs without a better validation loss (0: off)
  std::uint64_t seed = 1;          // weights, shuffles and the validation split
  // Divergence: a batch loss that is not finite or exceeds this factor (> 1) times the first
  // batch's loss stops training with the last good weights.
  double divergence_factor = 1e6;
  // ZeRO-1 across ranks (sgd, adam, adamw): each rank keeps the optimizer state of, and updates,
  // only its slice of the weights — the gradient is reduce-scattered and the new weights
  // all-gathered. Optimizer memory per rank is about 1/ranks; the weights are the same bits as
  // without it. kAuto shards on more than one rank when the model has at least
  // kShardMinParameters weights (where it measured faster; docs/design.md), never on one rank.
  enum class ShardOptimizer { kAuto, kOff, kOn };
  static constexpr std::size_t kShardMinParameters = 2048;
  ShardOptimizer shard_optimizer = ShardOptimizer::kAuto;

  // How the workers (ranks) combine their work: the gradient-exchange strategy (mini-batch only).
  //   kSync      every step's gradient is summed over all workers (the strata tree): the same
  //              bits for any number of threads and ranks.
  //   kLocalSgd  local SGD (periodic model averaging, Lin et al. 2020): each rank (train() on one
  //              process with several threads: each thread, as an in-process rank) takes optimizer
  //              steps on its own part of every batch (the rows of its strata) with its own
  //              optimizer state; every local_period steps, and at each epoch's end and
  //              checkpoint, the weights are averaged over the ranks, weighted by the rows each
  //              trained on since the last average. The same bits for a fixed number of ranks
  //              (any threads); with local_period 1 and plain SGD it is synchronous SGD up to
  //              rounding.
  //   kHogwild   Hogwild! (Niu et al. 2011) on the threads of one rank: each thread takes whole
  //              optimizer steps — the epoch's next batch, handed out to whichever thread is free,
  //              its gradient at a snapshot of the shared weights, its own optimizer state — and
  //              writes the change into the shared weights without locks. Every batch of an
  //              epoch is used once; one thread is the synchronous run, bit for bit. Not
  //              reproducible with more, by design. Refused on several ranks.
  //   kSsp       a parameter server with Stale Synchronous Parallel (Ho et al. 2013) over MPI:
  //              `servers` ranks hold the weights and optimizer state by parameter ranges, the
  //              other ranks are workers that pull weights, push gradients and may run at most
  //              `staleness` steps ahead of the slowest worker. Staleness 0 is synchronous: the
  //              same bits as kSync. Otherwise not reproducible.
  struct Sync {
    enum class Mode { kSync, kLocalSgd, kHogwild, kSsp };
    Mode mode = Mode::kSync;
    std::size_t local_period = 1;  // H: steps between averages (kLocalSgd)
    bool average_moments = false;  // kLocalSgd: average the optimizer's moments (Adam, momentum) too
    std::size_t staleness = 0;     // S (kSsp)
    std::size_t servers = 1;       // K server ranks (kSsp)
  };
  Sync sync;

  // Tensor (model) parallelism for an MLP (Megatron-LM pairs, model/mlp_tensor.h): each layer pair
  // is split across T ranks, which hold only their slice of the weights and optimizer state and
  // exchange activations twice per pair per step. The ranks form a D x T grid (world rank r is
  // slice r mod T of data position r / T); T must divide the ranks. Synchronous mini-batch
  // training only. The weights agree with T = 1 to rounding (about 1e-12 relative in float64), and
  // for a fixed T are the same bits for any D.
  std::size_t tensor_parallel = 1;

  // Pipeline parallelism for an MLP (GPipe; 1F1B as in PipeDream-Flush): the layers are cut into
  // P stages balanced by multiply-adds, each on its own ranks; every optimizer step's `batch` rows
  // are cut into `micro_batches` M micro-batches that flow through the stages (activations forward,
  // gradients back, by nonblocking send/recv). The ranks form a D x P x T grid (world rank
  // r = (d P + p) T + t); P T must divide the ranks. The weights are the same bits as the whole
  // network trained with batch / M rows and `accumulate` x M micro-batches per step, for either
  // schedule, with or without recomputation. Synchronous mini-batch training only.
  std::size_t pipeline_stages = 1;
  std::size_t micro_batches = 1;  // M (pipeline_stages > 1): batch must be a multiple of M
  enum class PipelineSchedule { k1F1B, kGpipe };
  // GPipe keeps all M micro-batches' activations; 1F1B at most P - p on stage p.
  PipelineSchedule pipeline_schedule = PipelineSchedule::k1F1B;
  bool recompute = false;  // keep only each micro-batch's stage input; recompute the rest in backward

  // A testing aid (straggler): rank debug_slow_rank (under kHogwild: thread debug_slow_rank)
  // sleeps (debug_slow_factor - 1) times its step's compute time after each optimizer step; -1:
  // none.
  int debug_slow_rank = -1;
  double debug_slow_factor = 1;

  bool IsValid(std::string* why = nullptr) const;
};

// "sync", "local:H" (H >= 1), "hogwild" or "ssp:S" (S >= 0) -> TrainerOptions::Sync (the other
// fields at their defaults). Throws parafit::Error (a usage error) naming trainer.sync and the
// text otherwise.
TrainerOptions::Sync parse_sync(std::string_view text);
// The text parse_sync reads for `sync` ("sync", "local:4").
std::string to_string(const TrainerOptions::Sync& sync);

// Checkpoints: the full training state, written atomically, and resuming from one.
struct CheckpointOptions {
  std::string path;        // file to write the state to ("": none)
  std::size_t every = 0;   // optimizer steps between checkpoints (0: at each epoch end)
  std::string resume;      // checkpoint to continue from ("": start afresh)

  bool IsValid(std::string* why = nullptr) const;
};

struct TrainSpec {
  TrainModelOptions model;
  // What training minimises: the mean squared error (the default), or the mean of a robust loss
  // rho(r^2) (parafit/loss.h; its scale in the response's units), which lets outliers pull less.
  // Every loss in the history and summary is then that mean; final_*_mse stay squared errors.
  Loss loss;
  OptimizerOptions optimizer;
  TrainerOptions trainer;
  CheckpointOptions checkpoint;
};

struct EpochRecord {
  std::size_t epoch = 0;            // 1-based
  std::size_t steps = 0;            // optimizer steps so far (whole run)
  // The mean loss per row (squared error, or rho of TrainSpec::loss), response units:
  double train_loss = 0;            // over the epoch's batches
  double validation_loss = 0;       // over the validation rows at the epoch's end; NaN without a split
  double learning_rate = 0;         // at the epoch's last step
  double seconds = 0;               // wall time of the epoch
};

struct TrainSummary {
  // kCompleted, kEarlyStopped, kDiverged, kNotConverged (L-BFGS), kUserStopped.
  Termination termination = Termination::kCompleted;
  std::string message;              // what happened, in a sentence
  std::size_t epochs = 0;           // epochs completed
  std::size_t steps = 0;            // optimizer steps taken
  std::size_t samples = 0;          // rows processed by training steps (all workers)
  // Wall time of this process's optimizer steps and epoch shuffles (not loading, validation or the
  // final MSE passes), and samples/s over it.
  double seconds = 0;
  double samples_per_second = 0;
  std::vector<EpochRecord> history;
  std::size_t train_rows = 0, validation_rows = 0;
  std::size_t strata = 0;           // strata used (Context::strata, or fewer for small data)
  bool sharded_optimizer = false;   // whether ZeRO-1 sharding was used
  // Pipeline parallelism (this rank's stage): the plan (one line per stage), the fraction of the
  // gradient flushes' wall time the stage spent waiting (the bubble), and the most activation memory
  // it held at once.
  std::string pipeline_plan;
  double pipeline_idle_fraction = 0;
  std::size_t pipeline_peak_activation_bytes = 0;
  double final_train_mse = 0;       // over every training row, at the final weights
  double final_validation_mse = 0;  // NaN without a validation split
  // The mean loss (TrainSpec::loss) likewise: the MSE again for squared error.
  double final_train_loss = 0;
  double final_validation_loss = 0;
  std::size_t best_epoch = 0;       // early stopping: the epoch whose weights were kept
  std::size_t resumed_from_step = 0;  // 0 unless resumed
  std::size_t collectives = 0;      // collectives made by the training passes (this rank)
  std::size_t collective_bytes = 0;
  std::size_t optimizer_state_values = 0;  // optimizer state this rank holds (doubles)
  std::string sync = "sync";        // the gradient exchange (to_string(TrainerOptions::Sync))
  // What the result's bits depend on, in words: nothing for sync ("the same bits for any number
  // of threads and ranks"), the number of ranks for local SGD (workers are ranks), and under
  // Hogwild they are not reproducible at all ("none: ...").
  std::string reproducibility;
  std::size_t averages = 0;         // local SGD: weight averages made (whole run)
  // Parameter server: how many steps behind the newest clock the weights of each step were, mean
  // and maximum over every worker's steps (never above the staleness bound S).
  double staleness_mean = 0;
  std::size_t staleness_max = 0;
  // Hogwild: optimizer steps each thread took in this run, by thread (a straggler takes fewer).
  std::vector<std::size_t> thread_steps;
  std::string optimizer_report;     // L-BFGS: its own full report

  std::string BriefReport() const;
  std::string FullReport() const;
  bool IsSolutionUsable() const;
};

struct TrainResult {
  TrainSpec spec;
  std::vector<std::string> inputs;     // input columns, in order
  std::string response;
  std::vector<std::string> response_columns;  // columns the response is computed from
  // Exactly one of these holds the trained model.
  std::shared_ptr<const MlpModel> mlp;
  std::shared_ptr<const Model> curve;
  std::vector<double> parameters;      // curve models: the estimates (MLP: in mlp)
  std::vector<std::string> parameter_names;
  std::size_t num_parameters = 0;
  TrainSummary summary;
};

// Where a run is, after each optimizer step and at each epoch's end.
struct TrainProgress {
  std::size_t epoch = 0, epochs = 0;      // 1-based epoch
  std::size_t step = 0, steps_per_epoch = 0;  // step within the epoch, 1-based
  std::size_t global_step = 0;            // optimizer steps in the whole run
  double loss = 0;                        // running mean over the epoch so far (response units)
  double samples_per_second = 0;
  double eta_seconds = 0;
  bool epoch_end = false;                 // the epoch's last call, with validation_loss set
  double validation_loss = 0;
};
// Called on every rank after each step and at each epoch's end; returning false stops the run
// (Termination::kUserStopped). Under several ranks it must return the same on every rank.
using TrainCallback = std::function<bool(const TrainProgress&)>;

// Trains on `local`, this rank's rows. Under several ranks (context.communicator) the rows are
// first moved between neighbouring ranks so that each holds whole strata. Throws parafit::Error for
// bad input (unknown column, bad spec, a checkpoint that does not match), identically on every rank.
TrainResult train(Dataset local, const TrainSpec& spec, const Context& context = {},
                  const TrainCallback& callback = {});

// Checks a spec without data (option combinations, ranges); throws parafit::Error naming the option.
void validate(const TrainSpec& spec);

}  // namespace parafit
