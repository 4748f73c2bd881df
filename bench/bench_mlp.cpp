// The MLP compute core (src/model/mlp_compute.h) on one thread: forward + backward
// (MlpCompute::accumulate_gradient) of a batch of random rows through 16-64-64-1 tanh, in float
// and double, on every SIMD target this machine runs (forced in turn with simd::ScopedTarget); and
// the forward pass alone (predict). Beside each figure, the core's peak for that target and type,
// measured in the same run by a loop of independent multiply-adds (below), and the ratio.
//
// Flops per row, 2 per multiply-add: forward 16*64 + 64*64 + 64*1 = 5184 multiply-adds; backward
// the weight gradients (the same 5184) and the deltas of the two hidden layers (64*64 + 64*1 =
// 4160; the inputs' delta is not computed): 14528 multiply-adds, 29056 flops per row in all.
// The activations (128 tanh per row forward, their derivatives backward) are not counted.
//
//   bench_mlp [batch=256] [tile_rows=64] [seconds per figure=0.5]
#undef HWY_TARGET_INCLUDE
// Relative to src/, the benchmarks' include directory.
#define HWY_TARGET_INCLUDE "../bench/bench_mlp.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace bench_mlp::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The peak: kChains independent chains acc = acc * x + y of full vectors (Highway's MulAdd: one
// FMA where the target has it, a multiply and an add where it does not), enough of them to cover
// the latency of the FMA units on every x86 core (4 cycles x 2 units = 8 in flight). x and y keep
// the accumulators near 1, away from overflow and subnormals. Returns flops.
template <class T>
double PeakLoop(std::size_t iterations, T* sink) {
  constexpr int kChains = 12;
  const hn::ScalableTag<T> d;
  using V = hn::Vec<decltype(d)>;
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = hn::Set(d, static_cast<T>(1 + c * 1e-3));
  const V x = hn::Set(d, static_cast<T>(0.999));
  const V y = hn::Set(d, static_cast<T>(1e-3));
  for (std::size_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = hn::MulAdd(acc[c], x, y);
  }
  V total = acc[0];
  for (int c = 1; c < kChains; ++c) total = hn::Add(total, acc[c]);
  *sink += hn::GetLane(total);
  return 2.0 * kChains * static_cast<double>(hn::Lanes(d)) * static_cast<double>(iterations);
}

double PeakLoopF(std::size_t iterations, double* sink) {
  float s = 0;
  const double flops = PeakLoop<float>(iterations, &s);
  *sink += s;
  return flops;
}
double PeakLoopD(std::size_t iterations, double* sink) { return PeakLoop<double>(iterations, sink); }

}  // namespace bench_mlp::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "model/mlp_compute.h"
#include "simd/target.h"

namespace bench_mlp {
HWY_EXPORT(PeakLoopF);
HWY_EXPORT(PeakLoopD);
namespace {

using parafit::detail::Activation;
using parafit::detail::MlpCompute;
using parafit::detail::MlpShape;
using Clock = std::chrono::steady_clock;

constexpr double kMacsForward = 16 * 64 + 64 * 64 + 64 * 1;
constexpr double kMacsBackward = kMacsForward + 64 * 64 + 64 * 1;

// Median over 5 rounds of the time per call of `fn`, each round about seconds/5 long.
template <class F>
double seconds_per_call(F&& fn, double seconds) {
  fn();  // warm up: first-touch of the workspace, the dispatch check
  std::size_t calls = 1;
  for (;;) {  // calls per round so that a round takes about seconds / 5
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) fn();
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    if (t > seconds / 50) {
      calls = std::max<std::size_t>(1, static_cast<std::size_t>(calls * (seconds / 5) / t));
      break;
    }
    calls *= 4;
  }
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) fn();
    rounds.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(calls));
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[2];
}

