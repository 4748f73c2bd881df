// nist_ceres — fits the 27 NIST StRD nonlinear-regression problems from both starts (54 fits)
// with Ceres Solver and prints the LRE table (bench-only; see README.md in this folder).
//
//   nist_ceres tight|default [data_dir]
//
// Each problem is a ceres::Problem with one residual block per observation:
// AutoDiffCostFunction<Residual<Model>, 1, kParams>, one parameter block holding b1..bp.
//   tight:   LEVENBERG_MARQUARDT trust region, DENSE_QR, function/gradient/parameter tolerance
//            1e-15, max_num_iterations 10000 (everything else default).
//   default: ceres::Solver::Options exactly as constructed.
// "Reported success" means termination_type == ceres::CONVERGENCE.
#include <ceres/ceres.h>

#include <cstdio>
#include <string>
#include <vector>

#include "nist_common.h"
#include "nist_models.h"

namespace {

using namespace nistbench;

template <class M>
struct Residual {
  double y, x1, x2;
  template <class T>
  bool operator()(const T* b, T* r) const {
    r[0] = y - M::f(b, x1, x2);
    return true;
  }
};

template <class M>
Outcome fit(const Problem& p, int start, const ceres::Solver::Options& options) {
  Outcome o;
  o.problem = p.name;
  o.start = start;
  std::vector<double> b = p.start(start);
  ceres::Problem problem;
  for (std::size_t i = 0; i < p.n(); ++i)
    problem.AddResidualBlock(new ceres::AutoDiffCostFunction<Residual<M>, 1, M::kParams>(
                                 new Residual<M>{p.y[i], p.x1[i], p.x2[i]}),
                             nullptr, b.data());
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);
  o.b = b;
  o.success = summary.termination_type == ceres::CONVERGENCE;
  o.status = ceres::TerminationTypeToString(summary.termination_type);
  o.iterations = int(summary.iterations.size()) - 1;  // iteration 0 is the start
  o.min_lre = min_lre(b, p.certified);
  o.rss_lre = lre(2 * summary.final_cost, p.certified_rss);  // Ceres's cost is RSS/2
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "tight" && mode != "default") {
    std::fprintf(stderr, "usage: nist_ceres tight|default [data_dir]\n");
    return 2;
  }
  const std::string dir = data_dir(argc, argv, 2);

  ceres::Solver::Options options;  // "default": as constructed
  std::string tool = "Ceres default Solver::Options (AutoDiff)";
  if (mode == "tight") {
    options.minimizer_type = ceres::TRUST_REGION;
    options.trust_region_strategy_type = ceres::LEVENBERG_MARQUARDT;
    options.linear_solver_type = ceres::DENSE_QR;
    options.function_tolerance = 1e-15;
    options.gradient_tolerance = 1e-15;
    options.parameter_tolerance = 1e-15;
    options.max_num_iterations = 10000;
    tool = "Ceres LM DENSE_QR tol 1e-15 (AutoDiff)";
  }

  // Load every problem and check every formula before fitting anything.
  std::vector<Problem> problems;
  bool ok = true;
  for_each_model([&]<class M>() {
    problems.push_back(read_problem(dir, M::name));
    if (int(problems.back().p()) != M::kParams) die(std::string(M::name) + ": parameter count differs");
    ok &= check_model(problems.back(), [](const double* b, double x, double x2) { return M::f(b, x, x2); });
  });
  if (!ok) {
    std::fprintf(stderr, "nist_ceres: a model does not reproduce its certified RSS; not fitting\n");
    return 1;
  }

  std::printf("options: %s, %s, linear solver %s, function_tolerance %g, gradient_tolerance %g, "
              "parameter_tolerance %g, max_num_iterations %d\n",
              ceres::MinimizerTypeToString(options.minimizer_type),
              ceres::TrustRegionStrategyTypeToString(options.trust_region_strategy_type),
              ceres::LinearSolverTypeToString(options.linear_solver_type), options.function_tolerance,
              options.gradient_tolerance, options.parameter_tolerance, options.max_num_iterations);
  Report report(tool);
  std::size_t k = 0;
  for_each_model([&]<class M>() {
    const Problem& p = problems[k++];
    for (int start : {1, 2}) report.add(fit<M>(p, start, options));
  });
  report.finish();
  return 0;
}
