// Shared by the comparison programs in bench/compare: the W1 data set, a clock, peak memory and
// the one-line key=value report. Bench-only; not part of parafit's build.
//
// W1: x ~ U[0,5], y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2), fitted with a*exp(-b*x)+c from (1, 1, 0).
// The generator is the same as bench/bench_w1.cpp's (seed, draw order, Box-Muller), so every C++
// program here fits exactly the data parafit's bench_w1 fits.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace w1 {

inline constexpr double kStart[3] = {1.0, 1.0, 0.0};

struct Data {
  std::vector<double> x, y;
};

inline Data generate(std::size_t rows) {
  Data d;
  d.x.resize(rows);
  d.y.resize(rows);
  std::mt19937_64 rng(20261126);
  auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };
  for (std::size_t i = 0; i < rows; ++i) {
    d.x[i] = 5.0 * uniform();
    const double z = std::sqrt(-2.0 * std::log(1.0 - uniform())) * std::cos(2 * std::numbers::pi * uniform());
    d.y[i] = 2.5 * std::exp(-1.3 * d.x[i]) + 0.5 + 0.05 * z;
  }
  return d;
}

// argv[i] as a count, or `fallback` when absent.
inline std::size_t arg_count(int argc, char** argv, int i, std::size_t fallback) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : fallback;
}

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Peak resident memory of this process (VmHWM), in MB (1e6 bytes).
inline double peak_mb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      in >> kb;
      return kb * 1024.0 / 1e6;
    }
    std::getline(in, key);
  }
  return 0;
}

// Median and minimum of the repetitions' fit times.
struct Times {
  std::vector<double> s;
  void add(double v) { s.push_back(v); }
  double median() const {
    std::vector<double> v = s;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }
  double min() const { return s.empty() ? 0.0 : *std::min_element(s.begin(), s.end()); }
};

// The one result line every comparison program prints (run.sh parses it). `extra` is appended
// verbatim (further key=value pairs, or empty).
inline void report(const char* tool, int threads, std::size_t rows, const Times& t, long iterations,
                   const double p[3], const std::string& extra) {
  std::printf(
      "tool=%s threads=%d rows=%zu reps=%zu fit_seconds=%.3f min_seconds=%.3f iterations=%ld a=%.6f b=%.6f "
      "c=%.6f peak_MB=%.1f%s%s\n",
      tool, threads, rows, t.s.size(), t.median(), t.min(), iterations, p[0], p[1], p[2], peak_mb(),
      extra.empty() ? "" : " ", extra.c_str());
  std::fflush(stdout);
}

}  // namespace w1
