#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "parafit/model.h"

namespace parafit::cli {
namespace {

class ModelsCommand final : public Command {
 public:
  int run() override {
    for (const ModelInfo& m : builtin_models()) {
      fmt::print("{:<18} y ~ {}\n", m.name, m.formula);
      fmt::print("{:<18} parameters: {}\n", "", fmt::join(m.parameters, ", "));
      fmt::print("{:<18} {}\n\n", "", m.description);
    }
    fmt::print("Every model has an analytic Jacobian and self-starting values, so --start is optional.\n");
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> add_models_command(CLI::App& parent) {
  auto cmd = std::make_unique<ModelsCommand>();
  cmd->app = parent.add_subcommand("models", "List the built-in model families with their formulas and parameters");
  return cmd;
}

}  // namespace parafit::cli
