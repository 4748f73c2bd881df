// The subcommands of `parafit`. Each registers its options on the parent app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "parallel_run.h"

namespace parafit::cli {

class Command {
 public:
  virtual ~Command() = default;
  // Runs the command after its options were parsed; returns the exit code. Throws parafit::Error
  // (exit 1) or UsageError (exit 2).
  virtual int run() = 0;
  // Whether every rank of an mpirun job runs the command (fit), or only rank 0 (the rest).
  virtual bool runs_on_every_rank() const { return false; }
  CLI::App* app = nullptr;
  ParallelRun* parallel = nullptr;  // set by main before run()
  std::optional<double> rank_timeout;  // --rank-timeout, for the commands every rank runs
};

std::unique_ptr<Command> add_fit_command(CLI::App& parent);
std::unique_ptr<Command> add_batch_command(CLI::App& parent);
std::unique_ptr<Command> add_predict_command(CLI::App& parent);
std::unique_ptr<Command> add_gen_command(CLI::App& parent);
std::unique_ptr<Command> add_models_command(CLI::App& parent);
std::unique_ptr<Command> add_convert_command(CLI::App& parent);
std::unique_ptr<Command> add_train_command(CLI::App& parent);

}  // namespace parafit::cli
