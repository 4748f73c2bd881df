// Formula models against the built-ins, on every SIMD target. Data: W1 (x ~ U[0,5], y = 2.5
// exp(-1.3 x) + 0.5 + N(0, 0.05^2)).
//
// 1. The CPU, then per SIMD target (each forced with simd::ScopedTarget, formulas compiled under
//    it): one full pass of Model::evaluate over all rows in blocks of 256 rows, one thread — what
//    the solver's kernel does per iteration (src/solve/normal_equations.cpp, kBlockRows) —, with J
//    and without, in ns per row, for a few formulas (every kind of tape loop: exp, log, library
//    pow, arithmetic, min/abs) and the built-in models of the same functions.
// 2. A whole fit of W1 with parafit::fit from (1, 1, 0), built-in exp-decay against its formula.
//
//   bench_formula [rows] [threads for the fit]
//   bench_formula --default [rows]            only the default target's figures, as "AB" lines
//   bench_formula --ab OTHER [rows] [rounds]  this program and OTHER (the same source built against
//                                             another commit) measured alternately on the default
//                                             target, `rounds` times each: medians and ratios
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/formula.h"
#include "simd/target.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr std::size_t kBlockRows = 256;

// Best of `reps` passes of evaluate over all rows; returns seconds, adds a checksum to *sink so the
// work cannot be optimised away.
double evaluate_pass(const parafit::Model& m, const std::vector<double>& theta, const std::vector<double>& x,
                     bool jacobian, int reps, double* sink) {
  const std::size_t p = m.num_parameters();
  std::vector<double> f(kBlockRows), J(p * kBlockRows);
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    double s = 0.0;
    const auto t0 = Clock::now();
    for (std::size_t b = 0; b < x.size(); b += kBlockRows) {
      const std::size_t n = std::min(kBlockRows, x.size() - b);
      const double* in[] = {x.data() + b};
      m.evaluate(theta.data(), parafit::RowBlock{n, in}, f.data(), jacobian ? J.data() : nullptr, kBlockRows);
      s += f[0] + (jacobian ? J[kBlockRows] : 0.0);
    }
    best = std::min(best, seconds_since(t0));
    *sink += s;
  }
  return best;
}

// A model measured: a formula (text over x) or a built-in (name), and its parameters.
struct Case {
  std::string label;
  std::string formula;  // empty for a built-in
  std::string builtin;
  std::vector<double> theta;
};

const std::vector<Case> kCases = {
    {"a*exp(-b*x)+c", "a*exp(-b*x)+c", "", {2.5, 1.3, 0.5}},
    {"built-in exp-decay", "", "exp-decay", {2.5, 1.3, 0.5}},
    {"a + b*log(x)", "a + b*log(x)", "", {0.5, 1.5}},
    {"built-in log", "", "log", {0.5, 1.5}},
    {"a*x^b", "a*x^b", "", {2.0, 0.7}},
    {"built-in power", "", "power", {2.0, 0.7}},
    {"(a + b*x)/(1 + c*x*x)", "(a + b*x)/(1 + c*x*x)", "", {1.0, 2.0, 0.3}},
    {"a*min(x, b) + abs(x - c)", "a*min(x, b) + abs(x - c)", "", {1.5, 2.0, 2.5}},
};

// ns per row with J and without, for every case, on the target active now (formulas compiled now).
std::vector<std::pair<double, double>> measure(const std::vector<double>& x, int reps, double* sink) {
  std::vector<std::pair<double, double>> out;
  for (const Case& c : kCases) {
    std::unique_ptr<parafit::Model> owned;
    parafit::CompiledFormula compiled;
    const parafit::Model* m = nullptr;
    if (c.formula.empty()) {
      owned = parafit::make_builtin_model(c.builtin);
      m = owned.get();
    } else {
      compiled = parafit::compile_formula({c.formula, {"x"}, {}, {}});
      m = compiled.model.get();
    }
    const double fj = evaluate_pass(*m, c.theta, x, true, reps, sink);
    const double f = evaluate_pass(*m, c.theta, x, false, reps, sink);
    out.emplace_back(fj / double(x.size()) * 1e9, f / double(x.size()) * 1e9);
  }
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The "AB" lines of `program --default rows`: case index -> (f and J, f only) ns/row.
std::vector<std::pair<double, double>> run_other(const std::string& program, std::size_t rows) {
  const std::string cmd = program + " --default " + std::to_string(rows);
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + program);
  std::vector<std::pair<double, double>> out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    std::istringstream line(buf);
    std::string tag;
    std::size_t k = 0;
    double fj = 0, f = 0;
    if (line >> tag >> k >> fj >> f && tag == "AB") out.emplace_back(fj, f);
  }
  if (pclose(p) != 0 || out.size() != kCases.size()) throw std::runtime_error(cmd + " failed");
  return out;
}

