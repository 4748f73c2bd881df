// batch/lane_step.h — the damped LM steps of kFitLanes fits at once, one fit per SIMD lane.
//
// solve/damped_step.cpp takes one fit's step: a chain of divisions that waits on itself (about
// 70 ns for 4 parameters), the largest cost of a batch fit once its model and sums run in lanes.
// Here every lane does exactly damped_step's operations in the same order (Mul then Add, never
// fused; IEEE division and square root), so a lane's step has damped_step's bits on every target,
// and the lanes' chains overlap. Fits of up to kMaxLaneStepParameters free parameters; larger ones
// take damped_step one by one.
#pragma once

#include <cstddef>

#include "batch/lane_kernels.h"
#include "solve/damped_step.h"

namespace parafit::detail {

inline constexpr std::size_t kMaxLaneStepParameters = 6;

// Value a of lane l at [a * kFitLanes + l] (H: element a * q + b of damped_step's H at a * q + b).
struct LaneStepInput {
  static constexpr std::size_t Q = kMaxLaneStepParameters, L = kFitLanes;
  alignas(64) double H[Q * Q * L] = {};
  alignas(64) double g[Q * L] = {}, scale2[Q * L] = {};
  alignas(64) double held[Q * L] = {};  // 1: held at a bound, 0: free
  alignas(64) double theta[Q * L] = {}, lower[Q * L] = {}, upper[Q * L] = {};
  alignas(64) double lambda[L] = {};

  // Lane l takes one fit's damped_step input (q <= Q).
  void set(std::size_t l, const DampedStepInput& in);
};

struct LaneStepOutput {
  static constexpr std::size_t Q = kMaxLaneStepParameters, L = kFitLanes;
  alignas(64) double trial[Q * L];
  alignas(64) double solved[L], predicted[L], scaled_step[L], scaled_theta[L];

  // Lane l's step as damped_step returns it, its trial in trial_out (q values).
  DampedStep get(std::size_t l, std::size_t q, double* trial_out) const;
};

// Every lane's step for q free parameters (1 <= q <= kMaxLaneStepParameters). Lanes that hold no
// fit compute on whatever they hold; their results mean nothing.
void lane_damped_steps(std::size_t q, const LaneStepInput& in, LaneStepOutput& out);

}  // namespace parafit::detail
