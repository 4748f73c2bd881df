// W1 benchmark: 10,000,000 rows, x ~ U[0,5], y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2), fitted with
// exp-decay from the start (1, 1, 0) at 1 and 2 threads. Prints the CPU, then the fit's wall time
// (data already in memory), iterations, time per iteration and per data pass, peak memory, and two
// floors: one plain fused loop over x and y accumulating RSS, J^T J and J^T r for this model with
// std::exp, and the same loop on Highway with simd's Exp (the library's exp), dispatched like the
// library's kernels, in one phase or in two phases per 256-row block (exps, then sums), whichever
// is faster — the floor for what parafit's exp-decay loops can reach. Then, for each SIMD
// target this CPU runs, forced in turn (simd::ScopedTarget): time per iteration, that target's
// floor, and their ratio.
//
//   bench_w1 [rows] [max_threads]
#include <cstddef>

// The per-target code is this file again, included by Highway once per target; the path is
// relative to src/, the benchmarks' include directory.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "../bench/bench_w1.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "simd/exp-inl.h"

HWY_BEFORE_NAMESPACE();
namespace w1::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The 10 sums LM needs for a*exp(-b*x)+c, one register each, and the rows of one register added in.
template <class D>
struct FloorSums {
  using V = hn::Vec<D>;
  V s[10];
  explicit FloorSums(D d) {
    for (V& v : s) v = hn::Zero(d);
  }
  // Row values x, y and e = exp(-b x); va = a, vna = -a, vc = c.
  HWY_INLINE void add(D d, V xv, V yv, V e, V va, V vna, V vc) {
    const V r = hn::Sub(yv, hn::Add(hn::Mul(va, e), vc));
    const V j1 = hn::Mul(hn::Mul(vna, xv), e);  // j0 = e, j2 = 1
    const V terms[10] = {hn::Mul(r, r), hn::Mul(e, r), hn::Mul(j1, r), r, hn::Mul(e, e),
                         hn::Mul(e, j1), e, hn::Mul(j1, j1), j1, hn::Set(d, 1.0)};
    for (int k = 0; k < 10; ++k) s[k] = hn::Add(s[k], terms[k]);
  }
  double total(D d) const {
    const V all = hn::Add(hn::Add(hn::Add(hn::Add(s[0], s[1]), hn::Add(s[2], s[3])), hn::Add(hn::Add(s[4], s[5]), hn::Add(s[6], s[7]))),
                          hn::Add(s[8], s[9]));
    return hn::GetLane(hn::SumOfLanes(d, all));
  }
};

// The fused loop with Exp over whole registers (8 doubles on AVX-512), the 10 sums lane by lane
// and added up at the end: faster than any fixed summation order, which is what a floor is for.
// The rows after the last whole register go through exp_scalar. Mul then Add, as in the library.
void FusedChunk(std::size_t n, const double* x, const double* y, double a, double b, double c,
                double* sum) {
  const hn::ScalableTag<double> d;
  const std::size_t N = hn::Lanes(d);
  const auto va = hn::Set(d, a), vnb = hn::Set(d, -b), vna = hn::Set(d, -a), vc = hn::Set(d, c);
  FloorSums sums(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto xv = hn::LoadU(d, x + i);
    sums.add(d, xv, hn::LoadU(d, y + i), parafit::simd::HWY_NAMESPACE::Exp(d, hn::Mul(vnb, xv)), va, vna, vc);
  }
  double total = sums.total(d);
  for (; i < n; ++i) {
    const double e = parafit::simd::exp_scalar(-b * x[i]);
    const double r = y[i] - (a * e + c);
    const double j1 = -a * x[i] * e;
    total += r * r + e * r + j1 * r + r + e * e + e * j1 + e + j1 * j1 + j1 + 1.0;
  }
  *sum = total;
}

