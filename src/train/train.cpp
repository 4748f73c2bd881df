// train(): the Trainer's loop with a callback (parafit/train.h), and the summary's reports.
#include "parafit/train.h"

#include <fmt/format.h>

#include <cmath>

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

TrainResult train(Dataset local, const TrainSpec& spec, const Context& context, const TrainCallback& callback) {
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

}  // namespace parafit
