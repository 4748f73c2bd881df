// W3 (issue 5): an MLP 16-64-64-1 (tanh, MSE, Adam lr 1e-3, batch 256) trained for one epoch on
// 1,000,000 rows of y = sin(3 x0) + x1 x2 + 0.5 x3^2 - x4 + 0.1 sum(x5..x15) + N(0, 0.01^2),
// x ~ U[-1, 1]^16. Prints samples/s and the final training MSE on 1 and 2 threads, and the same
// in float64. The data is generated in memory (seeded); loading is not timed, training alone is.
// PyTorch, scikit-learn and MPI ranks: bench/compare/run_w3.sh (same workload, same run).
// Prints the CPU model and the SIMD target the kernels run on; PARAFIT_SIMD_TARGET=AVX2 (SSE4,
// SCALAR, ...) forces another one (simd/target.h).
//
//   build/bench/bench_w3 [rows] [threads...] [float32|float64]     (BENCH_W3_STRATA=G: --strata G)
//   build/bench/bench_w3 0        the CPU and SIMD target line only
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "parafit/train.h"
#include "parallel/strata.h"
#include "simd/target.h"

namespace {

// /proc/cpuinfo's first "model name", or "unknown CPU".
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const std::size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown CPU" : line.substr(start);
  }
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    parafit::simd::apply_target_from_environment();
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_w3: {}\n", e.what());
    return 2;
  }
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  fmt::print("CPU: {}; SIMD target: {} ({})\n", cpu_model(), parafit::simd::active_target().name,
             parafit::simd::active_target().description);
  if (rows == 0) return 0;  // `bench_w3 0`: the line above only (bench/compare/run_w3.sh)
  std::vector<int> threads;
  std::vector<parafit::Precision> precisions;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "float32" || a == "float64") precisions.push_back(parafit::parse_precision(a));
    else threads.push_back(std::atoi(argv[i]));
  }
  if (precisions.empty()) precisions = {parafit::Precision::kFloat32, parafit::Precision::kFloat64};
  if (threads.empty()) threads = {1, 2};

  parafit::detail::Rng rng(20261203);
  std::vector<std::vector<double>> x(16, std::vector<double>(rows));
  std::vector<double> y(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    for (auto& col : x) col[i] = 2.0 * rng.uniform() - 1.0;
    double s = 0;
    for (std::size_t k = 5; k < 16; ++k) s += x[k][i];
    y[i] = std::sin(3 * x[0][i]) + x[1][i] * x[2][i] + 0.5 * x[3][i] * x[3][i] - x[4][i] + 0.1 * s + 0.01 * rng.normal();
  }
  parafit::Dataset data;
  for (std::size_t k = 0; k < 16; ++k) data.add_column("x" + std::to_string(k), x[k]);
  data.add_column("y", y);
  fmt::print("W3: {} rows, MLP 16-64-64-1 tanh, Adam lr 1e-3, batch 256, 1 epoch\n", rows);
  for (const auto precision : precisions) {
    for (int t : threads) {
      parafit::TrainSpec spec;
      spec.model.name = "mlp:64,64";
      spec.model.precision = precision;
      spec.optimizer.name = "adam";
      spec.optimizer.learning_rate = 1e-3;
      spec.trainer.batch = 256;
      spec.trainer.epochs = 1;
      spec.trainer.seed = 1;
      parafit::Context ctx{.threads = t};
      if (const char* g = std::getenv("BENCH_W3_STRATA")) ctx.strata = std::strtoull(g, nullptr, 10);
      const parafit::TrainResult r = parafit::train(data, spec, ctx);
      fmt::print("{} {} thread(s): {:.0f} samples/s ({:.3f} s), final training MSE {:.6f}, {} steps\n",
                 parafit::to_string(precision), t, r.summary.samples_per_second, r.summary.seconds,
                 r.summary.final_train_mse, r.summary.steps);
    }
  }
}
