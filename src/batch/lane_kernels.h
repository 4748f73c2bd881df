// batch/lane_kernels.h — several fits evaluated at once, one fit per SIMD lane.
//
// A lane group holds kFitLanes fits of the same point count n, their data transposed point by
// point: value v of point i of lane l is at v[i * kFitLanes + l]. The kernels are written once on
// Highway (lane_kernels.cpp) over kFitLanes lanes, as one register (AVX-512), two (AVX2) or
// kFitLanes scalars; every lane does exactly the operations of the family's row kernel and of
// `fit`'s least-squares sums, in the same order, so a fit's bits do not depend on its lane, the
// target or the number of threads.
#pragma once

#include <cstddef>
#include <string_view>

#include "parafit/model.h"

namespace parafit::detail {

inline constexpr std::size_t kFitLanes = 8;
// Float32 batch fits (--float32) run twice as many fits per group: one AVX-512 register of floats.
inline constexpr std::size_t kFitLanesFloat = 16;
template <class T>
inline constexpr std::size_t kLanesOf = sizeof(T) == 4 ? kFitLanesFloat : kFitLanes;

// f (n x lanes) and J (p columns of n x lanes) of a family at theta (p x lanes).
template <class T>
using LaneEvaluateOf = void (*)(std::size_t n, const T* theta, const T* x, T* f, T* J);
using LaneEvaluate = LaneEvaluateOf<double>;

// The lane kernel of a built-in family, or nullptr (formulas, families without one).
LaneEvaluate lane_kernel(const Model& model);
// Its float twin, kFitLanesFloat lanes (the same operations in float, exp and log of float lanes
// from simd/exp-inl.h and log-inl.h; a per-fit constant from exp_scalar or std::log is taken in
// double and rounded to float). The same bits on every target.
LaneEvaluateOf<float> lane_kernel_float(const Model& model);

// `fit`'s least-squares Gram sums of the m columns [r = y - f, J_c0, ...] in lanes: point i goes to
// partial i mod 4; S(k, l) = sum (w v_k) v_l, k <= l, row by row of the upper triangle; out gets,
// per sum and lane, (p0 + p1) + (p2 + p3). `cols` are the m - 1 Jacobian columns (n x lanes each),
// w may be null. out: m (m + 1) / 2 sums x lanes. One block of points (n <= 256) only.
void lane_gram(std::size_t n, std::size_t m, const double* y, const double* f, const double* w,
               const double* const* cols, double* out);
// The same in float lanes (kFitLanesFloat; the sums in float, as Cpufit takes them).
void lane_gram(std::size_t n, std::size_t m, const float* y, const float* f, const float* w, const float* const* cols,
               float* out);

// The Poisson sums of batch_sums in lanes, with its bits: out is [cost, g (q), H lower triangle
// row by row] x lanes; a lane with a point of non-positive mean (and non-zero weight) gets a NaN
// cost.
void lane_poisson(std::size_t n, std::size_t q, const double* y, const double* f, const double* w,
                  const double* const* cols, double* out);
// The same in float lanes (kFitLanesFloat; the deviance series to kDevianceSeriesTermsFloat).
void lane_poisson(std::size_t n, std::size_t q, const float* y, const float* f, const float* w,
                  const float* const* cols, float* out);

}  // namespace parafit::detail
