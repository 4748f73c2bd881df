// nist_table — fits the 27 NIST StRD nonlinear-regression problems from both starting points
// (54 fits) through parafit::fit with the default solver options, and prints how many significant
// digits (LRE) of the certified parameters, standard errors and residual sum of squares each fit
// reproduces.
//
//   nist_table [data_dir]     data_dir: the folder of .dat files (default: tests/data/nist)
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "nist_fit.h"
#include "nist_models.h"
#include "nist_problem.h"

int main(int argc, char** argv) {
  std::string dir = PARAFIT_NIST_DATA_DIR;
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    fmt::print(argc > 2 ? stderr : stdout,
               "usage: nist_table [data_dir]\n"
               "Fits the 27 NIST StRD nonlinear problems from both starts and prints the LREs.\n"
               "data_dir defaults to {}\n", dir);
    return argc > 2 ? 2 : 0;
  }
  if (argc == 2) dir = argv[1];

  std::vector<nist::NistProblem> problems;
  try {
    for (const nist::NistModel& m : nist::nist_models())
      problems.push_back(nist::read_nist_problem(dir + "/" + m.name + ".dat"));
  } catch (const std::exception& e) {
    fmt::print(stderr, "nist_table: {}\n", e.what());
    return 1;
  }

  fmt::print("NIST StRD nonlinear regression: parafit::fit, default solver options\n");
  fmt::print("LRE = -log10(|estimate - certified| / |certified|), capped at 11; 'param' and 'se' "
             "are minima over the parameters; 'offset' is R's relative-offset convergence criterion, 'cosine' LM's largest gradient cosine\n\n");
  fmt::print("{:<10} {:>5}  {:<8} {:>6} {:>6} {:>6} {:>6} {:>9} {:>9}  {}\n", "problem", "start", "level",
             "param", "se", "RSS", "iter", "offset", "cosine", "termination");

  int total = 0, at4 = 0, at6 = 0, at8 = 0, converged = 0;
  std::vector<std::string> notes;
  for (std::size_t k = 0; k < problems.size(); ++k) {
    const nist::NistModel& m = nist::nist_models()[k];
    const nist::NistProblem& p = problems[k];
    for (int start : {1, 2}) {
      const nist::NistFitOutcome r = nist::run_nist_fit(p, m.formula, start);
      ++total;
      at4 += r.min_param_lre >= 4;
      at6 += r.min_param_lre >= 6;
      at8 += r.min_param_lre >= 8;
      converged += r.converged;
      const std::string rss = nist::rss_is_unreachable(m.name) ? fmt::format("({:.1f})", r.rss_lre)
                                                               : fmt::format("{:.1f}", r.rss_lre);
      fmt::print("{:<10} {:>5}  {:<8} {:>6.1f} {:>6.1f} {:>6} {:>6} {:>9.2e} {:>9.2e}  {}\n", m.name, start,
                 p.difficulty, r.min_param_lre, r.min_se_lre, rss, r.iterations, r.relative_offset,
                 r.max_gradient_cosine,
                 r.converged ? r.termination : r.termination + " (not converged)");
      if (!r.error.empty()) notes.push_back(fmt::format("{} start {}: {}", m.name, start, r.error));
    }
  }
  fmt::print("\nfits with min parameter LRE >= 4: {}/{}, >= 6: {}/{}, >= 8: {}/{}; converged: {}/{}\n",
             at4, total, at6, total, at8, total, converged, total);
  fmt::print("(RSS LRE in parentheses: Lanczos1's certified RSS, 1.4e-25, is below what double "
             "precision can resolve; judge it by its parameters)\n");
  if (!notes.empty()) {
    fmt::print("\nerrors:\n");
    for (const std::string& n : notes) fmt::print("  {}\n", n);
  }
  return 0;
}
