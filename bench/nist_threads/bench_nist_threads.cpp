// bench_nist_threads — small problems are never slower on more threads: the 54 NIST StRD fits
// (27 problems, tens to a few hundred rows each, from both starting points) through parafit::fit,
// the command line's code path (fit, statistics, formula models), with 1 and with 2 threads.
// The parallel layer picks the threads it uses from the work (parallel/chunked_sum.cpp): a fit of
// fewer rows than one chunk runs on one thread whatever --threads says. Rounds alternate 1 and 2
// threads so that the machine's drift hits both alike; the figures are per-fit medians over the
// rounds, and the total of those, with best-of-rounds beside them.
//
//   bench_nist_threads [rounds]      (default 15)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "nist_fit.h"
#include "nist_models.h"
#include "nist_problem.h"
#include "parafit/fit.h"

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  struct Fit {
    std::string name;
    parafit::Dataset data;
    parafit::FitSpec spec;
    std::size_t rows = 0;
    std::vector<double> seconds[2];  // per round, 1 and 2 threads
  };
  std::vector<Fit> fits;
  for (const nist::NistModel& m : nist::nist_models()) {
    const nist::NistProblem p = nist::read_nist_problem(std::string(PARAFIT_NIST_DATA_DIR) + "/" + m.name + ".dat");
    for (int start : {1, 2}) {
      Fit f;
      f.name = fmt::format("{} s{}", m.name, start);
      f.data = p.dataset();
      f.spec = nist::nist_fit_spec(p, m.formula, start);
      f.rows = f.data.rows();
      fits.push_back(std::move(f));
    }
  }
  fmt::print("54 NIST StRD fits through parafit::fit, 1 vs 2 threads, {} rounds alternating; CPU: {}\n", rounds,
             cpu_model());
  using Clock = std::chrono::steady_clock;
  for (int round = 0; round < rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      const int t = (round + k) % 2;  // 1,2 then 2,1 ...
      const parafit::Context ctx{.threads = t + 1};
      for (Fit& f : fits) {
        const auto t0 = Clock::now();
        const parafit::FitResult r = parafit::fit(f.data, f.spec, ctx);
        f.seconds[t].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        if (r.summary.iterations < 0) std::abort();  // keeps the fit from being optimised away
      }
    }
  }
  double total[2] = {0, 0}, best_total[2] = {0, 0};
  double worst_ratio = 0;
  std::string worst;
  fmt::print("\n{:<14} {:>5} {:>12} {:>12} {:>8}\n", "fit", "rows", "1 thread us", "2 threads us", "2t / 1t");
  for (const Fit& f : fits) {
    const double m1 = median(f.seconds[0]), m2 = median(f.seconds[1]);
    total[0] += m1;
    total[1] += m2;
    best_total[0] += *std::min_element(f.seconds[0].begin(), f.seconds[0].end());
    best_total[1] += *std::min_element(f.seconds[1].begin(), f.seconds[1].end());
    if (m2 / m1 > worst_ratio) {
      worst_ratio = m2 / m1;
      worst = f.name;
    }
    fmt::print("{:<14} {:>5} {:>12.1f} {:>12.1f} {:>8.3f}\n", f.name, f.rows, m1 * 1e6, m2 * 1e6, m2 / m1);
  }
  fmt::print("\nall 54 fits, sum of per-fit medians: 1 thread {:.3f} ms, 2 threads {:.3f} ms, ratio 2t/1t {:.3f}\n",
             total[0] * 1e3, total[1] * 1e3, total[1] / total[0]);
  fmt::print("all 54 fits, sum of per-fit bests:   1 thread {:.3f} ms, 2 threads {:.3f} ms, ratio 2t/1t {:.3f}\n",
             best_total[0] * 1e3, best_total[1] * 1e3, best_total[1] / best_total[0]);
  fmt::print("largest per-fit ratio of medians: {:.3f} ({})\n", worst_ratio, worst);
  return 0;
}