std::vector<double> w1_x(std::size_t rows, std::vector<double>* y) {
  std::vector<double> x(rows);
  if (y != nullptr) y->resize(rows);
  std::mt19937_64 rng(20261126);
  auto uniform = [&] { return double(rng() >> 11) * 0x1.0p-53; };
  for (std::size_t i = 0; i < rows; ++i) {
    x[i] = 5.0 * uniform();
    const double z = std::sqrt(-2.0 * std::log(1.0 - uniform())) * std::cos(2 * std::numbers::pi * uniform());
    if (y != nullptr) (*y)[i] = 2.5 * std::exp(-1.3 * x[i]) + 0.5 + 0.05 * z;
  }
  return x;
}

int ab(const std::string& other, std::size_t rows, int rounds) {
  fmt::print("{}\nA/B on the default target ({}), {} rows, {} rounds alternating: B = this program, A = {}\n",
             cpu_model(), parafit::simd::active_target().name, rows, rounds, other);
  const std::vector<double> x = w1_x(rows, nullptr);
  std::vector<std::vector<double>> a_fj(kCases.size()), a_f(kCases.size()), b_fj(kCases.size()), b_f(kCases.size());
  double sink = 0.0;
  for (int r = 0; r < rounds; ++r) {
    const auto a = run_other(other, rows);
    const auto b = measure(x, 3, &sink);
    for (std::size_t k = 0; k < kCases.size(); ++k) {
      a_fj[k].push_back(a[k].first);
      a_f[k].push_back(a[k].second);
      b_fj[k].push_back(b[k].first);
      b_f[k].push_back(b[k].second);
    }
  }
  fmt::print("{:<26} {:>10} {:>10} {:>7}   {:>10} {:>10} {:>7}   (ns/row, medians)\n", "model", "A f+J", "B f+J",
             "B/A", "A f", "B f", "B/A");
  for (std::size_t k = 0; k < kCases.size(); ++k) {
    const double afj = median(a_fj[k]), bfj = median(b_fj[k]), af = median(a_f[k]), bf = median(b_f[k]);
    fmt::print("{:<26} {:>10.2f} {:>10.2f} {:>7.2f}   {:>10.2f} {:>10.2f} {:>7.2f}\n", kCases[k].label, afj, bfj,
               bfj / afj, af, bf, bf / af);
  }
  fmt::print("[checksum {:.6e}]\n", sink);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--default") {
    const std::size_t rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000'000;
    double sink = 0.0;
    const auto r = measure(w1_x(rows, nullptr), 3, &sink);
    for (std::size_t k = 0; k < r.size(); ++k) fmt::print("AB {} {:.4f} {:.4f}\n", k, r[k].first, r[k].second);
    fmt::print("[checksum {:.6e}]\n", sink);
    return 0;
  }
  if (mode == "--ab") {
    if (argc < 3) {
      fmt::print(stderr, "usage: bench_formula --ab OTHER [rows] [rounds]\n");
      return 2;
    }
    return ab(argv[2], argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 2'000'000, argc > 4 ? std::atoi(argv[4]) : 5);
  }

  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  std::vector<double> y;
  std::vector<double> x = w1_x(rows, &y);

  fmt::print("{}\nW1 x: {} rows; Model::evaluate over blocks of {} rows, 1 thread, best of 5; ns/row\n", cpu_model(),
             rows, kBlockRows);
  const auto targets = parafit::simd::available_targets();
  fmt::print("{:<26}", "model");
  for (const auto& t : targets) fmt::print(" {:>8} f+J {:>6} f", t.name, t.name);
  fmt::print("\n");
  double sink = 0.0;
  std::vector<std::vector<std::pair<double, double>>> per_target;
  for (const auto& t : targets) {
    parafit::simd::ScopedTarget forced(t);
    per_target.push_back(measure(x, 5, &sink));
  }
  for (std::size_t k = 0; k < kCases.size(); ++k) {
    fmt::print("{:<26}", kCases[k].label);
    for (const auto& r : per_target) fmt::print(" {:>12.2f} {:>8.2f}", r[k].first, r[k].second);
    fmt::print("\n");
  }
  fmt::print("[checksum {:.6e}]\n", sink);

  const std::string formula = "a*exp(-b*x)+c";
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
      fmt::print("fit {:<14} not run: {}\n", spec.model, std::string(e.what()).substr(0, 80));
    }
  }
  if (fit_seconds[0] > 0 && fit_seconds[1] > 0)
    fmt::print("fit formula/built-in {:.2f} ({} thread{})\n", fit_seconds[1] / fit_seconds[0], threads,
               threads > 1 ? "s" : "");
  return 0;
}
