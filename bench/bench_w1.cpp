// W1 benchmark: 10,000,000 rows, x ~ U[0,5], y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2), fitted with
// exp-decay from the start (1, 1, 0) at 1 and 2 threads. Prints the fit's wall time (data already
// in memory), iterations, time per iteration and per data pass, peak memory, and two floors: one
// plain fused loop over x and y accumulating RSS, J^T J and J^T r for this model with std::exp,
// and the same loop with the library's vexp, compiled for AVX2 and dispatched like the model
// loops (model/fast_exp.h) — the floor for what parafit's exp-decay loops can reach.
//
//   bench_w1 [rows] [max_threads]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "model/fast_exp.h"
#include "parafit/fit.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Peak resident memory of this process (VmHWM), in bytes.
double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      in >> kb;
      return kb * 1024.0;
    }
    std::getline(in, key);
  }
  return 0;
}

// The floor: x and y read once, one exp per row, the 10 sums LM needs for a*exp(-b*x)+c.
double fused_pass(std::span<const double> x, std::span<const double> y, int threads,
                  double a, double b, double c) {
  const std::size_t n = x.size();
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7, s8, s9) schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    const double e = std::exp(-b * x[i]);
    const double r = y[i] - (a * e + c);
    const double j0 = e, j1 = -a * x[i] * e;  // j2 = 1
    s0 += r * r;
    s1 += j0 * r;
    s2 += j1 * r;
    s3 += r;
    s4 += j0 * j0;
    s5 += j0 * j1;
    s6 += j0;
    s7 += j1 * j1;
    s8 += j1;
    s9 += 1.0;
  }
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9;
}

// The same fused loop with vexp. std::exp kept the loop above scalar; here the loop can be
// vectorised, but only if the sums may be reassociated, which `omp simd` allows. It is
// always_inline so that run_dispatched compiles it into its baseline and AVX2 copies, as the model
// loops are; the parallel region stays outside, in baseline code, because GCC outlines an OpenMP
// body before it inlines, so a region inside the copy would not inherit its instruction set.
[[gnu::always_inline]] inline void fused_chunk_vexp(std::size_t n, const double* __restrict x,
                                                    const double* __restrict y, double a,
                                                    double b, double c, double* __restrict sum) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0;
  const double nb = -b;
  const double na = -a;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7, s8, s9)
  for (std::size_t i = 0; i < n; ++i) {
    const double e = parafit::detail::vexp(nb * x[i]);
    const double r = y[i] - (a * e + c);
    const double j0 = e, j1 = na * x[i] * e;  // j2 = 1
    s0 += r * r;
    s1 += j0 * r;
    s2 += j1 * r;
    s3 += r;
    s4 += j0 * j0;
    s5 += j0 * j1;
    s6 += j0;
    s7 += j1 * j1;
    s8 += j1;
    s9 += 1.0;
  }
  *sum = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9;
}

