#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <random>

#include "cli_common.h"
#include "parse_messages.h"
#include "commands.h"
#include "output_file.h"
#include "output_paths.h"
#include "parafit/error.h"
#include "parafit/model.h"

namespace parafit::cli {
namespace {

// Uniform and normal variates built from mt19937_64's bits by fixed formulas, so a seed gives the
// same file with every standard library (std::normal_distribution is implementation-defined).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return double(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {                                                  // Box-Muller
    const double u1 = 1.0 - uniform();                               // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 engine_;
};

class GenCommand final : public Command {
 public:
  explicit GenCommand(CLI::App& parent) {
    app = parent.add_subcommand("gen", "Generate synthetic data from a model: x uniform, y = f(x) + noise");
    app->add_option("--model", model_, "Built-in model name (see 'parafit models')")->required();
    add_list_option(*app, "--params", params_, "Every parameter's value, e.g. a=2.5,b=1.3,c=0.5")->required();
    app->add_option("--rows", rows_, "Number of rows")->required()->check(in_range(1, double(std::size_t{1} << 40)));
    app->add_option("--x-range", x_range_, "Range of x, lo:hi")->capture_default_str();
    app->add_option("--noise", noise_, "Standard deviation of the Gaussian noise added to y")
        ->capture_default_str()->check(in_range(0, std::numeric_limits<double>::infinity()));
    app->add_option("--seed", seed_, "Random seed (same seed, same file)")->capture_default_str();
    app->add_option("--out", out_, "Output CSV ('-' for standard output)")->required();
  }

  int run() override {
    std::unique_ptr<Model> model;
    model_flag_checked([&] { model = make_builtin_model(model_); });
    const auto [lo, hi] = parse_range(x_range_, "--x-range");
    const auto& names = model->parameter_names();
    std::vector<double> theta(names.size());
    std::vector<bool> given(names.size(), false);
    for (const auto& [name, value] : parse_assignments(params_, "--params")) {
      const auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end())
        throw UsageError(fmt::format("--params: model '{}' has no parameter '{}'; its parameters are: {}",
                                     model->name(), name, fmt::join(names, ", ")));
      theta[std::size_t(it - names.begin())] = value;
      given[std::size_t(it - names.begin())] = true;
    }
    for (std::size_t j = 0; j < names.size(); ++j)
      if (!given[j])
        throw UsageError(fmt::format("--params: no value for parameter '{}' of model '{}'", names[j],
                                     model->name()));

    check_output_paths({}, {{"--out", out_}});
    Random rng(seed_);
    OutputFile out(out_);
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), "x,y\n");
    constexpr std::size_t kBlock = 4096;
    std::vector<double> x(kBlock), f(kBlock);
    for (std::size_t b = 0; b < rows_; b += kBlock) {
      const std::size_t n = std::min(kBlock, rows_ - b);
      for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * rng.uniform();
      const double* inputs[] = {x.data()};
      model->evaluate(theta.data(), RowBlock{n, inputs}, f.data(), nullptr, 0);
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(f[i]))
          throw Error(fmt::format("model '{}' is not finite at x = {} with these --params; choose "
                                  "another --x-range",
                                  model->name(), x[i]));
        const double y = f[i] + (noise_ > 0 ? noise_ * rng.normal() : 0.0);
        fmt::format_to(std::back_inserter(buf), "{},{}\n", x[i], y);
      }
      out.flush_if_large(buf);
    }
    out.write(buf);
    out.close();
    return 0;
  }

 private:
  std::string model_, x_range_ = "0:10", out_;
  std::vector<std::string> params_;
  std::size_t rows_ = 0;
  double noise_ = 0;
  std::uint64_t seed_ = 1;
};

}  // namespace

std::unique_ptr<Command> add_gen_command(CLI::App& parent) { return std::make_unique<GenCommand>(parent); }

}  // namespace parafit::cli
