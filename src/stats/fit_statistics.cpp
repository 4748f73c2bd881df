#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "parafit/error.h"
#include "parafit/statistics.h"
#include "solve/normal_equations.h"
#include "solve/rank_deficiency.h"
#include "solve/spd_inverse.h"
#include "stats/student_t.h"

namespace parafit {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ResponseSums {
  double n_used = 0;     // rows with w > 0
  double sum_log_w = 0;  // over rows with w > 0
  double tss = 0;
};

ResponseSums response_sums(const Problem& problem, const Context& ctx) {
  const bool weighted = !problem.weights.empty();
  const double* y = problem.y.data();
  const double* w = weighted ? problem.weights.data() : nullptr;
  // Pass 1: N, sum log w, sum w, sum w y.
  const std::vector<double> s = chunked_sum(ctx, problem.rows(), 4,
      [&](std::size_t b, std::size_t e, std::span<double> p) {
        for (std::size_t i = b; i < e; ++i) {
          const double wi = weighted ? w[i] : 1.0;
          if (wi > 0) {
            p[0] += 1.0;
            p[1] += std::log(wi);
          }
          p[2] += wi;
          p[3] += wi * y[i];
        }
      });
  const double mean = s[3] / s[2];
  // Pass 2: sum w (y - mean)^2, computed about the mean so no digits cancel.
  const double tss = chunked_sum(ctx, problem.rows(), 1,
      [&](std::size_t b, std::size_t e, std::span<double> p) {
        for (std::size_t i = b; i < e; ++i) {
          const double d = y[i] - mean;
          p[0] += (weighted ? w[i] : 1.0) * d * d;
        }
      })[0];
  return {s[0], s[1], tss};
}

}  // namespace

