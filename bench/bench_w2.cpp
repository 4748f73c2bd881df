// W2 (issue 13): 100,000 Gaussian peaks of 32 Poisson counts fitted one by one in a batch, by least
// squares and by the Poisson MLE, on 1 and 2 threads, with fit's tolerances and with Cpufit's, in
// double and (with Cpufit's tolerance) in float32. Prints fits/s, the converged fraction and the
// median relative error of each parameter against the truth, in the key=value lines
// bench/w2.sh reads beside the Cpufit anchor.
//
//   build/bench/bench_w2 [FITS] [REPS] [ONLY]   (default 100000 fits, 3 repetitions per case; ONLY, e.g.
//                                               "lse:1e-4:1" or "lse:1e-4:1:f32", runs one
//                                               estimator:tolerance:threads[:f32] case, for profiling)
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "parafit/batch.h"
#include "parafit/model.h"
#include "simd/target.h"
#include "w2_data.h"

int main(int argc, char** argv) {
  using namespace parafit;
  const std::size_t fits = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string only = argc > 3 ? argv[3] : "";
  const bench::W2Data d = bench::make_w2(fits);
  const auto model = make_builtin_model("gauss");
  BatchData data;
  data.y = d.y;
  data.inputs.assign(1, std::vector<double>(fits * d.points));
  data.offsets.resize(fits + 1);
  for (std::size_t k = 0; k < fits; ++k) {
    data.offsets[k + 1] = (k + 1) * d.points;
    for (std::size_t i = 0; i < d.points; ++i) data.inputs[0][k * d.points + i] = double(i);
  }
  fmt::print("# W2 parafit: {} fits x {} points; SIMD target {}\n", fits, d.points, simd::active_target().description);
  // parafit's defaults (fit's tolerances: a relative decrease of 1e-15), Cpufit's stopping
  // tolerance (a relative decrease of 1e-4) as "tool=parafit-tol1e-4", and float32 with Cpufit's
  // tolerance as "tool=parafit-f32-tol1e-4".
  struct Case {
    double tolerance;
    bool float32;
    const char* tool;
  };
  const Case cases[] = {{LevenbergMarquardtOptions{}.function_tolerance, false, "parafit"},
                        {1e-4, false, "parafit-tol1e-4"},
                        {1e-4, true, "parafit-f32-tol1e-4"}};
  for (const Case& c : cases)
  for (const Estimator estimator : {Estimator::kLeastSquares, Estimator::kPoissonMle})
    for (const int threads : {1, 2})
      for (int rep = -1; rep < reps; ++rep) {
        if (!only.empty() &&
            only != fmt::format("{}:{:g}:{}{}", to_string(estimator), c.tolerance, threads, c.float32 ? ":f32" : ""))
          continue;
        const double tolerance = c.tolerance;
        BatchSpec spec;
        spec.estimator = estimator;
        spec.start = d.start;
        spec.solver.function_tolerance = tolerance;
        spec.float32 = c.float32;
        Context ctx;
        ctx.threads = threads;
        // Round -1 is untimed: Cpufit's outputs are allocated and touched before its clock starts
        // (compare/cpufit_w2.cpp), parafit's inside fit_batch; after one run their pages stay
        // mapped (malloc reuses them), so both are timed without first-touch page faults.
        if (rep < 0) {
          (void)fit_batch(*model, data, spec, ctx);
          continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        const BatchResult r = fit_batch(*model, data, spec, ctx);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::vector<bool> ok(fits);
        std::size_t converged = 0;
        double iterations = 0;
        for (std::size_t k = 0; k < fits; ++k) {
          converged += (ok[k] = r.status[k] == BatchStatus::kConverged);
          iterations += r.iterations[k];
        }
        const std::vector<double> err = bench::median_relative_errors(d, r.estimates, ok);
        fmt::print("tool={} estimator={} threads={} fits_per_s={:.0f} seconds={:.4f} converged={:.5f} "
                   "mean_iterations={:.2f} err_a={:.3e} err_mu={:.3e} err_s={:.3e} err_c={:.3e}\n",
                   c.tool, to_string(estimator), threads, double(fits) / s, s, double(converged) / double(fits), iterations / double(fits), err[0],
                   err[1], err[2], err[3]);
      }
  return 0;
}
