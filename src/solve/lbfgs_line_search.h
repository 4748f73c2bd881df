// The strong-Wolfe line search of lbfgs_minimize (see parafit/lbfgs.h): bracketing, then a zoom
// with safeguarded cubic/quadratic interpolation (Nocedal & Wright, Algorithms 3.5 and 3.6).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "parafit/lbfgs.h"

namespace parafit::detail {

// sum_i a_i b_i in a fixed order (four interleaved partial sums, then (s0 + s1) + (s2 + s3)),
// whatever the alignment of a and b.
double fixed_order_dot(std::span<const double> a, std::span<const double> b);

// The minimizer of the cubic through (a, fa, ga) and (b, fb, gb) (values and slopes), or NaN if it
// has none. N&W eq. (3.59), scaled against overflow.
double cubic_minimizer(double a, double fa, double ga, double b, double fb, double gb);
// The minimizer of the quadratic through (a, fa, ga) and (b, fb), or NaN if it is not convex.
double quadratic_minimizer(double a, double fa, double ga, double b, double fb);

struct LineSearchResult {
  // A step with sufficient decrease was found: its point, gradient and cost are in the workspace
  // (x_best, g_best, cost). `wolfe` says whether it also meets the curvature condition (if not,
  // the evaluations ran out while narrowing the bracket).
  bool found = false;
  bool wolfe = false;
  double alpha = 0;
  double cost = 0;
  int evaluations = 0;
};

class StrongWolfeLineSearch {
 public:
  StrongWolfeLineSearch(const Objective& f, std::size_t n, const LbfgsOptions& options);

  // Searches along d from x (cost f0, slope g'd = slope0 < 0), first trying alpha0.
  LineSearchResult Search(std::span<const double> x, double f0, std::span<const double> d,
                          double slope0, double alpha0);

  // The accepted point and its gradient (valid after a Search that found a step).
  std::span<const double> x_best() const { return x_best_; }
  std::span<const double> g_best() const { return g_best_; }

 private:
  // A trial step: its length, cost and slope g(x + alpha d)'d; finite = both are finite.
  struct Trial {
    double alpha = 0, cost = 0, slope = 0;
    bool finite = true;
  };
  Trial Evaluate(double alpha);
  // Keeps the trial just evaluated as the best point (swaps buffers).
  void KeepTrial();
  // Narrows [lo, hi] (lo: the best point so far, with sufficient decrease) to a strong Wolfe step.
  LineSearchResult Zoom(Trial lo, Trial hi);
  LineSearchResult Accept(const Trial& t, bool wolfe) const;

  const Objective& f_;
  LbfgsOptions options_;
  std::vector<double> x_trial_, g_trial_, x_best_, g_best_;
  // The current search.
  std::span<const double> x_, d_;
  double f0_ = 0, slope0_ = 0;
  int evaluations_ = 0;
};

}  // namespace parafit::detail
