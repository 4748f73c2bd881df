// nist_certified.h — evaluates a problem's formula at the certified parameters, independently of
// the solver: the residual sum of squares there, and the standard errors
// sigma * sqrt(diag((J^T J)^-1)) with NIST's certified residual standard deviation as sigma.
// Checks the formula strings, the parser and the formula compiler against NIST's numbers.
#pragma once

#include <string>
#include <vector>

#include "nist_problem.h"

namespace nist {

struct CertifiedEvaluation {
  double rss = 0;                  // sum (response - f(x; certified))^2
  std::vector<double> std_errors;  // in the file's parameter order
  std::vector<double> se_lre;      // LRE against the certified standard deviations
  double min_se_lre = 0;
};

// Compiles `formula` with parafit::compile_formula (parameters in the file's order) and evaluates
// it and its Jacobian over the data at the certified values. Throws parafit::Error if the formula
// does not compile or names other parameters than the file.
CertifiedEvaluation evaluate_at_certified(const NistProblem& p, const std::string& formula);

}  // namespace nist