FitStatistics compute_statistics(const Problem& problem, const LevenbergMarquardtSummary& summary,
                                 const Context& context, double confidence_level) {
  if (!(confidence_level > 0 && confidence_level < 1))
    throw Error("confidence level must lie in (0, 1)");
  const auto& names = problem.model->parameter_names();
  const std::size_t p = names.size();
  FitStatistics st;
  st.confidence_level = confidence_level;

  // Parameters estimated: free and not held at a bound. Their block of J^T W J gives the covariance.
  std::vector<Eigen::Index> est;  // positions within summary.free_parameters
  for (std::size_t a = 0; a < summary.free_parameters.size(); ++a)
    if (!summary.at_bound[summary.free_parameters[a]]) est.push_back(Eigen::Index(a));
  const Eigen::Index k = Eigen::Index(est.size());

  const ResponseSums rs = response_sums(problem, context);
  const bool robust = !problem.loss.squared();
  st.observations = static_cast<std::size_t>(rs.n_used);
  st.estimated = est.size();
  st.loss = problem.loss.name();
  st.loss_cost = summary.final_rss;
  // A robust fit minimised sum rho: its RSS is one more pass at the solution.
  st.rss = robust ? detail::residual_sum_of_squares(problem, context, summary.parameters) : summary.final_rss;
  st.df = rs.n_used - double(k);
  st.sigma = st.df > 0 ? std::sqrt(st.rss / st.df) : kNaN;
  st.tss = rs.tss;
  st.r_squared = rs.tss > 0 ? 1.0 - st.rss / rs.tss : kNaN;
  st.adj_r_squared = st.df > 0 ? 1.0 - (1.0 - st.r_squared) * (rs.n_used - 1.0) / st.df : kNaN;
  st.rmse = std::sqrt(st.rss / rs.n_used);
  const double n = rs.n_used;
  st.log_likelihood =
      -0.5 * n * (std::log(2.0 * std::numbers::pi) + 1.0 - std::log(n) - rs.sum_log_w / n + std::log(st.rss));
  st.aic = -2.0 * st.log_likelihood + 2.0 * (double(k) + 1.0);
  st.bic = -2.0 * st.log_likelihood + std::log(n) * (double(k) + 1.0);
  if (robust) st.log_likelihood = st.aic = st.bic = kNaN;  // sum rho is not a log-likelihood

  // Covariance sigma^2 (J^T W J)^-1, inverted in the scaled variables (unit diagonal) for accuracy;
  // for a robust loss the sandwich A^-1 B A^-1 N/df (robust_covariance_sums), A in H's place.
  Eigen::MatrixXd H(k, k), B;
  if (robust) {
    std::vector<std::size_t> columns(static_cast<std::size_t>(k));
    for (Eigen::Index a = 0; a < k; ++a) columns[std::size_t(a)] = summary.free_parameters[std::size_t(est[a])];
    detail::RobustCovarianceSums sums = detail::robust_covariance_sums(problem, context, summary.parameters, columns);
    H = std::move(sums.A);
    B = std::move(sums.B);
    st.covariance_kind = "sandwich";
  } else {
    for (Eigen::Index a = 0; a < k; ++a)
      for (Eigen::Index b = 0; b < k; ++b) H(a, b) = summary.jtwj(est[a], est[b]);
  }
  // A rank-deficient J^T W J gives no standard errors, even where a factorisation happens to
  // exist: its inverse would be rounding noise (solve/rank_deficiency.h has the tolerance).
  st.singular = detail::rank_deficiency(H).deficient();
  st.relative_offset = kNaN;  // unless J^T W J can be inverted
  Eigen::MatrixXd Hinv(k, k);
  if (!st.singular) {
    std::vector<double> work(detail::spd_inverse_work(std::size_t(k)));
    st.singular = !detail::scaled_spd_inverse(std::size_t(k), H.data(), Hinv.data(), work);
    if (!st.singular) Hinv = 0.5 * (Hinv + Hinv.transpose()).eval();  // exactly symmetric, as a covariance must be
  }

  st.covariance = Eigen::MatrixXd::Constant(Eigen::Index(p), Eigen::Index(p), kNaN);
  st.correlation = st.covariance;
  std::vector<Eigen::Index> param_of(static_cast<std::size_t>(k), 0);
  for (Eigen::Index a = 0; a < k; ++a) param_of[std::size_t(a)] = Eigen::Index(summary.free_parameters[std::size_t(est[a])]);
  if (!st.singular) {
    const double s2 = st.sigma * st.sigma;
    Eigen::MatrixXd cov = s2 * Hinv;
    if (robust) {
      // Huber's sandwich with the small-sample factor N/df (HC1): A^-1 B A^-1 N/df.
      cov = (Hinv * B * Hinv) * (rs.n_used / st.df);
      cov = 0.5 * (cov + cov.transpose()).eval();
    }
    for (Eigen::Index a = 0; a < k; ++a)
      for (Eigen::Index b = 0; b < k; ++b)
        st.covariance(param_of[std::size_t(a)], param_of[std::size_t(b)]) = cov(a, b);
    for (Eigen::Index a = 0; a < k; ++a)
      for (Eigen::Index b = 0; b < k; ++b) {
        const Eigen::Index i = param_of[std::size_t(a)], j = param_of[std::size_t(b)];
        st.correlation(i, j) = st.covariance(i, j) / std::sqrt(st.covariance(i, i) * st.covariance(j, j));
      }
    // R's relative-offset criterion (Bates & Watts; nls' convergence criterion), from the normal
    // equations: with QR = J (weighted), |Q1^T r|^2 = g^T H^-1 g is the part of the residual the
    // model can still explain and |Q2^T r|^2 = rss - |Q1^T r|^2 the rest; R prints
    // sqrt(|Q1^T r|^2 / |Q2^T r|^2).
    if (!robust && summary.jtwr.size() == Eigen::Index(summary.free_parameters.size())) {
      Eigen::VectorXd gk(k);
      for (Eigen::Index a = 0; a < k; ++a) gk(a) = summary.jtwr(est[std::size_t(a)]);
      const double q1 = std::max(0.0, gk.dot(Hinv * gk));
      const double q2 = st.rss - q1;
      st.relative_offset = q2 > 0 ? std::sqrt(q1 / q2) : (q1 > 0 ? std::numeric_limits<double>::infinity() : 0.0);
    }
  }

  const double tq = st.df > 0 ? detail::student_t_quantile(0.5 + confidence_level / 2.0, st.df) : kNaN;
  st.parameters.resize(p);
  for (std::size_t j = 0; j < p; ++j) {
    ParameterEstimate& pe = st.parameters[j];
    pe.name = names[j];
    pe.estimate = summary.parameters[j];
    pe.fixed = problem.is_fixed(j);
    pe.at_bound = summary.at_bound[j];
    const double var = st.covariance(Eigen::Index(j), Eigen::Index(j));
    pe.std_error = std::isnan(var) ? kNaN : std::sqrt(var);
    pe.t_value = pe.estimate / pe.std_error;
    pe.p_value = std::isnan(pe.std_error) ? kNaN : detail::student_t_two_sided_p(pe.t_value, st.df);
    pe.ci_lower = pe.estimate - tq * pe.std_error;
    pe.ci_upper = pe.estimate + tq * pe.std_error;
  }
  return st;
}

}  // namespace parafit
