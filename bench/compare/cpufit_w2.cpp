// The Cpufit anchor of W2 (issue 13): the same Gaussian peaks as bench_w2 (bench/w2_data.h), fitted
// by Cpufit (the CPU library of the Gpufit project, built from ../shared/anchors/gpufit by
// bench/compare/w2_cpufit.sh) with its defaults: float, tolerance 1e-4, 25 iterations; least
// squares (LSE) and the Poisson MLE, on 1 thread and on 2 (two threads, each calling Cpufit on
// half the fits: Cpufit itself is single-threaded).
//
//   cpufit_w2 [FITS] [REPS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../w2_data.h"
#include "cpufit.h"

int main(int argc, char** argv) {
  const std::size_t fits = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const parafit::bench::W2Data d = parafit::bench::make_w2(fits);
  const std::size_t n = d.points;
  std::vector<float> y(d.y.begin(), d.y.end()), start(d.start.begin(), d.start.end());
  int to_fit[4] = {1, 1, 1, 1};
  std::printf("# W2 Cpufit: %zu fits x %zu points, float, tolerance 1e-4, 25 iterations\n", fits, n);
  for (const int estimator : {LSE, MLE})
    for (const int threads : {1, 2})
      for (int rep = -1; rep < reps; ++rep) {  // round -1 untimed, as bench_w2's
        std::vector<float> params(fits * 4), chi(fits);
        std::vector<int> states(fits), iterations(fits);
        const auto run = [&](std::size_t first, std::size_t count) {
          std::vector<float> initial(start.begin() + std::ptrdiff_t(first * 4),
                                     start.begin() + std::ptrdiff_t((first + count) * 4));
          if (cpufit(count, n, y.data() + first * n, nullptr, GAUSS_1D, initial.data(), 1e-4f, 25, to_fit,
                     estimator, 0, nullptr, params.data() + first * 4, states.data() + first, chi.data() + first,
                     iterations.data() + first) != 0) {
            std::fprintf(stderr, "cpufit: %s\n", cpufit_get_last_error());
            std::exit(1);
          }
        };
        const auto t0 = std::chrono::steady_clock::now();
        if (threads == 1) {
          run(0, fits);
        } else {
          std::thread other(run, fits / 2, fits - fits / 2);
          run(0, fits / 2);
          other.join();
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (rep < 0) continue;
        std::vector<bool> ok(fits);
        std::size_t converged = 0;
        double mean_iterations = 0;
        for (std::size_t k = 0; k < fits; ++k) {
          converged += (ok[k] = states[k] == CONVERGED);
          mean_iterations += iterations[k];
        }
        const std::vector<double> est(params.begin(), params.end());
        const std::vector<double> err = parafit::bench::median_relative_errors(d, est, ok);
        std::printf("tool=cpufit estimator=%s threads=%d fits_per_s=%.0f seconds=%.4f converged=%.5f "
                    "mean_iterations=%.2f err_a=%.3e err_mu=%.3e err_s=%.3e err_c=%.3e\n",
                    estimator == LSE ? "lse" : "poisson-mle", threads, double(fits) / s, s,
                    double(converged) / double(fits), mean_iterations / double(fits), err[0], err[1], err[2], err[3]);
      }
  return 0;
}