// The same floor in two phases per block of 256 rows, as the library's passes are organised: the
// block's exps into an L1-resident buffer (many independent Exp chains in flight), then the 10 sums
// over the block. On AVX-512 the one-phase loop above is bound by the latency of Exp's long chain
// (few iterations fit the out-of-order window); this one is not. The floor is the faster of the two.
void FusedChunkBlocked(std::size_t n, const double* x, const double* y, double a, double b, double c,
                       double* sum) {
  const hn::ScalableTag<double> d;
  const std::size_t N = hn::Lanes(d);
  constexpr std::size_t kBlock = 256;
  HWY_ALIGN double ebuf[kBlock];
  const auto va = hn::Set(d, a), vnb = hn::Set(d, -b), vna = hn::Set(d, -a), vc = hn::Set(d, c);
  FloorSums sums(d);
  std::size_t i0 = 0;
  for (; i0 + kBlock <= n; i0 += kBlock) {
    for (std::size_t k = 0; k < kBlock; k += N)
      hn::Store(parafit::simd::HWY_NAMESPACE::Exp(d, hn::Mul(vnb, hn::LoadU(d, x + i0 + k))), d, ebuf + k);
    for (std::size_t k = 0; k < kBlock; k += N)
      sums.add(d, hn::LoadU(d, x + i0 + k), hn::LoadU(d, y + i0 + k), hn::Load(d, ebuf + k), va, vna, vc);
  }
  double total = sums.total(d);
  double rest = 0;
  FusedChunk(n - i0, x + i0, y + i0, a, b, c, &rest);
  *sum = total + rest;
}

}  // namespace w1::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
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

#include "parafit/fit.h"
#include "simd/target.h"

namespace w1 {
HWY_EXPORT(FusedChunk);
HWY_EXPORT(FusedChunkBlocked);
}  // namespace w1

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

// The fused loop with simd's Exp on the active target; the parallel region is outside the
// per-target code, one chunk per thread as the schedule(static) loop above.
double fused_pass_exp_form(std::span<const double> x, std::span<const double> y, int threads,
                           double a, double b, double c, bool blocked) {
  const std::size_t n = x.size();
  double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    const auto nt = static_cast<std::size_t>(omp_get_num_threads());
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t begin = n * t / nt;
    const std::size_t end = n * (t + 1) / nt;
    double sum = 0;
    if (blocked)
      HWY_DYNAMIC_DISPATCH(w1::FusedChunkBlocked)(end - begin, x.data() + begin, y.data() + begin, a, b, c, &sum);
    else
      HWY_DYNAMIC_DISPATCH(w1::FusedChunk)(end - begin, x.data() + begin, y.data() + begin, a, b, c, &sum);
    total += sum;
  }
  return total;
}


