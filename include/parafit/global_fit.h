// parafit/global_fit.h — one model fitted to several data sets at once, some parameters shared by
// all of them (a common rate constant) and the others each set's own (an amplitude per set): what
// `parafit fit --group COL --shared k,c` does.
//
// One Levenberg-Marquardt over all k + G m unknowns (k shared, m per group, G groups), with
// `fit`'s rules (Moré's scaling, Nielsen's damping, its three tolerances). Its normal equations
//   [ A    B_1 ... B_G ] [d_S]   [g_S]
//   [ B_g^T  D_g       ] [d_g] = [g_g]        (block diagonal in the groups)
// are solved with every group's block eliminated: the Schur complement
//   S = A - sum_g B_g D_g^-1 B_g^T  (k x k)
// gives d_S, then each d_g = D_g^-1 (g_g - B_g^T d_S). Time and memory grow linearly with G. The
// groups' blocks are accumulated in parallel over threads, and the shared sums added in group order,
// so the result has the same bits for any number of threads.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "parafit/batch.h"
#include "parafit/context.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/model.h"
#include "parafit/problem.h"

namespace parafit {

struct GlobalFitSpec {
  std::vector<std::size_t> shared;  // indices of the shared parameters (at least one; not all)
  // Start values of all p parameters (the shared ones for all groups, the others for every group);
  // NaN entries are taken from the model's self-start on each group (shared ones: the median over
  // the groups). Empty: every value self-starts.
  std::vector<double> start;
  // Parameters held at a value in every group (index, value): neither shared nor per group.
  std::vector<std::pair<std::size_t, double>> fix;
  // Empty, or a box per parameter (a shared one's, and every group's value of a per-group one):
  // `fit`'s handling (steps clamped into the box; a parameter on its bound with the gradient
  // pointing out of the box takes no part in the step, and has no standard error at the end).
  std::vector<ParameterBounds> bounds;
  LevenbergMarquardtOptions solver;
  double confidence_level = 0.95;
};

struct GlobalFitResult {
  std::vector<std::string> parameter_names;  // the model's
  std::vector<std::size_t> shared, local;    // parameter indices, shared and per group
  std::vector<std::pair<std::size_t, double>> fixed;  // held parameters and their values
  std::vector<std::string> group_ids;
  Termination termination = Termination::kMaxIterations;
  std::string message;
  int iterations = 0;
  double rss = 0, initial_rss = 0;
  std::size_t observations = 0;  // rows with non-zero weight
  double df = 0;                 // observations - the unknowns estimated (k + G m, less those at a bound)
  double sigma = 0;              // sqrt(rss / df)
  // As `fit`'s (parafit/statistics.h), over all rows, with every unknown and sigma counted in
  // AIC and BIC: 1 - RSS/TSS about the weighted mean of y, adjusted for df; the Gaussian
  // log-likelihood at sigma^2 = RSS/n (weights as known precisions).
  double tss = 0, r_squared = 0, adj_r_squared = 0, log_likelihood = 0, aic = 0, bic = 0;
  std::vector<double> shared_estimates, shared_std_errors;  // k
  Eigen::MatrixXd shared_covariance;                        // k x k: sigma^2 S^-1
  std::vector<double> local_estimates, local_std_errors;    // G x m, group by group
  std::vector<bool> shared_at_bound, local_at_bound;        // k and G x m: held at a bound
  bool singular = false;  // J^T W J is rank-deficient at the estimates: no standard errors

  bool converged() const { return parafit::converged(termination); }
};

// Fits `model` to every group of `data` (one group per fit of BatchData; under a communicator, this
// rank's run of the groups, ranks in group order) with the parameters spec.shared common to all.
// A collective call under a communicator: every rank must call it. Throws parafit::Error for a bad
// spec (no shared parameter, no per-group parameter left, an index out of range, a parameter both
// shared and fixed, a start of the wrong length), too few rows for the unknowns, or a start where
// the model is not finite.
GlobalFitResult fit_global(const Model& model, const BatchData& data, const GlobalFitSpec& spec,
                           const Context& context = {});

}  // namespace parafit
