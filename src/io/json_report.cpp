#include <nlohmann/json.hpp>

#include <cmath>

#include "parafit/report.h"

namespace parafit {
namespace {

// ordered_json keeps the fields in the documented order (schema first), not sorted.
using json = nlohmann::ordered_json;

// JSON has no NaN: a value that does not exist (a fixed parameter's standard error) is null.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json matrix(const Eigen::MatrixXd& m) {
  json rows = json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    json row = json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(number(m(i, j)));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

std::string format_json(const FitResult& fit, const ReportContext& ctx) {
  const FitStatistics& st = fit.statistics;
  const LevenbergMarquardtSummary& sm = fit.summary;
  json doc;
  doc["schema"] = "parafit-fit/1";
  doc["model"] = {{"name", fit.model->name()},
                  {"formula", fit.model->formula()},
                  {"parameters", fit.model->parameter_names()}};
  doc["data"] = {{"source", ctx.data_source},
                 {"x", fit.inputs},
                 {"y", fit.response},
                 {"response_columns", fit.response_columns},
                 {"weights", fit.spec.weights.empty() ? json(nullptr) : json(fit.spec.weights)},
                 {"observations", st.observations}};
  json params = json::array();
  for (std::size_t j = 0; j < st.parameters.size(); ++j) {
    const ParameterEstimate& pe = st.parameters[j];
    params.push_back({{"name", pe.name},
                      {"estimate", number(pe.estimate)},
                      {"std_error", number(pe.std_error)},
                      {"t_value", number(pe.t_value)},
                      {"p_value", number(pe.p_value)},
                      {"ci_lower", number(pe.ci_lower)},
                      {"ci_upper", number(pe.ci_upper)},
                      {"fixed", pe.fixed},
                      {"at_bound", pe.at_bound},
                      {"start", number(fit.start[j])},
                      {"self_started", bool(fit.self_started[j])}});
  }
  doc["parameters"] = params;
  doc["statistics"] = {{"confidence_level", st.confidence_level},
                       {"observations", st.observations},
                       {"estimated_parameters", st.estimated},
                       {"df", number(st.df)},
                       {"loss", st.loss},
                       {"loss_cost", number(st.loss_cost)},
                       {"covariance_kind", st.covariance_kind},
                       {"ci_method", st.ci_method},
                       {"rss", number(st.rss)},
                       {"sigma", number(st.sigma)},
                       {"tss", number(st.tss)},
                       {"r_squared", number(st.r_squared)},
                       {"adj_r_squared", number(st.adj_r_squared)},
                       {"rmse", number(st.rmse)},
                       {"log_likelihood", number(st.log_likelihood)},
                       {"aic", number(st.aic)},
                       {"bic", number(st.bic)},
                       {"relative_offset", number(st.relative_offset)},
                       {"singular", st.singular}};
  doc["covariance"] = matrix(st.covariance);
  doc["correlation"] = matrix(st.correlation);
  json history = json::array();
  for (double v : sm.rss_history) history.push_back(number(v));
  doc["convergence"] = {{"converged", sm.IsSolutionUsable()},
                        {"termination", to_string(sm.termination)},
                        {"message", sm.message},
                        {"iterations", sm.iterations},
                        {"accepted_iterations", sm.accepted_iterations},
                        {"function_evaluations", sm.function_evaluations},
                        {"jacobian_evaluations", sm.jacobian_evaluations},
                        {"initial_rss", number(sm.initial_rss)},
                        {"final_rss", number(sm.final_rss)},
                        {"max_gradient_cosine", number(sm.max_gradient_cosine)},
                        {"rss_history", history},
                        {"attempts", sm.attempts}};
  doc["run"] = {{"ranks", ctx.ranks},
                {"threads", ctx.threads},
                {"chunk_rows", ctx.chunk_rows},
                {"seconds", sm.seconds},
                {"data_passes", sm.function_evaluations},
                {"collectives", ctx.collectives},
                {"collective_bytes", ctx.collective_bytes},
                {"peak_rss_bytes", ctx.peak_rss_bytes}};
  return doc.dump(2) + "\n";
}

}  // namespace parafit
