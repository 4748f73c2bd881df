// W1 with Ceres Solver, written the usual way: one residual block per row, each an
// AutoDiffCostFunction<Functor, 1, 3> over the shared parameter block (a, b, c), and otherwise
// default Solver::Options (so the default linear solver; printed as linear_solver) with
// num_threads from the command line.
// fit_seconds is ceres::Solve only; building the problem (rows cost functions and residual
// blocks) is printed separately as build_seconds. Pass fewer rows if memory is short.
//
//   w1_ceres_autodiff [rows=10000000] [threads=2] [reps=1]
#include <ceres/ceres.h>

#include <cstdio>
#include <string>

#include "w1_common.h"

namespace {

struct ExpDecayResidual {
  ExpDecayResidual(double x, double y) : x(x), y(y) {}

  template <typename T>
  bool operator()(const T* const p, T* residual) const {
    residual[0] = p[0] * exp(-p[1] * x) + p[2] - y;
    return true;
  }

  double x, y;
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = w1::arg_count(argc, argv, 1, 10'000'000);
  const int threads = int(std::max<std::size_t>(1, w1::arg_count(argc, argv, 2, 2)));
  const std::size_t reps = std::max<std::size_t>(1, w1::arg_count(argc, argv, 3, 1));
  const w1::Data data = w1::generate(rows);

  double p[3] = {w1::kStart[0], w1::kStart[1], w1::kStart[2]};
  const auto tb = w1::Clock::now();
  ceres::Problem problem;
  for (std::size_t i = 0; i < rows; ++i) {
    problem.AddResidualBlock(
        new ceres::AutoDiffCostFunction<ExpDecayResidual, 1, 3>(new ExpDecayResidual(data.x[i], data.y[i])),
        nullptr, p);
  }
  const double build_s = w1::seconds_since(tb);

  ceres::Solver::Options options;
  options.num_threads = threads;
  options.logging_type = ceres::SILENT;

  w1::Times times;
  ceres::Solver::Summary summary;
  for (std::size_t rep = 0; rep < reps; ++rep) {
    p[0] = w1::kStart[0], p[1] = w1::kStart[1], p[2] = w1::kStart[2];
    const auto t0 = w1::Clock::now();
    ceres::Solve(options, &problem, &summary);
    times.add(w1::seconds_since(t0));
  }
  const long iterations = long(summary.num_successful_steps + summary.num_unsuccessful_steps);
  w1::report("ceres_autodiff", threads, rows, times, iterations, p,
             "build_seconds=" + std::to_string(build_s) +
                 " linear_solver=" + ceres::LinearSolverTypeToString(summary.linear_solver_type_used) +
                 " jac_evals=" + std::to_string(summary.num_jacobian_evaluations) +
                 " threads_used=" + std::to_string(summary.num_threads_used) +
                 " status=" + (summary.IsSolutionUsable() ? "usable" : "NOT-usable") + "(" +
                 ceres::TerminationTypeToString(summary.termination_type) + ")");
  return summary.IsSolutionUsable() ? 0 : 1;
}
