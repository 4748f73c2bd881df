#include "batch/small_lm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "solve/lm_rules.h"
#include "solve/rank_deficiency.h"
#include "solve/spd_inverse.h"

namespace parafit::detail {
namespace {

// True when rank_deficiency would find H (over `est`) of full rank, proven without its
// eigen-decomposition: scaled to unit diagonal, S has lambda_max <= trace(S) = k and
// lambda_min >= 1 / trace(S^-1), so 1 / trace(S^-1) > 1000 * kRankTolerance * k leaves a margin of
// 1000 over its threshold. False says nothing: the caller then ranks H properly. On the way it
// inverts H over `est` as `fit`'s covariance does; its diagonal goes to inverse_diagonal.
bool clearly_full_rank(const SmallMatrix& H, const Eigen::Index* est, Eigen::Index k, SmallVector& inverse_diagonal) {
  if (k == 0) return true;
  double S[kMaxBatchParameters * kMaxBatchParameters], inv[kMaxBatchParameters * kMaxBatchParameters],
      work[spd_inverse_work(kMaxBatchParameters)];
  const std::size_t m = std::size_t(k);
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = 0; b < m; ++b) S[a * m + b] = H(est[a], est[b]);
  if (!scaled_spd_inverse(m, S, inv, work)) return false;
  inverse_diagonal.resize(k);
  // trace(S^-1) of the unit-diagonal S: the scaled inverse's diagonal times H's.
  double trace = 0;
  for (std::size_t a = 0; a < m; ++a) {
    inverse_diagonal(Eigen::Index(a)) = inv[a * m + a];
    trace += inv[a * m + a] * S[a * m + a];
  }
  return std::isfinite(trace) && trace > 0 && 1.0 / trace > 1e3 * kRankTolerance * double(k);
}

}  // namespace

void SmallLm::start(const SmallLmSetup& setup, std::span<const double> theta0, double initial_damping,
                    double max_damping) {
  setup_ = &setup;
  max_damping_ = max_damping;
  theta_ = Eigen::Map<const Eigen::VectorXd>(theta0.data(), Eigen::Index(theta0.size()));
  trial_ = theta_;
  lambda_ = initial_damping;
  nu_ = 2.0;
  iterations_ = 0;
  inverse_known_ = false;
  started_ = false;
  done_ = false;
}

bool SmallLm::active(Eigen::Index a, const SmallVector& g) const {
  if (!setup_->bounded) return false;
  const std::size_t j = setup_->free[std::size_t(a)];
  const ParameterBounds b = setup_->bounds[j];
  const double t = theta_(Eigen::Index(j));
  return (t <= b.lower && g(a) <= 0) || (t >= b.upper && g(a) >= 0);
}

bool SmallLm::at_bound(Eigen::Index a) const { return g_.size() == H_.rows() && active(a, g_); }

double SmallLm::cosine(const SmallVector& g, const SmallMatrix& H, double cost) const {
  if (!(cost > 0)) return 0.0;
  double worst = 0.0;
  for (Eigen::Index a = 0; a < g.size(); ++a) {
    if (active(a, g) || !(H(a, a) > 0)) continue;
    worst = std::max(worst, std::abs(g(a)) / std::sqrt(H(a, a) * cost));
  }
  return worst;
}

double SmallLm::gradient_cosine() const { return g_.size() == H_.rows() ? cosine(g_, H_, cost_) : 0.0; }

SmallLm::Next SmallLm::feed_sums(const SmallSums& sums) {
  if (!started_) {
    started_ = true;
    cost_ = sums.cost;
    g_ = sums.g;
    H_ = sums.H;
    if (!sums.finite()) {
      finish(Termination::kNonFiniteStart);
      return Next::kDone;
    }
    scale2_ = H_.diagonal();
    for (Eigen::Index a = 0; a < scale2_.size(); ++a)
      if (!(scale2_(a) > 0)) scale2_(a) = 1.0;
    if (cosine(g_, H_, cost_) <= setup_->options.gradient_tolerance) {
      finish(Termination::kGradientTolerance);
      return Next::kDone;
    }
    return begin_step();
  }
  const LevenbergMarquardtOptions& o = setup_->options;
  bool accept = false;
  double rho = 0;
  if (sums.finite()) {
    const double actual = cost_ - sums.cost;
    rho = actual / predicted_;
    accept = rho > o.min_relative_decrease;
    const bool within = std::abs(actual) <= o.function_tolerance * cost_ && predicted_ <= o.function_tolerance * cost_;
    // Float sums (float32): both changes within the tolerance end the fit whatever rho says, for
    // rho then measures the cost's rounding, not the model (Cpufit's rule: a change of the cost
    // below the tolerance, either way). A refused step leaves the fit where it is.
    if (within && (setup_->rounded_cost || (accept && rho <= 2.0))) {
      if (accept) {
        theta_ = trial_;
        cost_ = sums.cost;
        g_ = sums.g;
        H_ = sums.H;
      }
      finish(Termination::kFunctionTolerance);
      return Next::kDone;
    }
  }
  if (accept) {
    theta_ = trial_;
    cost_ = sums.cost;
    g_ = sums.g;
    H_ = sums.H;
  }
  return after_step(accept, rho) ? begin_step() : Next::kDone;
}