// The target's peak GFLOP/s for T (the target already forced): median of 5 rounds.
template <class T>
double peak_gflops(double seconds) {
  constexpr std::size_t kIterations = 1 << 16;
  double sink = 0;
  double flops = 0;
  const double t = seconds_per_call(
      [&] {
        flops = std::is_same_v<T, float> ? HWY_DYNAMIC_DISPATCH(PeakLoopF)(kIterations, &sink)
                                         : HWY_DYNAMIC_DISPATCH(PeakLoopD)(kIterations, &sink);
      },
      seconds);
  if (sink == 0.123456789) fmt::print(" ");  // keeps the results alive
  return flops / t * 1e-9;
}

template <class T>
void run(const char* type, const parafit::simd::TargetInfo& target, std::size_t batch, std::size_t tile_rows,
         double seconds) {
  const parafit::simd::ScopedTarget scoped(target);
  const MlpShape shape{{16, 64, 64, 1}, Activation::kTanh};
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> params(shape.num_parameters()), X(batch * 16), y(batch);
  for (T& p : params) p = static_cast<T>(0.2 * normal(rng));
  for (T& x : X) x = static_cast<T>(normal(rng));
  for (T& v : y) v = static_cast<T>(normal(rng));
  std::vector<T> grad(params.size(), T(0)), out(batch);
  MlpCompute<T> mlp(shape, tile_rows);
  mlp.prepare(params.data());  // as the trainer does once per step: the transposes are not timed
  double sink = 0;
  const double t_train = seconds_per_call(
      [&] { sink += mlp.accumulate_gradient(params.data(), batch, X.data(), 16, y.data(), grad.data()); }, seconds);
  const double t_predict = seconds_per_call(
      [&] {
        mlp.predict(params.data(), batch, X.data(), 16, out.data());
        sink += static_cast<double>(out[0]);
      },
      seconds);
  const double peak = peak_gflops<T>(seconds);
  const double rows = static_cast<double>(batch);
  const double train_gflops = 2 * (kMacsForward + kMacsBackward) * rows / t_train * 1e-9;
  const double predict_gflops = 2 * kMacsForward * rows / t_predict * 1e-9;
  fmt::print("{:<7} {:<7} {:>9.1f} {:>10.0f} {:>8.1f} {:>8.1f} {:>6.1f}%   {:>9.1f} {:>10.0f} {:>8.1f} {:>6.1f}%\n",
             target.name, type, t_train * 1e6, rows / t_train, train_gflops, peak, 100 * train_gflops / peak,
             t_predict * 1e6, rows / t_predict, predict_gflops, 100 * predict_gflops / peak);
  if (sink == 0.123456789) fmt::print(" ");  // keeps the results alive
}

}  // namespace
}  // namespace bench_mlp

int main(int argc, char** argv) {
  const std::size_t batch = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  const std::size_t tile_rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 0.5;
  std::string targets;
  for (const auto& t : parafit::simd::available_targets()) targets += (targets.empty() ? "" : ", ") + t.name;
  fmt::print("MLP 16-64-64-1 tanh, batch {} rows, tile_rows {}, 1 thread; targets (best first): {}\n", batch,
             tile_rows, targets);
  fmt::print("peak: {} independent multiply-add chains of full vectors; % = GFLOP/s / peak\n", 12);
  fmt::print("{:<7} {:<7} {:>9} {:>10} {:>8} {:>8} {:>7}   {:>9} {:>10} {:>8} {:>7}\n", "", "", "fwd+bwd", "", "",
             "", "", "forward", "", "", "");
  fmt::print("{:<7} {:<7} {:>9} {:>10} {:>8} {:>8} {:>7}   {:>9} {:>10} {:>8} {:>7}\n", "target", "type",
             "us/batch", "samples/s", "GFLOP/s", "peak", "%peak", "us/batch", "samples/s", "GFLOP/s", "%peak");
  for (const auto& target : parafit::simd::available_targets()) {
    // The targets without hardware FMA run the kernels' FMAs through std::fma: much slower.
    const bool slow = target.name == "SSE4" || target.name == "SSSE3" || target.name == "SCALAR" ||
                      target.name == "EMU128";
    const double s = slow ? seconds / 5 : seconds;
    bench_mlp::run<float>("float", target, batch, tile_rows, s);
    bench_mlp::run<double>("double", target, batch, tile_rows, s);
  }
  return 0;
}
#endif  // HWY_ONCE
