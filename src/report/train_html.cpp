// The HTML report of a training run: summary, loss per epoch, samples/s.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "parafit/html_report.h"
#include "report/html_page.h"

namespace parafit {

using detail::Chart;
using detail::ChartRows;
using detail::cell;
using detail::escape_html;

std::string train_report_html(const TrainResult& r, const HtmlReportOptions& options) {
  const TrainSummary& s = r.summary;
  const bool lbfgs = !r.spec.optimizer.is_step_optimizer();
  const bool robust = !r.spec.loss.squared();
  const std::string measure = robust ? "mean loss (" + r.spec.loss.name() + ")" : "MSE";
  detail::HtmlPage page(options.title.empty() ? "parafit train: " + r.spec.model.name : options.title);
  if (!options.subtitle.empty()) page.html("<p class=\"sub\">" + escape_html(options.subtitle) + "</p>\n");
  page.heading("Summary");
  std::vector<std::vector<std::string>> rows = {
      {"Model", escape_html(r.mlp     ? r.mlp->description()
                            : r.curve ? r.curve->name() + ": " + r.curve->formula()
                                      : r.spec.model.name)},
      {"Optimizer", escape_html(r.spec.optimizer.name)},
      {"Loss", escape_html(r.spec.loss.name())},
      {"Termination", escape_html(to_string(s.termination)) + (s.message.empty() ? "" : ": " + escape_html(s.message))},
      {"Epochs / steps", fmt::format("{} / {}", s.epochs, s.steps)},
      {"Rows", fmt::format("{} training, {} validation", s.train_rows, s.validation_rows)},
      {"Final MSE", "training " + cell(s.final_train_mse) + ", validation " + cell(s.final_validation_mse)},
      {"Throughput", fmt::format("{:.0f} samples/s", s.samples_per_second)},
  };
  if (robust)
    rows.insert(rows.begin() + 7,
                {"Final mean loss", "training " + cell(s.final_train_loss) + ", validation " +
                                        cell(s.final_validation_loss)});
  page.html(detail::html_table({"", ""}, rows));
  if (r.curve) {
    std::vector<std::vector<std::string>> params;
    for (std::size_t j = 0; j < r.parameters.size(); ++j)
      params.push_back({escape_html(r.parameter_names[j]), cell(r.parameters[j])});
    page.html(detail::html_table({"Parameter", "Estimate"}, params));
  }
  if (!options.text_summary.empty())
    page.html("<details><summary>Full text summary</summary><pre>" + escape_html(options.text_summary) +
              "</pre></details>\n");

  page.heading("Training");
  const std::string step = lbfgs ? "iteration" : "epoch";
  ChartRows losses(2, false);
  bool positive = true;
  for (const EpochRecord& e : s.history) {
    losses.add(double(e.epoch), 0, e.train_loss);
    losses.add(double(e.epoch), 1, e.validation_loss);
    positive = positive && e.train_loss > 0 && (std::isnan(e.validation_loss) || e.validation_loss > 0);
  }
  Chart loss;
  loss.title = "Training and validation " + measure + " per " + step;
  loss.xlabel = step;
  loss.ylabel = measure;
  loss.labels = {step, "training", "validation"};
  loss.rows = losses.rows();
  loss.options = {{"drawPoints", true}, {"pointSize", 2.5}, {"colors", {"#4c72b0", "#dd8452"}}, {"logscale", positive}};
  loss.caption = (lbfgs ? "L-BFGS: the full-batch cost after each iteration (no validation pass)."
                        : "Training: the mean over the epoch's batches, at the weights of each step. Validation: "
                          "over the held-out rows at the epoch's end.") +
                 std::string(s.validation_rows == 0 && !lbfgs ? " No validation split (--val-split)." : "") +
                 " Response units.";
  page.chart(std::move(loss));

  // Samples per second per epoch: the training rows over the epoch's wall time (L-BFGS: the rows of
  // the iteration's evaluations over its time; its records hold running totals).
  ChartRows speed(1, false);
  double previous_seconds = 0;
  std::size_t previous_steps = 0;
  for (const EpochRecord& e : s.history) {
    const double seconds = lbfgs ? e.seconds - previous_seconds : e.seconds;
    const double samples =
        lbfgs ? double(e.steps - previous_steps) * double(s.train_rows) : double(s.train_rows);
    if (seconds > 0) speed.add(double(e.epoch), 0, samples / seconds);
    previous_seconds = e.seconds;
    previous_steps = e.steps;
  }
  Chart throughput;
  throughput.title = "Samples per second per " + step;
  throughput.xlabel = step;
  throughput.ylabel = "samples/s";
  throughput.labels = {step, "samples/s"};
  throughput.rows = speed.rows();
  throughput.options = {{"drawPoints", true}, {"pointSize", 2.5}, {"colors", {"#55a868"}}, {"includeZero", true},
                        {"labelsKMB", true}};
  throughput.caption = fmt::format("Over the whole run: {:.0f} samples/s ({} samples in {:.3f} s of training steps). "
                                   "Per {}: its wall time, validation included.",
                                   s.samples_per_second, s.samples, s.seconds, step);
  page.chart(std::move(throughput));
  return page.render();
}

}  // namespace parafit
