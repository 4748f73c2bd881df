// bench/mpi_bench_common.h — what the benchmarks run under mpirun share (bench_w3_mpi, bench_w4):
// the machine's K-process ceiling, peak memory, and W3's data as one rank's contiguous share.
#pragma once

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/dataset.h"
#include "parallel/strata.h"

namespace parafit::bench {

// A compute-bound loop (four independent chains of multiply-adds, no memory traffic): ~1 s at 4 GHz.
inline double compute_bound_seconds() {
  const auto t0 = std::chrono::steady_clock::now();
  double a = 1.0, b = 1.0, c = 1.0, d = 1.0;
  for (long i = 0; i < 400'000'000; ++i) {
    a = a * 0.999999999 + 1e-9;
    b = b * 0.999999998 + 1e-9;
    c = c * 0.999999997 + 1e-9;
    d = d * 0.999999996 + 1e-9;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a + b + c + d == 0) std::abort();  // keeps the loop
  return s;
}

// Prints (rank 0) the K-process speed-up over one process in the same job: the loop on rank 0
// alone (the others wait), then on every rank at once. The most K ranks can gain here, now.
inline void print_ceiling(Communicator& comm) {
  const auto ranks = comm.size();
  std::vector<double> alone = {0.0};
  if (comm.rank() == 0) alone[0] = compute_bound_seconds();
  comm.broadcast(alone, 0);
  std::vector<double> together = {compute_bound_seconds()};
  comm.allreduce(together, ReduceOp::kMax);
  if (comm.rank() == 0)
    fmt::print("ceiling: {} process(es): one alone {:.3f} s, all at once {:.3f} s: speed-up {:.2f} (ideal {})\n", ranks,
               alone[0], together[0], double(ranks) * alone[0] / together[0], ranks);
}

inline long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// bench_w3's data (16 inputs x0..x15 uniform in [-1, 1], y = sin(3 x0) + x1 x2 + x3^2 / 2 - x4 +
// (x5 + ... + x15) / 10 + N(0, 0.01^2)), generated in the same order on every rank; rank `me` of
// `ranks` keeps its contiguous share of the `rows`.
inline Dataset w3_share(std::size_t rows, std::size_t me, std::size_t ranks) {
  const std::size_t first = rows * me / ranks, last = rows * (me + 1) / ranks;
  detail::Rng rng(20261203);
  std::vector<std::vector<double>> x(16);
  std::vector<double> y;
  std::vector<double> row(16);
  for (std::size_t i = 0; i < rows; ++i) {
    for (auto& v : row) v = 2.0 * rng.uniform() - 1.0;
    double s = 0;
    for (std::size_t k = 5; k < 16; ++k) s += row[k];
    const double yi = std::sin(3 * row[0]) + row[1] * row[2] + 0.5 * row[3] * row[3] - row[4] + 0.1 * s + 0.01 * rng.normal();
    if (i < first || i >= last) continue;
    for (std::size_t k = 0; k < 16; ++k) x[k].push_back(row[k]);
    y.push_back(yi);
  }
  Dataset data;
  for (std::size_t k = 0; k < 16; ++k) data.add_column("x" + std::to_string(k), std::move(x[k]));
  data.add_column("y", std::move(y));
  return data;
}

}  // namespace parafit::bench
