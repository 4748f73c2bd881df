#include "batch/small_lm.h"

#include <algorithm>
#include <cmath>

#include "solve/lm_rules.h"
#include "solve/rank_deficiency.h"

namespace parafit::detail {
namespace {


// True when rank_deficiency would find H (over `est`) of full rank, proven without its
// eigen-decomposition: scaled to unit diagonal, S has lambda_max <= trace(S) = k and
// lambda_min >= 1 / trace(S^-1), so 1 / trace(S^-1) > 1000 * kRankTolerance * k leaves a margin of
// 1000 over its threshold. False says nothing: the caller then ranks H properly.
bool clearly_full_rank(const SmallMatrix& H, const std::vector<Eigen::Index>& est) {
  const Eigen::Index k = Eigen::Index(est.size());
  if (k == 0) return true;
  SmallVector d(k);
  for (Eigen::Index a = 0; a < k; ++a) {
    const double h = H(est[std::size_t(a)], est[std::size_t(a)]);
    if (!(h > 0) || !std::isfinite(h)) return false;
    d(a) = std::sqrt(h);
  }
  SmallMatrix S(k, k);
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index b = 0; b < k; ++b) S(a, b) = H(est[std::size_t(a)], est[std::size_t(b)]) / (d(a) * d(b));
  const Eigen::LLT<SmallMatrix> llt(S);
  if (llt.info() != Eigen::Success) return false;
  const double trace = llt.solve(SmallMatrix::Identity(k, k)).trace();
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
  started_ = false;
  done_ = false;
}

bool SmallLm::active(Eigen::Index a, const SmallVector& g) const {
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

bool SmallLm::feed(const SmallSums& sums) {
  if (!started_) {
    started_ = true;
    cost_ = sums.cost;
    g_ = sums.g;
    H_ = sums.H;
    if (!sums.finite()) {
      finish(Termination::kNonFiniteStart);
      return false;
    }
    scale2_ = H_.diagonal();
    for (Eigen::Index a = 0; a < scale2_.size(); ++a)
      if (!(scale2_(a) > 0)) scale2_(a) = 1.0;
    if (cosine(g_, H_, cost_) <= setup_->options.gradient_tolerance) {
      finish(Termination::kGradientTolerance);
      return false;
    }
    return advance();
  }
  const LevenbergMarquardtOptions& o = setup_->options;
  bool accept = false;
  double rho = 0;
  if (sums.finite()) {
    const double actual = cost_ - sums.cost;
    rho = actual / predicted_;
    accept = rho > o.min_relative_decrease;
    if (accept && std::abs(actual) <= o.function_tolerance * cost_ && predicted_ <= o.function_tolerance * cost_ &&
        rho <= 2.0) {
      theta_ = trial_;
      cost_ = sums.cost;
      g_ = sums.g;
      H_ = sums.H;
      finish(Termination::kFunctionTolerance);
      return false;
    }
  }
  if (accept) {
    theta_ = trial_;
    cost_ = sums.cost;
    g_ = sums.g;
    H_ = sums.H;
  }
  return after_step(accept, rho) && advance();
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

bool SmallLm::advance() {
  const LevenbergMarquardtOptions& o = setup_->options;
  const Eigen::Index q = g_.size();
  for (;;) {
    if (iterations_ >= o.max_iterations) {
      finish(Termination::kMaxIterations);
      return false;
    }
    ++iterations_;
    // Solve (H + lambda D^2) delta = g on the parameters not held at a bound, in the scaled
    // variables D delta.
    SmallMatrix A = H_;
    SmallVector rhs = g_;
    for (Eigen::Index a = 0; a < q; ++a) {
      A(a, a) += lambda_ * scale2_(a);
      if (active(a, g_)) {
        A.row(a).setZero();
        A.col(a).setZero();
        A(a, a) = 1.0;
        rhs(a) = 0.0;
      }
    }
    const SmallVector d = scale2_.cwiseSqrt();
    const SmallMatrix As = d.cwiseInverse().asDiagonal() * A * d.cwiseInverse().asDiagonal();
    Eigen::LDLT<SmallMatrix> ldlt(As);
    const SmallVector delta = d.cwiseInverse().asDiagonal() * ldlt.solve(d.cwiseInverse().asDiagonal() * rhs);
    if (ldlt.info() == Eigen::Success && delta.allFinite()) {
      SmallVector step(q);
      trial_ = theta_;
      for (Eigen::Index a = 0; a < q; ++a) {
        const Eigen::Index j = Eigen::Index(setup_->free[std::size_t(a)]);
        const ParameterBounds b = setup_->bounds[std::size_t(j)];
        trial_(j) = std::clamp(theta_(j) + delta(a), b.lower, b.upper);
        step(a) = trial_(j) - theta_(j);
      }
      const double predicted = 2.0 * g_.dot(step) - step.dot(H_ * step);
      const double scaled_step = (d.asDiagonal() * step).norm();
      double scaled_theta = 0;
      for (Eigen::Index a = 0; a < q; ++a)
        scaled_theta += std::pow(d(a) * theta_(Eigen::Index(setup_->free[std::size_t(a)])), 2);
      scaled_theta = std::sqrt(scaled_theta);
      if (scaled_step <= o.parameter_tolerance * (scaled_theta + o.parameter_tolerance)) {
        finish(Termination::kParameterTolerance);
        return false;
      }
      if (predicted > 0) {
        predicted_ = predicted;
        return true;  // evaluate the trial
      }
    }
    if (!after_step(false, 0.0)) return false;
  }
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
      std::vector<Eigen::Index> est;
      for (Eigen::Index a = 0; a < H_.rows(); ++a)
        if (!active(a, g_)) est.push_back(a);
      if (!clearly_full_rank(H_, est) && rank_deficiency(Eigen::MatrixXd(H_)(est, est)).deficient())
        t = Termination::kSingularGradient;
    }
  }
  done_ = true;
  termination_ = t;
}

}  // namespace parafit::detail
