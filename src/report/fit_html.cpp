// The HTML report of a fit: summary tables, data and curve with bands, residual plots, Q-Q plot,
// cost per iteration.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "parafit/diagnostics.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/html_report.h"
#include "parafit/model_file.h"
#include "report/decimate.h"
#include "report/html_page.h"

namespace parafit {
namespace {

using detail::Chart;
using detail::ChartRows;
using detail::Points;
using detail::cell;
using detail::escape_html;

const nlohmann::json kScatter = {{"drawPoints", true}, {"strokeWidth", 0.0}, {"pointSize", 1.5}};

std::string sample_note(const Points& p) {
  if (!p.decimated) return fmt::format("All {} rows.", p.rows);
  return fmt::format("{} rows, drawn as a sample of {} (a hash of the row number picks them: the same for any number "
                     "of ranks) and the {} points of least and greatest value in each pixel column.",
                     p.rows, p.sampled, p.x.size() - p.sampled);
}

std::string parameter_table(const FitResult& fit) {
  const FitStatistics& st = fit.statistics;
  std::vector<std::vector<std::string>> rows;
  for (const ParameterEstimate& p : st.parameters)
    rows.push_back({escape_html(p.name), cell(p.estimate), cell(p.std_error), cell(p.t_value),
                    std::isnan(p.p_value) ? "-" : (p.p_value < 1e-16 ? "&lt;1e-16" : fmt::format("{:.3g}", p.p_value)),
                    cell(p.ci_lower), cell(p.ci_upper),
                    p.fixed ? "fixed" : (p.at_bound ? "at a bound" : "")});
  const std::string level = fmt::format("{:g}%", 100 * st.confidence_level);
  const std::string method = st.ci_method == "profile" ? "profile" : "Wald";
  return detail::html_table({"Parameter", "Estimate", "Std. error", "t value", "Pr(&gt;|t|)",
                             level + " " + method + " lower", level + " " + method + " upper", ""},
                            rows);
}

std::string statistics_table(const FitResult& fit) {
  const FitStatistics& st = fit.statistics;
  const LevenbergMarquardtSummary& s = fit.summary;
  std::vector<std::vector<std::string>> rows = {
      {"Termination", escape_html(to_string(s.termination)) + (s.message.empty() ? "" : ": " + escape_html(s.message))},
      {"Observations", fmt::format("{}", st.observations)},
      {"Residual standard error", cell(st.sigma) + fmt::format(" on {:g} degrees of freedom", st.df)},
      {"R&sup2; / adjusted R&sup2;", cell(st.r_squared) + " / " + cell(st.adj_r_squared)},
      {"Loss", escape_html(st.loss) + (st.loss == "squared" ? "" : " (sum of rho " + cell(st.loss_cost) + ")")},
      {"Covariance", escape_html(st.covariance_kind)},
      {"AIC / BIC", cell(st.aic) + " / " + cell(st.bic)},
      {"Iterations", fmt::format("{} ({} accepted), {} function evaluations", s.iterations, s.accepted_iterations,
                                 s.function_evaluations)},
  };
  return detail::html_table({"Statistic", "Value"}, rows);
}

// The fitted curve and its bands on a grid over [lo, hi] (a model of one input).
struct Curve {
  std::vector<double> x, fit, conf_lo, conf_hi, pred_lo, pred_hi;
  double level = 0;
  std::string why_no_bands;  // set when the bands could not be computed
};

Curve curve_on_grid(const FitResult& fit, double lo, double hi, std::size_t points) {
  Curve c;
  Dataset grid;
  std::vector<double> x(points);
  for (std::size_t i = 0; i < points; ++i)
    x[i] = points == 1 ? lo : lo + (hi - lo) * double(i) / double(points - 1);
  grid.add_column(fit.inputs.front(), x);
  const SavedModel saved = saved_model_from(fit);
  try {
    PredictOptions want;
    want.interval = IntervalKind::kConfidence;
    const Predictions conf = predict(saved, grid, Context{.threads = 1}, want);
    want.interval = IntervalKind::kPrediction;
    const Predictions pred = predict(saved, grid, Context{.threads = 1}, want);
    c.x = x;
    c.fit = conf.fit;
    c.conf_lo = conf.lower;
    c.conf_hi = conf.upper;
    c.pred_lo = pred.lower;
    c.pred_hi = pred.upper;
    c.level = conf.level;
    return c;
  } catch (const Error& e) {
    c.why_no_bands = e.what();
  }
  // Without standard errors: the curve alone, where it is finite.
  const double* columns[] = {x.data()};
  std::vector<double> f(points);
  saved.model->evaluate(saved.estimates.data(), RowBlock{points, columns}, f.data(), nullptr, 0);
  c.x = x;
  c.fit = f;
  return c;
}

}  // namespace

std::string fit_report_html(const Dataset& local, const FitResult& fit, const Context& context,
                            const HtmlReportOptions& options) {
  LocalCommunicator alone;
  Communicator& comm = context.communicator != nullptr ? *context.communicator : alone;
  const bool root = comm.rank() == 0;
  detail::HtmlPage page(options.title.empty() ? "parafit fit: " + fit.spec.model : options.title);
  if (!options.subtitle.empty()) page.html("<p class=\"sub\">" + escape_html(options.subtitle) + "</p>\n");
  page.heading("Summary");
  page.html(parameter_table(fit));
  page.html(statistics_table(fit));
  if (!options.text_summary.empty())
    page.html("<details><summary>Full text summary</summary><pre>" + escape_html(options.text_summary) +
              "</pre></details>\n");

  const RowDiagnostics diag = row_diagnostics(local, fit, context);  // collective
  const std::size_t first_row = row_layout(comm, local.rows()).offset;
  const detail::Decimation how{options.columns, options.all_points, options.sample_points};
  const std::size_t inputs = fit.inputs.size();
  if (diag.available) {
    const std::string response = fit.response;
    // Data and the fitted curve.
    page.heading("Data and fit");
    for (std::size_t k = 0; k < inputs; ++k) {
      const auto x = local.column(fit.inputs[k]);
      const Points data = detail::decimate(x, diag.response, comm, first_row, how);
      Chart chart;
      chart.xlabel = fit.inputs[k];
      chart.ylabel = response;
      if (inputs == 1 && !data.x.empty()) {
        const Curve curve = curve_on_grid(fit, data.x.front(), data.x.back(), options.curve_points);
        const bool bands = curve.why_no_bands.empty();
        const std::string pct = fmt::format("{:g}%", 100 * curve.level);
        ChartRows rows(bands ? 3 : 2, bands);
        for (std::size_t i = 0; i < data.x.size(); ++i) rows.add(data.x[i], 0, data.y[i]);
        for (std::size_t i = 0; i < curve.x.size(); ++i) {
          if (bands) {
            rows.add_bands(curve.x[i], {{1, curve.conf_lo[i], curve.fit[i], curve.conf_hi[i]},
                                        {2, curve.pred_lo[i], curve.fit[i], curve.pred_hi[i]}});
          } else {
            rows.add(curve.x[i], 1, curve.fit[i]);
          }
        }
        chart.title = "Data and fitted curve";
        chart.rows = rows.rows();
        if (bands) {
          chart.labels = {fit.inputs[k], "data", "fit, " + pct + " confidence band", pct + " prediction band"};
          chart.options = {{"customBars", true},
                           {"fillAlpha", 0.25},
                           {"colors", {"#4c72b0", "#c44e52", "#dd8452"}},
                           {"series",
                            {{"data", kScatter},
                             {chart.labels[2], {{"strokeWidth", 2.0}}},
                             {chart.labels[3], {{"strokeWidth", 0.5}, {"strokePattern", {4, 4}}}}}}};
          chart.caption = sample_note(data) + fmt::format(
              " The curve is evaluated at {} points; the confidence band is the mean's, the prediction band a new "
              "observation's (weight 1), both by the delta method with Student's t on {:g} df.",
              curve.x.size(), fit.statistics.df);
        } else {
          chart.labels = {fit.inputs[k], "data", "fit"};
          chart.options = {{"colors", {"#4c72b0", "#c44e52"}},
                           {"series", {{"data", kScatter}, {"fit", {{"strokeWidth", 2.0}}}}}};
          chart.caption = sample_note(data) + " No bands: " + curve.why_no_bands;
        }
      } else {
        const Points fitted = detail::decimate(x, diag.fitted, comm, first_row, how);
        ChartRows rows(2, false);
        for (std::size_t i = 0; i < data.x.size(); ++i) rows.add(data.x[i], 0, data.y[i]);
        for (std::size_t i = 0; i < fitted.x.size(); ++i) rows.add(fitted.x[i], 1, fitted.y[i]);
        chart.title = fmt::format("Data and fitted values against {}", fit.inputs[k]);
        chart.labels = {fit.inputs[k], "data", "fitted"};
        chart.rows = rows.rows();
        chart.options = {{"colors", {"#4c72b0", "#c44e52"}}, {"series", {{"data", kScatter}, {"fitted", kScatter}}}};
        chart.caption = sample_note(data) +
                        " With several inputs the fitted values are drawn at the data's rows (no single curve).";
      }
      page.chart(std::move(chart));
    }

    // Residuals.
    page.heading("Residuals");
    const auto residual_chart = [&](std::span<const double> key, const std::string& name, const std::string& title) {
      const Points p = detail::decimate(key, diag.residual, comm, first_row, how);
      ChartRows rows(2, false);
      for (std::size_t i = 0; i < p.x.size(); ++i) rows.add(p.x[i], 0, p.y[i]);
      if (!p.x.empty()) {
        rows.add(p.x.front(), 1, 0.0);
        rows.add(p.x.back(), 1, 0.0);
      }
      Chart chart;
      chart.title = title;
      chart.xlabel = name;
      chart.ylabel = "residual";
      chart.labels = {name, "residual", "zero"};
      chart.rows = rows.rows();
      chart.options = {{"colors", {"#4c72b0", "#888888"}},
                       {"series", {{"residual", kScatter}, {"zero", {{"strokeWidth", 1.0}}}}}};
      chart.caption = sample_note(p) + " Residual = response - fitted.";
      page.chart(std::move(chart));
    };
    residual_chart(diag.fitted, "fitted", "Residuals against fitted values");
    for (std::size_t k = 0; k < inputs; ++k)
      residual_chart(local.column(fit.inputs[k]), fit.inputs[k], "Residuals against " + fit.inputs[k]);

    // Normal Q-Q plot of the standardised residuals.
    const Points qq = detail::normal_qq(diag.standardized, comm, options.qq_points, options.all_points);
    if (!qq.x.empty()) {
      ChartRows rows(2, false);
      for (std::size_t i = 0; i < qq.x.size(); ++i) rows.add(qq.x[i], 0, qq.y[i]);
      rows.add(qq.x.front(), 1, qq.x.front());
      rows.add(qq.x.back(), 1, qq.x.back());
      Chart chart;
      chart.title = "Normal Q-Q plot of the standardised residuals";
      chart.xlabel = "standard normal quantile";
      chart.ylabel = "standardised residual";
      chart.labels = {"normal quantile", "standardised residual", "y = x"};
      chart.rows = rows.rows();
      chart.options = {{"colors", {"#4c72b0", "#888888"}},
                       {"series", {{"standardised residual", kScatter}, {"y = x", {{"strokeWidth", 1.0}}}}}};
      chart.caption =
          qq.decimated
              ? fmt::format("{} rows, drawn at {} quantiles (from a histogram of 65,536 bins; the ends are the "
                            "exact extremes). Standardised residuals are R's rstandard.",
                            qq.rows, qq.x.size())
              : fmt::format("All {} rows. Standardised residuals are R's rstandard.", qq.rows);
      page.chart(std::move(chart));
    }
  } else {
    page.heading("Data and residuals");
    page.html("<p>No per-row plots: J<sup>T</sup>WJ is singular at the estimates, so there are no standard errors, "
              "leverages or standardised residuals.</p>\n");
  }

  // The cost per iteration.
  const std::vector<double>& history = fit.summary.rss_history;
  if (!history.empty()) {
    const bool squared = fit.statistics.loss == "squared";
    const std::string cost = squared ? "RSS" : "sum of rho";
    bool positive = true;
    ChartRows rows(1, false);
    for (std::size_t i = 0; i < history.size(); ++i) {
      rows.add(double(i), 0, history[i]);
      positive = positive && history[i] > 0;
    }
    Chart chart;
    chart.title = "Levenberg-Marquardt: cost per iteration";
    chart.xlabel = "iteration";
    chart.ylabel = cost;
    chart.labels = {"iteration", cost};
    chart.rows = rows.rows();
    chart.options = {{"drawPoints", true}, {"pointSize", 2.5}, {"colors", {"#55a868"}}, {"logscale", positive}};
    chart.caption = fmt::format("The cost at the start (iteration 0) and after each of the {} iterations{}.",
                                history.size() - 1, positive ? "; logarithmic axis" : "");
    page.heading("Convergence");
    page.chart(std::move(chart));
  }
  return root ? page.render() : std::string();
}

}  // namespace parafit
