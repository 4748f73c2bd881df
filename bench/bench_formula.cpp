// Formula models against the built-in: W1 (10M rows, x ~ U[0,5], y = 2.5 exp(-1.3 x) + 0.5 +
// N(0, 0.05^2)), the formula "a*exp(-b*x)+c" against make_builtin_model("exp-decay").
//
// 1. One full pass of Model::evaluate (f and J) over all rows in blocks of 256 rows, one thread —
//    what the solver's kernel does per iteration (src/solve/normal_equations.cpp, kBlockRows).
//    Also the value-only pass (J == nullptr).
// 2. A whole fit with parafit::fit from (1, 1, 0), if fit() accepts formulas (otherwise it says so).
//
//   bench_formula [rows] [threads for the fit]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <random>
#include <vector>

#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/formula.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr std::size_t kBlockRows = 256;

// Best of `reps` passes of evaluate over all rows; returns seconds, adds a checksum to *sink so the
// work cannot be optimised away.
double evaluate_pass(const parafit::Model& m, const std::vector<double>& x, bool jacobian, int reps,
                     double* sink) {
  const double theta[] = {2.5, 1.3, 0.5};
  std::vector<double> f(kBlockRows), J(3 * kBlockRows);
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    double s = 0.0;
    const auto t0 = Clock::now();
    for (std::size_t b = 0; b < x.size(); b += kBlockRows) {
      const std::size_t n = std::min(kBlockRows, x.size() - b);
      const double* in[] = {x.data() + b};
      m.evaluate(theta, parafit::RowBlock{n, in}, f.data(), jacobian ? J.data() : nullptr, kBlockRows);
      s += f[0] + (jacobian ? J[kBlockRows] : 0.0);
    }
    best = std::min(best, seconds_since(t0));
    *sink += s;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;

  std::vector<double> x(rows), y(rows);
  std::mt19937_64 rng(20261126);
  auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };
  for (std::size_t i = 0; i < rows; ++i) {
    x[i] = 5.0 * uniform();
    const double z = std::sqrt(-2.0 * std::log(1.0 - uniform())) * std::cos(2 * std::numbers::pi * uniform());
    y[i] = 2.5 * std::exp(-1.3 * x[i]) + 0.5 + 0.05 * z;
  }

  const std::string formula = "a*exp(-b*x)+c";
  const auto builtin = parafit::make_builtin_model("exp-decay");
  const auto compiled = parafit::compile_formula({formula, {"x", "y"}, {}, {}});
  fmt::print("W1: {} rows; formula '{}' vs built-in exp-decay; evaluate over blocks of {} rows, 1 thread\n",
             rows, formula, kBlockRows);

  double sink = 0.0;
  for (const bool jac : {true, false}) {
    const double tb = evaluate_pass(*builtin, x, jac, 5, &sink);
    const double tf = evaluate_pass(*compiled.model, x, jac, 5, &sink);
    fmt::print("evaluate {:<10} built-in {:.4f} s ({:.2f} ns/row)   formula {:.4f} s ({:.2f} ns/row)   "
               "formula/built-in {:.2f}\n",
               jac ? "f and J:" : "f only:", tb, tb / double(rows) * 1e9, tf, tf / double(rows) * 1e9, tf / tb);
  }
  fmt::print("[checksum {:.6e}]\n", sink);

  parafit::Dataset data;
  data.add_column("x", std::move(x));
  data.add_column("y", std::move(y));
  parafit::Context ctx;
  ctx.threads = threads;
  double fit_seconds[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    parafit::FitSpec spec;
    spec.model = k == 0 ? std::string("exp-decay") : formula;
    spec.start = {{"a", 1.0}, {"b", 1.0}, {"c", 0.0}};
    try {
      double best = 1e30;
      parafit::FitResult r;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = Clock::now();
        r = parafit::fit(data, spec, ctx);
        best = std::min(best, seconds_since(t0));
      }
      fit_seconds[k] = best;
      const auto& s = r.summary;
      fmt::print("fit {:<14} {:.3f} s, {} iterations, {} passes, {}: a={:.6f} b={:.6f} c={:.6f}\n", spec.model,
                 best, s.iterations, s.function_evaluations, s.IsSolutionUsable() ? "converged" : "NOT converged",
                 s.parameters[0], s.parameters[1], s.parameters[2]);
    } catch (const parafit::Error& e) {
      fmt::print("fit {:<14} not run: parafit::fit does not take this model yet ({})\n", spec.model,
                 std::string(e.what()).substr(0, 80));
    }
  }
  if (fit_seconds[0] > 0 && fit_seconds[1] > 0)
    fmt::print("fit formula/built-in {:.2f} ({} thread{})\n", fit_seconds[1] / fit_seconds[0], threads,
               threads > 1 ? "s" : "");
  return 0;
}