// The damping update and the stopping rules after a step, taken or not.
bool SmallLm::after_step(bool accepted, double rho) {
  if (accepted) scale2_ = scale2_.cwiseMax(H_.diagonal());
  update_damping(accepted, rho, lambda_, nu_);
  if (cosine(g_, H_, cost_) <= setup_->options.gradient_tolerance) {
    finish(Termination::kGradientTolerance);
    return false;
  }
  if (lambda_ > max_damping_) {
    finish(Termination::kNoProgress);
    return false;
  }
  return true;
}

SmallLm::Next SmallLm::begin_step() {
  if (iterations_ >= setup_->options.max_iterations) {
    finish(Termination::kMaxIterations);
    return Next::kDone;
  }
  ++iterations_;
  return Next::kStep;
}

// The damped step over the parameters not held at a bound (solve/damped_step.h).
DampedStepInput SmallLm::step_input(bool* held, double* theta, double* lower, double* upper) const {
  const Eigen::Index q = g_.size();
  for (Eigen::Index a = 0; a < q; ++a) {
    const std::size_t j = setup_->free[std::size_t(a)];
    const ParameterBounds b = setup_->bounds[j];
    theta[a] = theta_(Eigen::Index(j));
    lower[a] = b.lower;
    upper[a] = b.upper;
    held[a] = active(a, g_);
  }
  return {std::size_t(q), H_.data(), g_.data(), scale2_.data(), held, lambda_, theta, lower, upper};
}

SmallLm::Next SmallLm::take_step(const DampedStep& step, const double* free_trial) {
  const LevenbergMarquardtOptions& o = setup_->options;
  if (step.solved) {
    trial_ = theta_;
    for (Eigen::Index a = 0; a < g_.size(); ++a) trial_(Eigen::Index(setup_->free[std::size_t(a)])) = free_trial[a];
    if (step.scaled_step <= o.parameter_tolerance * (step.scaled_theta + o.parameter_tolerance)) {
      finish(Termination::kParameterTolerance);
      return Next::kDone;
    }
    if (step.predicted > 0) {
      predicted_ = step.predicted;
      return Next::kEvaluate;
    }
  }
  return after_step(false, 0.0) ? begin_step() : Next::kDone;
}

void SmallLm::finish(Termination t) {
  if (converged(t) && H_.rows() > 0) {
    bool flat = false;
    for (Eigen::Index a = 0; a < H_.rows() && !flat; ++a) {
      const double theta = theta_(Eigen::Index(setup_->free[std::size_t(a)]));
      const bool collapsed = !(H_(a, a) > setup_->options.flat_region_threshold * scale2_(a));
      const bool negligible =
          std::abs(theta) * std::sqrt(std::max(H_(a, a), 0.0)) <= kNegligibleEffect * std::sqrt(cost_);
      flat = collapsed && negligible;
    }
    if (flat) {
      t = Termination::kFlatRegion;
    } else if (g_.size() == H_.rows()) {
      Eigen::Index est[kMaxBatchParameters], k = 0;
      for (Eigen::Index a = 0; a < H_.rows(); ++a)
        if (!active(a, g_)) est[k++] = a;
      inverse_known_ = clearly_full_rank(H_, est, k, inverse_diagonal_);
      if (!inverse_known_) {
        const std::vector<Eigen::Index> e(est, est + k);
        if (rank_deficiency(Eigen::MatrixXd(H_)(e, e)).deficient()) t = Termination::kSingularGradient;
      }
    }
  }
  done_ = true;
  termination_ = t;
}

}  // namespace parafit::detail
