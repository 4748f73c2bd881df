// The HTML report of a batch of fits: status counts, quartiles and histograms of the estimates and
// the cost.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "parafit/html_report.h"
#include "report/html_page.h"

namespace parafit {
namespace {

using detail::Chart;
using detail::ChartRows;
using detail::cell;
using detail::escape_html;

// A histogram of the finite values over [q(0.005), q(0.995)] of them in `bins` bins: a few wild
// estimates would otherwise squeeze every other into one bin. What lies outside is counted in the
// caption, never dropped silently.
Chart histogram(std::vector<double> values, const std::string& name, std::size_t total, std::size_t bins = 60) {
  Chart chart;
  chart.title = "Histogram of " + name;
  chart.xlabel = name;
  chart.ylabel = "fits";
  chart.labels = {name, "fits"};
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  if (values.empty()) {
    chart.caption = "No finite values.";
    return chart;
  }
  std::sort(values.begin(), values.end());
  const auto quantile = [&](double p) { return values[std::size_t(p * double(values.size() - 1))]; };
  double lo = quantile(0.005), hi = quantile(0.995);
  if (!(hi > lo)) {
    lo = values.front();
    hi = values.back();
  }
  if (!(hi > lo)) {  // every value the same
    lo -= 0.5 * std::max(1.0, std::abs(lo));
    hi = 2 * values.front() - lo;
  }
  std::vector<std::size_t> counts(bins, 0);
  std::size_t below = 0, above = 0;
  const double width = (hi - lo) / double(bins);
  for (const double v : values) {
    if (v < lo) {
      ++below;
    } else if (v > hi) {
      ++above;
    } else {
      ++counts[std::min(bins - 1, std::size_t((v - lo) / width))];
    }
  }
  // A step plot: each bin's count from its left edge; the last edge closes the last step.
  ChartRows rows(1, false);
  for (std::size_t b = 0; b < bins; ++b) rows.add(lo + width * double(b), 0, double(counts[b]));
  rows.add(hi, 0, double(counts.back()));
  chart.rows = rows.rows();
  chart.options = {{"stepPlot", true}, {"fillGraph", true}, {"fillAlpha", 0.4}, {"colors", {"#4c72b0"}},
                   {"includeZero", true}};
  chart.caption = fmt::format("{} finite value(s) of {} fits, in {} bins over [{}, {}]", values.size(), total, bins,
                              cell(lo), cell(hi));
  if (below + above > 0) chart.caption += fmt::format("; {} below and {} above that range are not drawn", below, above);
  chart.caption += ".";
  return chart;
}

}  // namespace

std::string batch_report_html(const BatchResult& r, const HtmlReportOptions& options) {
  detail::HtmlPage page(options.title.empty() ? "parafit batch" : options.title);
  if (!options.subtitle.empty()) page.html("<p class=\"sub\">" + escape_html(options.subtitle) + "</p>\n");
  page.heading("Summary");
  page.html("<p>" + escape_html(r.summary_line()) + "</p>\n");
  const auto counts = r.counts();
  std::vector<std::vector<std::string>> rows;
  for (std::size_t s = 0; s < kBatchStatusCount; ++s)
    rows.push_back({escape_html(to_string(BatchStatus(s))), fmt::format("{}", counts[s]),
                    r.fits() > 0 ? fmt::format("{:.2f}%", 100.0 * double(counts[s]) / double(r.fits())) : "-"});
  page.html(detail::html_table({"Status", "Fits", "Share"}, rows));

  // Median and quartiles of each estimate over the converged fits.
  const std::size_t p = r.parameters;
  std::vector<std::vector<double>> converged(p);
  std::vector<double> cost;
  for (std::size_t k = 0; k < r.fits(); ++k) {
    if (r.status[k] != BatchStatus::kConverged) continue;
    for (std::size_t j = 0; j < p; ++j) converged[j].push_back(r.estimates[k * p + j]);
    cost.push_back(r.cost[k]);
  }
  std::vector<std::vector<std::string>> stats;
  for (std::size_t j = 0; j < p; ++j) {
    std::vector<double> v = converged[j];
    std::erase_if(v, [](double x) { return !std::isfinite(x); });
    std::sort(v.begin(), v.end());
    const auto q = [&](double f) { return v.empty() ? std::nan("") : v[std::size_t(f * double(v.size() - 1))]; };
    stats.push_back({escape_html(r.parameter_names[j]), cell(q(0.25)), cell(q(0.5)), cell(q(0.75)), cell(q(0)),
                     cell(q(1))});
  }
  page.html(detail::html_table({"Parameter (converged fits)", "Lower quartile", "Median", "Upper quartile", "Minimum",
                                "Maximum"},
                               stats));
  if (!options.text_summary.empty())
    page.html("<details><summary>Full text summary</summary><pre>" + escape_html(options.text_summary) +
              "</pre></details>\n");
  page.heading("Estimates of the converged fits");
  page.html("<div class=\"grid2\">\n");
  for (std::size_t j = 0; j < p; ++j) page.chart(histogram(converged[j], r.parameter_names[j], cost.size()));
  page.chart(histogram(cost, "cost (chi-square or deviance)", cost.size()));
  page.html("</div>\n");
  return page.render();
}

}  // namespace parafit
