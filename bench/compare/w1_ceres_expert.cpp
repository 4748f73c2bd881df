// W1 with Ceres Solver, written the way an expert would: 64 residual blocks, each covering a
// contiguous slice of the rows, with an analytic Jacobian (a ceres::CostFunction subclass), one
// parameter block (a, b, c), DENSE_NORMAL_CHOLESKY, Levenberg-Marquardt (Ceres' default trust
// region), default tolerances, num_threads from the command line.
// fit_seconds is ceres::Solve only; building the 64-block problem is printed as build_seconds.
//
//   w1_ceres_expert [rows=10000000] [threads=2] [reps=3]
#include <ceres/ceres.h>

#include <cstdio>
#include <memory>
#include <string>

#include "w1_common.h"

namespace {

constexpr int kBlocks = 64;

// Residuals r_i = a exp(-b x_i) + c - y_i for rows [begin, end) of the data.
class SliceCost final : public ceres::CostFunction {
 public:
  SliceCost(const double* x, const double* y, int count) : x_(x), y_(y), count_(count) {
    set_num_residuals(count);
    mutable_parameter_block_sizes()->push_back(3);
  }

  bool Evaluate(double const* const* parameters, double* residuals, double** jacobians) const override {
    const double a = parameters[0][0], b = parameters[0][1], c = parameters[0][2];
    double* J = jacobians != nullptr ? jacobians[0] : nullptr;  // row-major, count_ x 3
    if (J == nullptr) {
      for (int i = 0; i < count_; ++i) residuals[i] = a * std::exp(-b * x_[i]) + c - y_[i];
      return true;
    }
    for (int i = 0; i < count_; ++i) {
      const double e = std::exp(-b * x_[i]);
      residuals[i] = a * e + c - y_[i];
      J[3 * i + 0] = e;
      J[3 * i + 1] = -a * x_[i] * e;
      J[3 * i + 2] = 1.0;
    }
    return true;
  }

 private:
  const double* x_;
  const double* y_;
  int count_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = w1::arg_count(argc, argv, 1, 10'000'000);
  const int threads = int(std::max<std::size_t>(1, w1::arg_count(argc, argv, 2, 2)));
  const std::size_t reps = std::max<std::size_t>(1, w1::arg_count(argc, argv, 3, 3));
  const w1::Data data = w1::generate(rows);

  double p[3] = {w1::kStart[0], w1::kStart[1], w1::kStart[2]};
  const auto tb = w1::Clock::now();
  ceres::Problem problem;
  const std::size_t blocks = std::min<std::size_t>(kBlocks, std::max<std::size_t>(rows, 1));
  for (std::size_t k = 0; k < blocks; ++k) {
    const std::size_t begin = rows * k / blocks, end = rows * (k + 1) / blocks;
    problem.AddResidualBlock(new SliceCost(data.x.data() + begin, data.y.data() + begin, int(end - begin)),
                             nullptr, p);
  }
  const double build_s = w1::seconds_since(tb);

  ceres::Solver::Options options;
  options.linear_solver_type = ceres::DENSE_NORMAL_CHOLESKY;
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
  w1::report("ceres_expert", threads, rows, times, iterations, p,
             "build_seconds=" + std::to_string(build_s) + " blocks=" + std::to_string(blocks) +
                 " jac_evals=" + std::to_string(summary.num_jacobian_evaluations) +
                 " threads_used=" + std::to_string(summary.num_threads_used) +
                 " status=" + (summary.IsSolutionUsable() ? "usable" : "NOT-usable") + "(" +
                 ceres::TerminationTypeToString(summary.termination_type) + ")");
  return summary.IsSolutionUsable() ? 0 : 1;
}
