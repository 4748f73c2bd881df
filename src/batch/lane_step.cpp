// Lane steps (batch/lane_step.h), compiled per target by hwy/foreach_target.h: damped_step
// (solve/damped_step.cpp, with small_ldlt.h's factorisation and solves) operation for operation on
// vectors of fits.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "batch/lane_step.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "batch/lane_step.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using StepTag = hn::CappedTag<double, kFitLanes>;

template <std::size_t Q>
void StepsFixed(const LaneStepInput& in, LaneStepOutput& out) {
  const StepTag d;
  using V = hn::Vec<StepTag>;
  using M = hn::Mask<StepTag>;
  constexpr std::size_t L = kFitLanes;
  const V zero = hn::Zero(d), one = hn::Set(d, 1.0), two = hn::Set(d, 2.0);
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto at = [&](const double* p, std::size_t a) { return hn::LoadU(d, p + a * L + l0); };
    V root[Q], inv[Q], A[Q * Q], piv[Q], z[Q], w[Q], s[Q];
    M held[Q];
    for (std::size_t a = 0; a < Q; ++a) {
      root[a] = hn::Sqrt(at(in.scale2, a));  // root_scales
      inv[a] = hn::Div(one, root[a]);
      held[a] = hn::Ne(at(in.held, a), zero);
    }
    const V lambda = at(in.lambda, 0);
    // The scaled damped matrix (lower triangle) and right side.
    for (std::size_t a = 0; a < Q; ++a) {
      for (std::size_t b = 0; b <= a; ++b) {
        V v = at(in.H, a * Q + b);
        if (a == b) v = hn::Add(v, hn::Mul(lambda, at(in.scale2, a)));
        v = hn::Mul(hn::Mul(inv[a], v), inv[b]);
        A[a * Q + b] = hn::IfThenElse(hn::Or(held[a], held[b]), a == b ? one : zero, v);
      }
      z[a] = hn::IfThenElse(held[a], zero, hn::Mul(inv[a], at(in.g, a)));
    }
    // LDL^T (ldlt_in_place).
    M ok = hn::Eq(zero, zero);
    for (std::size_t k = 0; k < Q; ++k) {
      V dk = A[k * Q + k];
      for (std::size_t j = 0; j < k; ++j) {
        w[j] = hn::Mul(A[k * Q + j], piv[j]);
        dk = hn::Sub(dk, hn::Mul(A[k * Q + j], w[j]));
      }
      ok = hn::And(ok, hn::And(hn::Gt(dk, zero), hn::IsFinite(dk)));
      piv[k] = dk;
      for (std::size_t i = k + 1; i < Q; ++i) {
        V v = A[i * Q + k];
        for (std::size_t j = 0; j < k; ++j) v = hn::Sub(v, hn::Mul(A[i * Q + j], w[j]));
        A[i * Q + k] = hn::Div(v, dk);
      }
    }
    // ldlt_solve.
    for (std::size_t i = 0; i < Q; ++i)
      for (std::size_t j = 0; j < i; ++j) z[i] = hn::Sub(z[i], hn::Mul(A[i * Q + j], z[j]));
    for (std::size_t i = 0; i < Q; ++i) z[i] = hn::Div(z[i], piv[i]);
    for (std::size_t i = Q; i-- > 0;)
      for (std::size_t j = i + 1; j < Q; ++j) z[i] = hn::Sub(z[i], hn::Mul(A[j * Q + i], z[j]));
    for (std::size_t a = 0; a < Q; ++a) ok = hn::And(ok, hn::IsFinite(hn::Mul(inv[a], z[a])));
    // The trial clamped into the bounds (std::clamp), the step taken, and its measures.
    for (std::size_t a = 0; a < Q; ++a) {
      const V th = at(in.theta, a), lo = at(in.lower, a), hi = at(in.upper, a);
      const V v = hn::Add(th, hn::Mul(inv[a], z[a]));
      const V t = hn::IfThenElse(hn::Lt(v, lo), lo, hn::IfThenElse(hn::Lt(hi, v), hi, v));
      hn::StoreU(t, d, out.trial + a * L + l0);
      s[a] = hn::Sub(t, th);
    }
    V gs = zero, sHs = zero, step2 = zero, theta2 = zero;
    for (std::size_t a = 0; a < Q; ++a) {
      gs = hn::Add(gs, hn::Mul(at(in.g, a), s[a]));
      V Hs = zero;
      for (std::size_t b = 0; b < Q; ++b) Hs = hn::Add(Hs, hn::Mul(at(in.H, a * Q + b), s[b]));
      sHs = hn::Add(sHs, hn::Mul(s[a], Hs));
      const V ds = hn::Mul(root[a], s[a]), dt = hn::Mul(root[a], at(in.theta, a));
      step2 = hn::Add(step2, hn::Mul(ds, ds));
      theta2 = hn::Add(theta2, hn::Mul(dt, dt));
    }
    hn::StoreU(hn::IfThenElseZero(ok, one), d, out.solved + l0);
    hn::StoreU(hn::Sub(hn::Mul(two, gs), sHs), d, out.predicted + l0);
    hn::StoreU(hn::Sqrt(step2), d, out.scaled_step + l0);
    hn::StoreU(hn::Sqrt(theta2), d, out.scaled_theta + l0);
  }
}

void LaneDampedSteps(std::size_t q, const LaneStepInput& in, LaneStepOutput& out) {
  switch (q) {
    case 1: return StepsFixed<1>(in, out);
    case 2: return StepsFixed<2>(in, out);
    case 3: return StepsFixed<3>(in, out);
    case 4: return StepsFixed<4>(in, out);
    case 5: return StepsFixed<5>(in, out);
    case 6: return StepsFixed<6>(in, out);
    default: break;
  }
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::detail {

HWY_EXPORT(LaneDampedSteps);

void LaneStepInput::set(std::size_t l, const DampedStepInput& in) {
  const std::size_t q = in.q;
  for (std::size_t a = 0; a < q; ++a) {
    for (std::size_t b = 0; b < q; ++b) H[(a * q + b) * L + l] = in.H[a * q + b];
    g[a * L + l] = in.g[a];
    scale2[a * L + l] = in.scale2[a];
    held[a * L + l] = in.active[a] ? 1.0 : 0.0;
    theta[a * L + l] = in.theta[a];
    lower[a * L + l] = in.lower[a];
    upper[a * L + l] = in.upper[a];
  }
  lambda[l] = in.lambda;
}

DampedStep LaneStepOutput::get(std::size_t l, std::size_t q, double* trial_out) const {
  if (solved[l] == 0.0) return {};
  for (std::size_t a = 0; a < q; ++a) trial_out[a] = trial[a * L + l];
  return {true, predicted[l], scaled_step[l], scaled_theta[l]};
}

void lane_damped_steps(std::size_t q, const LaneStepInput& in, LaneStepOutput& out) {
  HWY_DYNAMIC_DISPATCH(LaneDampedSteps)(q, in, out);
}

}  // namespace parafit::detail
#endif  // HWY_ONCE
