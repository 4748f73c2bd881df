#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cli_common.h"
#include "parse_messages.h"
#include "commands.h"
#include "io/number_format.h"
#include "output_file.h"
#include "output_paths.h"
#include "parafit/error.h"
#include "parafit/mlp_file.h"
#include "parafit/model_file.h"
#include "parafit/table.h"

namespace parafit::cli {
namespace {

class PredictCommand final : public Command {
 public:
  explicit PredictCommand(CLI::App& parent) {
    app = parent.add_subcommand("predict",
        "Predict with a saved model: fitted values, their standard errors and confidence intervals");
    app->add_option("--model-file", model_file_, "Model saved by 'parafit fit --save' or 'parafit train --save'")->required();
    app->add_option("--data", data_, "CSV file or .npy directory with the model's input column(s)")->required();
    app->add_option("--out", out_, "Output CSV (default: standard output)")->capture_default_str();
    app->add_option("--interval", interval_,
                    "confidence: of the fitted mean (default); prediction: of a new observation at x, adding "
                    "sigma^2 / w to the mean's variance")
        ->capture_default_str()
        ->check(CLI::IsMember({"confidence", "prediction"}));
    app->add_option("--level", level_, "Level of the intervals (default: the fit's --conf-level)")
        ->check(in_range(0.5, 0.999999));
    app->add_option("--weights", weights_,
                    "--interval prediction: a column of the new observations' weights (> 0; variance sigma^2 / w)");
    app->add_option("--threads", threads_, "Worker threads (default: all cores)")->check(in_range(1, 4096));
    app->add_flag("--drop-missing", drop_missing_, "Drop rows with empty, NaN or Inf inputs instead of failing");
  }

  int run() override {
    check_output_paths({{"--model-file", model_file_}, {"--data", data_}}, {{"--out", out_}});
    // An MLP predicts values only: it has no covariance to give standard errors.
    if (is_mlp_model_file(model_file_)) {
      if (app->count("--interval") + app->count("--level") + app->count("--weights") > 0)
        throw UsageError("--interval, --level and --weights: an MLP's predictions have no standard errors, so "
                         "no intervals");
      const MlpModel mlp = load_mlp_file(model_file_);
      const Dataset data = read_inputs(mlp.inputs);
      const std::vector<double> fit = mlp.predict(data, context());
      for (std::size_t i = 0; i < fit.size(); ++i)
        if (!std::isfinite(fit[i]))
          throw Error(placed(fmt::format("cannot predict at data row {}: the fitted value is {} (the "
                                         "network overflows there)",
                                         i + 1, std::isnan(fit[i]) ? "NaN" : fmt::format("{}", fit[i]))));
      write(mlp.inputs, data, "fit", [&](fmt::memory_buffer& buf, std::size_t i) {
        fmt::format_to(std::back_inserter(buf), "{}", fit[i]);
      });
      return 0;
    }
    if (!weights_.empty() && interval_ != "prediction")
      throw UsageError("--weights weighs new observations: it goes with --interval prediction");
    const SavedModel saved = load_model_file(model_file_);
    std::vector<std::string> columns = saved.inputs;
    if (!weights_.empty() && std::find(columns.begin(), columns.end(), weights_) == columns.end())
      columns.push_back(weights_);
    const Dataset data = read_inputs(columns);
    PredictOptions options;
    options.interval = interval_ == "prediction" ? IntervalKind::kPrediction : IntervalKind::kConfidence;
    options.level = level_;
    if (!weights_.empty()) options.weights = data.column(weights_);
    Predictions pred;
    try {
      pred = predict(saved, data, context(), options);
    } catch (const Error& e) {
      throw Error(placed(e.marked()), e.kind());
    }
    const std::string level = detail::percent(pred.level, detail::decimals_of(pred.level));
    if (options.interval == IntervalKind::kPrediction) {
      write(saved.inputs, data, fmt::format("fit,se_fit,se_pred,lwr{0},upr{0}", level),
            [&](fmt::memory_buffer& buf, std::size_t i) {
              fmt::format_to(std::back_inserter(buf), "{},{},{},{},{}", pred.fit[i], pred.se_fit[i], pred.se_pred[i],
                             pred.lower[i], pred.upper[i]);
            });
      return 0;
    }
    write(saved.inputs, data, fmt::format("fit,se_fit,lwr{0},upr{0}", level),
          [&](fmt::memory_buffer& buf, std::size_t i) {
            fmt::format_to(std::back_inserter(buf), "{},{},{},{}", pred.fit[i], pred.se_fit[i], pred.lower[i],
                           pred.upper[i]);
          });
    return 0;
  }

 private:
  Dataset read_inputs(const std::vector<std::string>& inputs) {
    table_.columns = inputs;
    table_.drop_missing = drop_missing_;
    return read_table(data_, table_, &report_);
  }

  // A message naming "data row N" gets the row's file:line.
  std::string placed(const std::string& message) const {
    return place_data_row(message, data_, table_, report_.rows_dropped);
  }

  Context context() const {
    Context ctx;
    ctx.threads = threads_;
    return ctx;
  }

  // The CSV: the input columns, then what `row` writes for each row under the header `columns`.
  template <class Row>
  void write(const std::vector<std::string>& inputs, const Dataset& data, const std::string& columns,
             const Row& row) const {
    OutputFile out(out_);
    fmt::memory_buffer buf;
    for (const auto& name : inputs) fmt::format_to(std::back_inserter(buf), "{},", name);
    fmt::format_to(std::back_inserter(buf), "{}\n", columns);
    for (std::size_t i = 0; i < data.rows(); ++i) {
      for (std::size_t k = 0; k < inputs.size(); ++k) fmt::format_to(std::back_inserter(buf), "{},", data.column(k)[i]);
      row(buf, i);
      buf.push_back('\n');
      out.flush_if_large(buf);
    }
    out.write(buf);
    out.close();
  }

  std::string model_file_, data_, out_ = "-", interval_ = "confidence", weights_;
  double level_ = 0;
  TableOptions table_;
  TableReport report_;
  int threads_ = 0;
  bool drop_missing_ = false;
};

}  // namespace

std::unique_ptr<Command> add_predict_command(CLI::App& parent) {
  return std::make_unique<PredictCommand>(parent);
}

}  // namespace parafit::cli
