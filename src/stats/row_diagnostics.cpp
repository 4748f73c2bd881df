#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parafit/diagnostics.h"
#include "parafit/distributed.h"
#include "solve/normal_equations.h"
#include "solve/rank_deficiency.h"
#include "solve/resolve_model.h"
#include "solve/spd_inverse.h"

namespace parafit {

RowDiagnostics row_diagnostics(const Dataset& data, const FitResult& fit, const Context& context) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  LocalCommunicator alone;
  Communicator& comm = context.communicator != nullptr ? *context.communicator : alone;
  const FitSpec& spec = fit.spec;
  const RowLayout layout = row_layout(comm, data.rows());
  const detail::ResolvedModel resolved =
      detail::resolve_model(data, spec.model, spec.x, spec.y, spec.params, layout.offset, spec.custom_model);
  const Model& model = *resolved.model;
  Problem problem;  // the squared loss: leverages are least squares'
  problem.model = &model;
  for (const auto& name : resolved.inputs) problem.inputs.push_back(data.column(name));
  problem.y = resolved.transformed_y.empty() ? data.column(spec.y) : std::span<const double>(resolved.transformed_y);
  if (!spec.weights.empty()) problem.weights = data.column(spec.weights);
  problem.first_row = layout.offset;

  const LevenbergMarquardtSummary& sm = fit.summary;
  std::vector<std::size_t> est;
  for (const std::size_t j : sm.free_parameters)
    if (!sm.at_bound[j]) est.push_back(j);
  const std::size_t k = est.size(), p = model.num_parameters();
  const auto K = Eigen::Index(k);
  const detail::NormalEquations ne = detail::accumulate_normal_equations(problem, context, sm.parameters, est);
  Eigen::MatrixXd inverse(K, K);
  std::vector<double> work(detail::spd_inverse_work(k));
  Eigen::MatrixXd H = ne.H;
  // A rank-deficient J^T W J has no meaningful inverse even where a factorisation exists (as for
  // the standard errors: solve/rank_deficiency.h).
  if (k > 0 && (detail::rank_deficiency(H).deficient() ||
                !detail::scaled_spd_inverse(k, H.data(), inverse.data(), work)))
    return {};

  const std::size_t n = data.rows();
  const double sigma = fit.statistics.sigma;
  RowDiagnostics out;
  out.available = true;
  out.response.assign(problem.y.begin(), problem.y.end());
  out.fitted.resize(n);
  out.residual.resize(n);
  out.standardized.resize(n);
  out.leverage.resize(n);
  parallel_chunks(context, n, [&](std::size_t begin, std::size_t end) {
    std::vector<double> J(detail::kBlockRows * p);
    std::vector<const double*> cols(problem.inputs.size());
    Eigen::VectorXd g(K);
    for (std::size_t b = begin; b < end; b += detail::kBlockRows) {
      const std::size_t m = std::min(detail::kBlockRows, end - b);
      for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = problem.inputs[c].data() + b;
      model.evaluate(sm.parameters.data(), RowBlock{m, cols.data()}, out.fitted.data() + b, J.data(),
                     detail::kBlockRows);
      for (std::size_t i = 0; i < m; ++i) {
        const std::size_t row = b + i;
        const double w = problem.weights.empty() ? 1.0 : problem.weights[row];
        for (std::size_t a = 0; a < k; ++a) g(Eigen::Index(a)) = J[est[a] * detail::kBlockRows + i];
        const double h = w * g.dot(inverse * g);
        const double r = problem.y[row] - out.fitted[row];
        out.residual[row] = r;
        out.leverage[row] = h;
        out.standardized[row] = w > 0 ? std::sqrt(w) * r / (sigma * std::sqrt(1.0 - h)) : kNaN;
      }
    }
  });
  return out;
}

}  // namespace parafit
