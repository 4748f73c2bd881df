#include "global_report.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "stats/student_t.h"

namespace parafit::cli {
namespace {

constexpr std::size_t kGroupsShown = 20;

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

std::string format_global_fit(const GlobalFitResult& r, const std::string& response, const Model& model,
                              const std::string& data, const std::string& group, int threads, int ranks) {
  const std::size_t G = r.group_ids.size(), k = r.shared.size(), m = r.local.size();
  std::string out = fmt::format("Global fit: {} ~ {} ({}), {} groups of {} by '{}'\n", response, model.formula(),
                                model.name(), G, data, group);
  out += fmt::format("Rows: {}; unknowns: {} shared + {} x {} per group; {} rank(s) x {} thread(s)\n\n",
                     r.observations, k, G, m, ranks, threads);
  const double level = 0.95, q = detail::student_t_quantile(0.5 + level / 2, r.df);
  out += fmt::format("Shared parameters:\n{:>12} {:>14} {:>12} {:>9} {:>10} {:>14} {:>14}\n", "", "Estimate",
                     "Std. Error", "t value", "Pr(>|t|)", "2.5 %", "97.5 %");
  for (std::size_t a = 0; a < k; ++a) {
    const double est = r.shared_estimates[a], se = r.shared_std_errors[a], t = est / se;
    if (r.shared_at_bound[a]) {
      out += fmt::format("{:>12} {:>14.6g} {:>12} (at bound)\n", model.parameter_names()[r.shared[a]], est, "");
      continue;
    }
    out += fmt::format("{:>12} {:>14.6g} {:>12.4g} {:>9.3g} {:>10.3g} {:>14.6g} {:>14.6g}\n",
                       model.parameter_names()[r.shared[a]], est, se, t, detail::student_t_two_sided_p(t, r.df),
                       est - q * se, est + q * se);
  }
  if (!r.fixed.empty()) {
    out += "\nFixed in every group:";
    for (const auto& [j, value] : r.fixed) out += fmt::format(" {} = {:.6g}", model.parameter_names()[j], value);
    out += "\n";
  }
  out += fmt::format("\nPer-group parameters{}:\n{:>12}", G > kGroupsShown ? fmt::format(" (first {} of {}; all in --json)", kGroupsShown, G) : "",
                     "group");
  for (std::size_t b = 0; b < m; ++b) {
    const std::string& name = model.parameter_names()[r.local[b]];
    out += fmt::format(" {:>14} {:>12}", name, "se_" + name);
  }
  out += "\n";
  for (std::size_t g = 0; g < std::min(G, kGroupsShown); ++g) {
    out += fmt::format("{:>12}", r.group_ids[g]);
    for (std::size_t b = 0; b < m; ++b)
      out += r.local_at_bound[g * m + b]
                 ? fmt::format(" {:>14.6g} {:>12}", r.local_estimates[g * m + b], "(at bound)")
                 : fmt::format(" {:>14.6g} {:>12.4g}", r.local_estimates[g * m + b], r.local_std_errors[g * m + b]);
    out += "\n";
  }
  out += fmt::format("\nResidual standard error: {:.6g} on {} degrees of freedom; RSS {:.10g}\n", r.sigma, r.df, r.rss);
  out += fmt::format("R-squared: {:.6g},  Adjusted R-squared: {:.6g}\n", r.r_squared, r.adj_r_squared);
  out += fmt::format("Log-likelihood: {:.8g},  AIC: {:.8g},  BIC: {:.8g}\n", r.log_likelihood, r.aic, r.bic);
  out += fmt::format("Converged: {} ({}) after {} iterations\n", r.converged() ? "yes" : "NO", r.message, r.iterations);
  return out;
}

std::string global_fit_json(const GlobalFitResult& r, const Model& model, const std::string& data,
                            const std::string& group) {
  nlohmann::json j;
  j["model"] = model.name();
  j["formula"] = model.formula();
  j["data"] = data;
  j["group"] = group;
  j["converged"] = r.converged();
  j["termination"] = to_string(r.termination);
  j["message"] = r.message;
  j["iterations"] = r.iterations;
  j["observations"] = r.observations;
  j["df"] = r.df;
  j["rss"] = r.rss;
  j["sigma"] = number(r.sigma);
  j["tss"] = number(r.tss);
  j["r_squared"] = number(r.r_squared);
  j["adj_r_squared"] = number(r.adj_r_squared);
  j["log_likelihood"] = number(r.log_likelihood);
  j["aic"] = number(r.aic);
  j["bic"] = number(r.bic);
  j["singular"] = r.singular;
  nlohmann::json shared = nlohmann::json::array();
  for (std::size_t a = 0; a < r.shared.size(); ++a)
    shared.push_back({{"name", model.parameter_names()[r.shared[a]]},
                      {"estimate", number(r.shared_estimates[a])},
                      {"std_error", number(r.shared_std_errors[a])},
                      {"at_bound", bool(r.shared_at_bound[a])}});
  j["shared"] = shared;
  nlohmann::json cov = nlohmann::json::array();
  for (Eigen::Index a = 0; a < r.shared_covariance.rows(); ++a) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index b = 0; b < r.shared_covariance.cols(); ++b) row.push_back(number(r.shared_covariance(a, b)));
    cov.push_back(row);
  }
  j["shared_covariance"] = cov;
  nlohmann::json fixed = nlohmann::json::array();
  for (const auto& [index, value] : r.fixed) fixed.push_back({{"name", model.parameter_names()[index]}, {"value", value}});
  j["fixed"] = fixed;
  nlohmann::json groups = nlohmann::json::array();
  const std::size_t m = r.local.size();
  for (std::size_t g = 0; g < r.group_ids.size(); ++g) {
    nlohmann::json est = nlohmann::json::object(), se = nlohmann::json::object();
    for (std::size_t b = 0; b < m; ++b) {
      est[model.parameter_names()[r.local[b]]] = number(r.local_estimates[g * m + b]);
      se[model.parameter_names()[r.local[b]]] = number(r.local_std_errors[g * m + b]);
    }
    nlohmann::json bound = nlohmann::json::array();
    for (std::size_t b = 0; b < m; ++b)
      if (r.local_at_bound[g * m + b]) bound.push_back(model.parameter_names()[r.local[b]]);
    groups.push_back({{"id", r.group_ids[g]}, {"estimates", est}, {"std_errors", se}, {"at_bound", bound}});
  }
  j["groups"] = groups;
  return j.dump(2) + "\n";
}

}  // namespace parafit::cli