// Best of `reps` passes of `pass`, in seconds; the checksum keeps the passes from being elided.
template <class Pass>
double best_pass(int reps, double& sink, const Pass& pass) {
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    const auto t0 = Clock::now();
    sink += pass();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

// The floor with simd's Exp on the active target: the faster of the one-phase and the blocked
// two-phase loop, best of `reps` passes each.
double exp_floor(std::span<const double> x, std::span<const double> y, int threads, int reps, double& sink) {
  const double one = best_pass(reps, sink, [&] { return fused_pass_exp_form(x, y, threads, 2.5, 1.3, 0.5, false); });
  const double two = best_pass(reps, sink, [&] { return fused_pass_exp_form(x, y, threads, 2.5, 1.3, 0.5, true); });
  return std::min(one, two);
}

// The machine's own 2-thread ceiling now: a compute-bound loop (four multiply-add chains, no memory
// traffic) on one thread alone, then on two threads at once; the speed-up of the second (ideal 2).
// The second core of these machines is often busy, so W1's 2-thread scaling is read against this.
double thread_ceiling() {
  const auto loop = [] {
    const auto t0 = Clock::now();
    double a = 1.0, b = 1.0, c = 1.0, d = 1.0;
    for (long i = 0; i < 100'000'000; ++i) {
      a = a * 0.999999999 + 1e-9;
      b = b * 0.999999998 + 1e-9;
      c = c * 0.999999997 + 1e-9;
      d = d * 0.999999996 + 1e-9;
    }
    if (a + b + c + d == 0) std::abort();  // keeps the loop
    return seconds_since(t0);
  };
  const double alone = loop();
  double together = 0;
#pragma omp parallel num_threads(2) reduction(max : together)
  together = loop();
  return 2.0 * alone / together;
}

// The best of 3 W1 fits at `threads` threads.
parafit::FitResult best_fit(const parafit::Dataset& data, int threads, double& best_s) {
  parafit::FitSpec spec;
  spec.model = "exp-decay";
  spec.start = {{"a", 1.0}, {"b", 1.0}, {"c", 0.0}};
  parafit::Context ctx;
  ctx.threads = threads;
  best_s = 1e30;
  parafit::FitResult best_result;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = Clock::now();
    parafit::FitResult r = parafit::fit(data, spec, ctx);
    const double s = seconds_since(t0);
    if (s < best_s) best_s = s, best_result = std::move(r);
  }
  return best_result;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown CPU";
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
  const std::span<const double> xs = data.column(0), ys = data.column(1);
  fmt::print("W1: {} rows, exp-decay from (1, 1, 0); data {:.1f} MB; {} cores\n", rows, data_bytes / 1e6,
             omp_get_num_procs());
  const parafit::simd::TargetInfo active = parafit::simd::active_target();
  const std::vector<parafit::simd::TargetInfo> targets = parafit::simd::available_targets();
  std::string names;
  for (const auto& t : targets) names += (names.empty() ? "" : ", ") + t.name;
  fmt::print("CPU: {}; SIMD target {} (available, best first: {})\n", cpu_model(), active.description, names);

  double floor_s[3] = {};
  for (int t = 1; t <= max_threads && t <= 2; ++t) {
    double sink = 0;
    floor_s[t] = best_pass(5, sink, [&] { return fused_pass(xs, ys, t, 2.5, 1.3, 0.5); });
    fmt::print("floor (fused loop, {} thread{}): {:.4f} s per pass  [checksum {:.3e}]\n", t, t > 1 ? "s" : "",
               floor_s[t], sink);
  }
  double exp_floor_s[3] = {};
  for (int t = 1; t <= max_threads && t <= 2; ++t) {
    double sink = 0;
    exp_floor_s[t] = exp_floor(xs, ys, t, 5, sink);
    fmt::print("floor (fused loop with simd Exp, {}, {} thread{}): {:.4f} s per pass  [checksum {:.3e}]\n",
               active.name, t, t > 1 ? "s" : "", exp_floor_s[t], sink);
  }
  const double rss_before_fits = peak_rss_bytes();

  for (int t = 1; t <= max_threads; ++t) {
    double best = 0;
    const parafit::FitResult best_result = best_fit(data, t, best);
    const auto& sm = best_result.summary;
    const double per_iter = sm.seconds / sm.iterations;
    const double per_pass = sm.seconds / sm.function_evaluations;
    fmt::print(
        "parafit {} thread{}: fit {:.3f} s (solver {:.3f} s + statistics), {} iterations, {} data passes, "
        "{:.4f} s/iteration, {:.4f} s/pass, per-iteration/floor {:.2f}, {}\n",
        t, t > 1 ? "s" : "", best, sm.seconds, sm.iterations, sm.function_evaluations, per_iter, per_pass,
        floor_s[std::min(t, 2)] > 0 ? per_iter / floor_s[std::min(t, 2)] : 0.0,
        sm.IsSolutionUsable() ? "converged" : "NOT converged");
    // A line of its own, so that the line above keeps the format scripts parse (bench/ab/run.sh).
    const double exp_floor = exp_floor_s[std::min(t, 2)];
    fmt::print("  per-iteration/floor with simd Exp ({}) {:.2f}\n", active.name,
               exp_floor > 0 ? per_iter / exp_floor : 0.0);
    if (t == 1)
      fmt::print("  estimates a={:.6f} b={:.6f} c={:.6f}, sigma={:.6f}\n", sm.parameters[0], sm.parameters[1],
                 sm.parameters[2], best_result.statistics.sigma);
  }
  const double peak = peak_rss_bytes();
  fmt::print("peak memory (whole process, VmHWM): {:.1f} MB = {:.2f} x the data ({:.1f} MB before the fits)\n",
             peak / 1e6, peak / data_bytes, rss_before_fits / 1e6);

  // Each target forced in turn: the kernels' gain per instruction set. Same fit, same bits.
  fmt::print("2-thread ceiling of this machine now (compute-bound loop): speed-up {:.2f} (ideal 2)\n", thread_ceiling());
  fmt::print("per SIMD target (forced; best of 3 fits, floor best of 5 passes with simd Exp):\n");
  for (const auto& target : targets) {
    const parafit::simd::ScopedTarget force(target);
    for (int t = std::min(max_threads, 2); t >= 1; --t) {
      double sink = 0, best = 0;
      const double floor = exp_floor(xs, ys, t, 5, sink);
      const auto& sm = best_fit(data, t, best).summary;
      const double per_iter = sm.seconds / sm.iterations;
      fmt::print("  target {:<6} {} thread{}: {:.4f} s/iteration, floor {:.4f} s/pass, per-iteration/floor {:.2f}, "
                 "{} iterations, final RSS {:.17g}\n",
                 target.name, t, t > 1 ? "s" : " ", per_iter, floor, per_iter / floor, sm.iterations, sm.final_rss);
    }
  }
  return 0;
}
#endif  // HWY_ONCE
