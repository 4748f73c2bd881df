#include "nist_fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "parafit/error.h"

namespace nist {

bool rss_is_unreachable(const std::string& problem) { return problem == "Lanczos1"; }

parafit::FitSpec nist_fit_spec(const NistProblem& p, const std::string& formula, int start) {
  if (start != 1 && start != 2)
    throw parafit::Error(fmt::format("{}: no start {} (NIST gives Start 1 and Start 2)", p.name, start));
  parafit::FitSpec spec;
  spec.model = formula;
  spec.x = p.predictors();
  spec.y = p.columns.front();
  for (const NistParameter& param : p.parameters) spec.params.push_back(param.name);
  spec.start = p.start_values(start);
  return spec;
}

NistFitOutcome run_nist_fit(const NistProblem& p, const std::string& formula, int start,
                            const parafit::Context& context) {
  NistFitOutcome out;
  out.problem = p.name;
  out.start = start;
  for (const NistParameter& param : p.parameters) out.names.push_back(param.name);
  const std::size_t np = p.parameters.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.estimates.assign(np, nan);
  out.std_errors.assign(np, nan);
  out.param_lre.assign(np, 0.0);
  out.se_lre.assign(np, 0.0);
  out.rss = nan;

  parafit::FitResult result;
  try {
    const parafit::Dataset data = p.dataset();
    result = parafit::fit(data, nist_fit_spec(p, formula, start), context);
  } catch (const std::exception& e) {
    out.error = e.what();
    out.termination = "error";
    return out;
  }
  out.converged = parafit::converged(result.summary.termination);
  out.termination = parafit::to_string(result.summary.termination);
  out.iterations = result.summary.iterations;
  out.max_gradient_cosine = result.summary.max_gradient_cosine;

  // Match the fitted parameters to the file's by name: a formula's parameters may come in another
  // order (first appearance: MGH17 has b1 b2 b4 b3 b5).
  const auto& fitted = result.statistics.parameters;
  for (std::size_t j = 0; j < np; ++j) {
    const auto it = std::find_if(fitted.begin(), fitted.end(),
                                 [&](const parafit::ParameterEstimate& e) { return e.name == out.names[j]; });
    if (it == fitted.end()) {
      out.error = fmt::format("the fit reports no parameter '{}'", out.names[j]);
      continue;
    }
    out.estimates[j] = it->estimate;
    out.std_errors[j] = it->std_error;
    out.param_lre[j] = lre(it->estimate, p.parameters[j].certified);
    out.se_lre[j] = lre(it->std_error, p.parameters[j].certified_sd);
  }
  if (fitted.size() != np && out.error.empty())
    out.error = fmt::format("the fit reports {} parameters, the problem has {}", fitted.size(), np);
  if (result.summary.termination != parafit::Termination::kNonFiniteStart) {
    out.rss = result.statistics.rss;
    out.relative_offset = result.statistics.relative_offset;
    out.rss_lre = lre(out.rss, p.certified_rss);
  }
  out.min_param_lre = np == 0 ? 0 : *std::min_element(out.param_lre.begin(), out.param_lre.end());
  out.min_se_lre = np == 0 ? 0 : *std::min_element(out.se_lre.begin(), out.se_lre.end());
  return out;
}

std::string describe_lres(const std::vector<std::string>& names, const std::vector<double>& lres) {
  std::string out;
  for (std::size_t j = 0; j < names.size() && j < lres.size(); ++j)
    out += fmt::format("{}{} {:.1f}", j ? "  " : "", names[j], lres[j]);
  return out;
}

}  // namespace nist
