// The MLP compute core (src/model/mlp_compute.h) on one thread: forward + backward
// (MlpCompute::accumulate_gradient) of a batch of random rows through 16-64-64-1 tanh, in float
// and double, on the AVX2+FMA and the portable kernel path; and the forward pass alone (predict).
//
// Flops per row, 2 per multiply-add: forward 16*64 + 64*64 + 64*1 = 5184 multiply-adds; backward
// the weight gradients (the same 5184) and the deltas of the two hidden layers (64*64 + 64*1 =
// 4160; the inputs' delta is not computed): 14528 multiply-adds, 29056 flops per row in all.
// The activations (128 tanh per row forward, their derivatives backward) are not counted.
//
//   bench_mlp [batch=256] [tile_rows=64] [seconds per figure=0.5]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "model/mlp_compute.h"

namespace {

using parafit::detail::Activation;
using parafit::detail::MlpCompute;
using parafit::detail::MlpKernelPath;
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
    rounds.push_back(std::chrono::duration<double>(Clock::now() - t0).count() /
                     static_cast<double>(calls));
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[2];
}

template <class T>
void run(const char* type, MlpKernelPath path, std::size_t batch, std::size_t tile_rows,
         double seconds) {
  parafit::detail::ScopedMlpKernelPath scoped(path);
  const MlpShape shape{{16, 64, 64, 1}, Activation::kTanh};
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> params(shape.num_parameters()), X(batch * 16), y(batch);
  for (T& p : params) p = static_cast<T>(0.2 * normal(rng));
  for (T& x : X) x = static_cast<T>(normal(rng));
  for (T& v : y) v = static_cast<T>(normal(rng));
  std::vector<T> grad(params.size(), T(0)), out(batch);
  MlpCompute<T> mlp(shape, tile_rows);
  double sink = 0;
  const double t_train = seconds_per_call(
      [&] {
        sink += mlp.accumulate_gradient(params.data(), batch, X.data(), 16, y.data(), grad.data());
      },
      seconds);
  const double t_predict = seconds_per_call(
      [&] {
        mlp.predict(params.data(), batch, X.data(), 16, out.data());
        sink += static_cast<double>(out[0]);
      },
      seconds);
  const double rows = static_cast<double>(batch);
  fmt::print("{:<7} {:<9} {:>10.1f} {:>14.0f} {:>10.1f}   {:>10.1f} {:>14.0f} {:>10.1f}\n", type,
             path == MlpKernelPath::kAvx2 ? "avx2+fma" : "portable", t_train * 1e6,
             rows / t_train, 2 * (kMacsForward + kMacsBackward) * rows / t_train * 1e-9,
             t_predict * 1e6, rows / t_predict, 2 * kMacsForward * rows / t_predict * 1e-9);
  if (sink == 0.123456789) fmt::print(" ");  // keeps the results alive
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t batch = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  const std::size_t tile_rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 64;
  const double seconds = argc > 3 ? std::atof(argv[3]) : 0.5;
  fmt::print("MLP 16-64-64-1 tanh, batch {} rows, tile_rows {}, 1 thread; AVX2+FMA available: {}\n",
             batch, tile_rows, parafit::detail::mlp_avx2_available() ? "yes" : "no");
  fmt::print("{:<7} {:<9} {:>10} {:>14} {:>10}   {:>10} {:>14} {:>10}\n", "", "",
             "fwd+bwd", "", "", "forward", "", "");
  fmt::print("{:<7} {:<9} {:>10} {:>14} {:>10}   {:>10} {:>14} {:>10}\n", "type", "path",
             "us/batch", "samples/s", "GFLOP/s", "us/batch", "samples/s", "GFLOP/s");
  std::vector<MlpKernelPath> paths;
  if (parafit::detail::mlp_avx2_available()) paths.push_back(MlpKernelPath::kAvx2);
  paths.push_back(MlpKernelPath::kPortable);
  for (const MlpKernelPath path : paths) {
    const double s = path == MlpKernelPath::kPortable ? seconds / 5 : seconds;
    run<float>("float", path, batch, tile_rows, s);
    run<double>("double", path, batch, tile_rows, s);
  }
  return 0;
}
