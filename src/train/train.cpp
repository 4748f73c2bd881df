// train(): the Trainer's loop with a callback (parafit/train.h), and the summary's reports.
#include "parafit/train.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/thread_communicator.h"
#include "parafit/trainer.h"

namespace parafit {

bool TrainSummary::IsSolutionUsable() const {
  return termination == Termination::kCompleted || termination == Termination::kEarlyStopped;
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

namespace {

TrainResult train_loop(Dataset local, const TrainSpec& spec, const Context& context, const TrainCallback& callback) {
  Trainer trainer(std::move(local), spec, context);
  trainer.Init();
  while (trainer.running()) {
    while (trainer.Step())
      if (callback && !callback(trainer.progress())) trainer.Stop();
    if (!trainer.running()) break;
    trainer.EndEpoch();
    if (callback && !callback(trainer.progress())) trainer.Stop();
  }
  return trainer.Finish();
}

// Local SGD on the threads of one process: each thread is a worker — a rank of an in-process
// ThreadGroup, with one thread of its own — and the rows start on worker 0 (the Trainer deals them
// out). The callback runs on worker 0. The workers step apart between averages, so a stop it asks
// for mid-epoch cannot take effect at one step on all of them: it ends the run at that epoch's
// end, where every worker learns of it in one all-reduce.
TrainResult train_local_sgd_on_threads(Dataset local, const TrainSpec& spec, const Context& context,
                                       const TrainCallback& callback) {
  const int workers = context.resolved_threads();
  const std::vector<std::string> names = local.names();
  TrainResult result;
  // No timeout: in one process a worker cannot hang without the others (a slow callback on worker
  // 0 is not a failure).
  ThreadGroup group(workers, std::chrono::milliseconds(0));
  group.run([&](Communicator& comm) {
    Dataset mine;
    if (comm.rank() == 0) {
      mine = std::move(local);
    } else {
      for (const std::string& name : names) mine.add_column(name, {});
    }
    Context ctx = context;
    ctx.threads = 1;
    ctx.communicator = &comm;
    bool asked = false;
    TrainResult r = train_loop(std::move(mine), spec, ctx, [&](const TrainProgress& p) {
      if (comm.rank() == 0 && callback && !callback(p)) asked = true;
      if (!p.epoch_end) return true;
      std::vector<std::int64_t> stop = {asked ? 1 : 0};
      comm.allreduce(stop, ReduceOp::kMax);
      return stop[0] == 0;
    });
    if (comm.rank() == 0) result = std::move(r);
  });
  return result;
}

}  // namespace

TrainResult train(Dataset local, const TrainSpec& spec, const Context& context, const TrainCallback& callback) {
  if (spec.trainer.sync.mode == TrainerOptions::Sync::Mode::kLocalSgd &&
      (context.communicator == nullptr || context.communicator->size() == 1) && context.resolved_threads() > 1)
    return train_local_sgd_on_threads(std::move(local), spec, context, callback);
  return train_loop(std::move(local), spec, context, callback);
}

}  // namespace parafit