double fused_pass_vexp(std::span<const double> x, std::span<const double> y, int threads,
                       double a, double b, double c) {
  const std::size_t n = x.size();
  double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    // Static split, one chunk per thread, as the schedule(static) loop above.
    const auto nt = static_cast<std::size_t>(omp_get_num_threads());
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t begin = n * t / nt;
    const std::size_t end = n * (t + 1) / nt;
    double sum = 0;
    parafit::detail::run_dispatched<fused_chunk_vexp>(end - begin, x.data() + begin,
                                                       y.data() + begin, a, b, c, &sum);
    total += sum;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int max_threads = argc > 2 ? std::atoi(argv[2]) : 2;

  std::vector<double> x(rows), y(rows);
  {
    std::mt19937_64 rng(20261126);
    auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };
    for (std::size_t i = 0; i < rows; ++i) {
      x[i] = 5.0 * uniform();
      const double z = std::sqrt(-2.0 * std::log(1.0 - uniform())) * std::cos(2 * std::numbers::pi * uniform());
      y[i] = 2.5 * std::exp(-1.3 * x[i]) + 0.5 + 0.05 * z;
    }
  }
  const double data_bytes = double(rows) * 2 * sizeof(double);
  parafit::Dataset data;
  data.add_column("x", std::move(x));
  data.add_column("y", std::move(y));
  fmt::print("W1: {} rows, exp-decay from (1, 1, 0); data {:.1f} MB; {} cores\n", rows, data_bytes / 1e6,
             omp_get_num_procs());

  double floor_s[3] = {};
  for (int t = 1; t <= max_threads && t <= 2; ++t) {
    double best = 1e30, sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = Clock::now();
      sink += fused_pass(data.column(0), data.column(1), t, 2.5, 1.3, 0.5);
      best = std::min(best, seconds_since(t0));
    }
    floor_s[t] = best;
    fmt::print("floor (fused loop, {} thread{}): {:.4f} s per pass  [checksum {:.3e}]\n", t, t > 1 ? "s" : "",
               best, sink);
  }
  const char* vexp_isa =
      parafit::detail::active_loop_isa() == parafit::detail::LoopIsa::avx2 ? "AVX2" : "baseline";
  double vexp_floor_s[3] = {};
  for (int t = 1; t <= max_threads && t <= 2; ++t) {
    double best = 1e30, sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = Clock::now();
      sink += fused_pass_vexp(data.column(0), data.column(1), t, 2.5, 1.3, 0.5);
      best = std::min(best, seconds_since(t0));
    }
    vexp_floor_s[t] = best;
    fmt::print("floor (fused loop with vexp, {} copy, {} thread{}): {:.4f} s per pass  [checksum {:.3e}]\n",
               vexp_isa, t, t > 1 ? "s" : "", best, sink);
  }
  const double rss_before_fits = peak_rss_bytes();

  for (int t = 1; t <= max_threads; ++t) {
    parafit::FitSpec spec;
    spec.model = "exp-decay";
    spec.start = {{"a", 1.0}, {"b", 1.0}, {"c", 0.0}};
    parafit::Context ctx;
    ctx.threads = t;
    double best = 1e30;
    parafit::FitResult best_result;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = Clock::now();
      parafit::FitResult r = parafit::fit(data, spec, ctx);
      const double s = seconds_since(t0);
      if (s < best) best = s, best_result = std::move(r);
    }
    const auto& sm = best_result.summary;
    const double per_iter = sm.seconds / sm.iterations;
    const double per_pass = sm.seconds / sm.function_evaluations;
    fmt::print(
        "parafit {} thread{}: fit {:.3f} s (solver {:.3f} s + statistics), {} iterations, {} data passes, "
        "{:.4f} s/iteration, {:.4f} s/pass, per-iteration/floor {:.2f}, {}\n",
        t, t > 1 ? "s" : "", best, sm.seconds, sm.iterations, sm.function_evaluations, per_iter, per_pass,
        floor_s[std::min(t, 2)] > 0 ? per_iter / floor_s[std::min(t, 2)] : 0.0,
        sm.IsSolutionUsable() ? "converged" : "NOT converged");
    // A line of its own, so that the line above keeps the format scripts parse.
    const double vexp_floor = vexp_floor_s[std::min(t, 2)];
    fmt::print("  per-iteration/floor with vexp ({} copy) {:.2f}\n", vexp_isa,
               vexp_floor > 0 ? per_iter / vexp_floor : 0.0);
    if (t == 1)
      fmt::print("  estimates a={:.6f} b={:.6f} c={:.6f}, sigma={:.6f}\n", sm.parameters[0], sm.parameters[1],
                 sm.parameters[2], best_result.statistics.sigma);
  }
  const double peak = peak_rss_bytes();
  fmt::print("peak memory (whole process, VmHWM): {:.1f} MB = {:.2f} x the data ({:.1f} MB before the fits)\n",
             peak / 1e6, peak / data_bytes, rss_before_fits / 1e6);
  return 0;
}
