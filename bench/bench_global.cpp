// Global fits (issue 13): G groups of 100 points of a Gaussian peak a_g exp(-(x-mu)^2/(2 s^2)) + c_g,
// mu and s shared, a and c per group (2 shared + 2 per group), for G = 1k, 10k, 100k. The Schur
// complement makes an iteration's time linear in G: prints seconds, iterations and seconds per
// iteration per 1000 groups, on 1 and 2 threads.
//
//   build/bench/bench_global [MAX_GROUPS]      (default 100000)
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>

#include "parafit/global_fit.h"
#include "simd/target.h"

int main(int argc, char** argv) {
  using namespace parafit;
  const std::size_t max_groups = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const auto model = make_builtin_model("gauss");
  fmt::print("# global fits: gauss, mu and s shared, a and c per group, 100 points per group; {}\n",
             simd::active_target().description);
  for (std::size_t groups = 1000; groups <= max_groups; groups *= 10) {
    std::mt19937_64 rng(groups);
    std::uniform_real_distribution<double> amp(1, 3), off(0, 0.5);
    std::normal_distribution<double> noise(0, 0.02);
    BatchData d;
    d.inputs.resize(1);
    d.inputs[0].reserve(groups * 100);
    d.y.reserve(groups * 100);
    for (std::size_t g = 0; g < groups; ++g) {
      const double a = amp(rng), c = off(rng);
      for (int i = 0; i < 100; ++i) {
        const double x = -4.0 + 0.08 * i, z = (x - 0.3) / 1.1;
        d.inputs[0].push_back(x);
        d.y.push_back(a * std::exp(-0.5 * z * z) + c + noise(rng));
      }
      d.offsets.push_back(d.y.size());
    }
    for (const int threads : {1, 2}) {
      GlobalFitSpec spec;
      spec.shared = {1, 2};
      Context ctx;
      ctx.threads = threads;
      const auto t0 = std::chrono::steady_clock::now();
      const GlobalFitResult r = fit_global(*model, d, spec, ctx);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      fmt::print("groups={} threads={} seconds={:.3f} iterations={} per_iteration_per_1k_groups={:.4f} converged={} "
                 "mu={:.6f} s={:.6f}\n",
                 groups, threads, s, r.iterations, s / (r.iterations + 1) / (double(groups) / 1000), r.converged(),
                 r.shared_estimates[0], r.shared_estimates[1]);
    }
  }
  return 0;
}
