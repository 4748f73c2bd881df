// parafit/statistics.h — what R's summary(nls) reports, and a little more.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <string>
#include <vector>

#include "parafit/context.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/problem.h"

namespace parafit {

struct ParameterEstimate {
  std::string name;
  double estimate = 0;
  double std_error = 0;   // NaN for fixed parameters, parameters at a bound, or a singular fit
  double t_value = 0;     // estimate / std_error
  double p_value = 0;     // two-sided, Student's t with df degrees of freedom
  double ci_lower = 0;    // Wald interval: estimate -/+ t_{df, (1+level)/2} * std_error; or the
  double ci_upper = 0;    // profile-likelihood interval (FitStatistics::ci_method "profile")
  bool fixed = false;
  bool at_bound = false;
};

struct FitStatistics {
  std::vector<ParameterEstimate> parameters;
  double confidence_level = 0.95;
  std::size_t observations = 0;   // rows with non-zero weight (N)
  std::size_t estimated = 0;      // parameters estimated (free and not held at a bound)
  double df = 0;                  // residual degrees of freedom N - estimated
  std::string loss = "squared";   // Loss::name() of the fit
  double loss_cost = 0;           // sum rho(w r^2) minimised (= rss for the squared loss)
  // Which covariance: "sigma^2 (J^T W J)^-1" for least squares, "sandwich" (A^-1 B A^-1 N/df,
  // Huber's) for a robust loss.
  std::string covariance_kind = "sigma^2 (J^T W J)^-1";
  std::string ci_method = "wald";  // how ci_lower/ci_upper were found: "wald" or "profile"
  double rss = 0;                 // sum w r^2
  double sigma = 0;               // residual standard error sqrt(rss / df)
  double tss = 0;                 // sum w (y - weighted mean of y)^2
  double r_squared = 0;           // 1 - rss / tss
  double adj_r_squared = 0;       // 1 - (1 - R^2) (N - 1) / df
  double rmse = 0;                // sqrt(rss / N)
  double log_likelihood = 0;      // as R's logLik.nls (normal errors, weights included); NaN for
                                  // a robust loss (not a likelihood), and so AIC and BIC
  double aic = 0;                 // -2 logLik + 2 (estimated + 1)
  double bic = 0;                 // -2 logLik + log(N) (estimated + 1)
  double relative_offset = 0;     // R's nls convergence criterion at the solution
  bool singular = false;          // J^T W J could not be inverted: no standard errors
  Eigen::MatrixXd covariance;     // sigma^2 (J^T W J)^-1 over all parameters (NaN rows/cols for
                                  // fixed or bound parameters)
  Eigen::MatrixXd correlation;    // from covariance
};

// Statistics at the solver's solution. One or two extra passes over the data (weighted mean and
// total sum of squares), through the same deterministic parallel reduction as the solver.
FitStatistics compute_statistics(const Problem& problem, const LevenbergMarquardtSummary& summary,
                                 const Context& context = {}, double confidence_level = 0.95);

}  // namespace parafit
