#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "io/number_format.h"
#include "parafit/report.h"

namespace parafit {
namespace {

using detail::sig;

// Lays out rows of cells as right-aligned columns (the first column left-aligned).
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c == 0) line += fmt::format("{:<{}}", row[c], width[c]);
      else line += fmt::format("  {:>{}}", row[c], width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string format_summary(const FitResult& fit, const ReportContext& ctx) {
  const FitStatistics& st = fit.statistics;
  const LevenbergMarquardtSummary& sm = fit.summary;
  std::string out;
  if (fit.model->name() == fit.model->formula() || fit.model->name().find('~') != std::string::npos)
    out += fmt::format("Model: {} ~ {}\n", fit.response, fit.model->formula());
  else
    out += fmt::format("Model: {}    {} ~ {}\n", fit.model->name(), fit.response, fit.model->formula());
  out += fmt::format("Data:  {}{} observations", ctx.data_source.empty() ? "" : ctx.data_source + ", ",
                     st.observations);
  out += fmt::format(" (x: {}, y: {}{})\n\n", fmt::join(fit.inputs, ","), fit.response,
                     fit.spec.weights.empty() ? "" : ", weights: " + fit.spec.weights);

  const int decimals = detail::decimals_of(st.confidence_level) + 1;
  const std::string level = detail::percent((1 - st.confidence_level) / 2, decimals);
  const std::string level_hi = detail::percent((1 + st.confidence_level) / 2, decimals);
  std::vector<std::vector<std::string>> rows = {
      {"", "Estimate", "Std. Error", "t value", "Pr(>|t|)", "", level + " %", level_hi + " %"}};
  bool any_note = false;
  for (const auto& pe : st.parameters) {
    std::string note;
    if (pe.fixed) note = "(fixed)";
    else if (pe.at_bound) note = "(at bound)";
    any_note |= !note.empty();
    rows.push_back({pe.name, sig(pe.estimate, 7), sig(pe.std_error, 4), sig(pe.t_value, 4),
                    detail::p_value(pe.p_value), note.empty() ? detail::stars(pe.p_value) : note,
                    sig(pe.ci_lower, 7), sig(pe.ci_upper, 7)});
  }
  out += "Parameters:\n" + table(rows);
  out += "---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n";
  if (any_note) out += "Fixed parameters and parameters held at a bound have no standard error.\n";
  if (st.ci_method == "profile")
    out += "Intervals: profile likelihood (R's confint on an nls fit); NA where the profile does not cross.\n";
  const bool robust = st.loss != "squared";
  if (st.singular)
    out += robust ? "Warning: the loss's curvature A is not positive definite at the estimates (too many rows in "
                    "its down-weighting zone): no standard errors.\n"
                  : "Warning: singular gradient matrix at the estimates: no standard errors.\n";
  out += "\n";
  if (robust)
    out += fmt::format("Loss: {} (sum of rho {}); standard errors from the sandwich covariance "
                       "A^-1 B A^-1 N/df (Huber's)\n",
                       st.loss, sig(st.loss_cost, 10));
  out += fmt::format("Residual standard error: {} on {} degrees of freedom\n", sig(st.sigma, 4),
                     st.df);
  out += fmt::format("R-squared: {},  Adjusted R-squared: {},  RMSE: {}\n", sig(st.r_squared, 6),
                     sig(st.adj_r_squared, 6), sig(st.rmse, 4));
  if (robust)
    out += "Log-likelihood, AIC, BIC: not given for a robust loss (its sum of rho is not a log-likelihood)\n";
  else
    out += fmt::format("Log-likelihood: {},  AIC: {},  BIC: {}\n", sig(st.log_likelihood, 8),
                       sig(st.aic, 8), sig(st.bic, 8));

  if (st.estimated > 1 && !st.singular) {
    out += "\nCorrelation of Parameter Estimates:\n";
    std::vector<std::size_t> shown;
    for (std::size_t j = 0; j < st.parameters.size(); ++j)
      if (!std::isnan(st.parameters[j].std_error)) shown.push_back(j);
    std::vector<std::vector<std::string>> corr = {{""}};
    for (std::size_t c = 0; c + 1 < shown.size(); ++c) corr[0].push_back(st.parameters[shown[c]].name);
    for (std::size_t r = 1; r < shown.size(); ++r) {
      std::vector<std::string> row = {st.parameters[shown[r]].name};
      for (std::size_t c = 0; c < r; ++c)
        row.push_back(fmt::format("{:.4f}", st.correlation(Eigen::Index(shown[r]), Eigen::Index(shown[c]))));
      corr.push_back(row);
    }
    out += table(corr);
  }

  out += "\n";
  if (!sm.attempts.empty()) {
    out += "The first run did not converge; the solver restarted from the same start:\n";
    for (const auto& a : sm.attempts) out += "  " + a + "\n";
  }
  if (sm.IsSolutionUsable()) {
    out += fmt::format("Number of iterations to convergence: {}\n", sm.iterations);
    if (!robust) out += fmt::format("Achieved convergence tolerance: {}\n", sig(st.relative_offset, 4));
    out += fmt::format("Converged: {}; {}.\n", to_string(sm.termination), sm.message);
  } else {
    out += fmt::format("NOT CONVERGED after {} iterations: {}.\n", sm.iterations, sm.message);
    out += "The estimates above are where the solver stopped; do not use them as a fit.\n";
  }
  return out;
}

}  // namespace parafit
