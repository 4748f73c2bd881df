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

// f (n x lanes) and J (p columns of n x lanes) of a family at theta (p x lanes).
using LaneEvaluate = void (*)(std::size_t n, const double* theta, const double* x, double* f, double* J);

// The lane kernel of a built-in family, or nullptr (formulas, families without one).
LaneEvaluate lane_kernel(const Model& model);

// `fit`'s least-squares Gram sums of the m columns [r = y - f, J_c0, ...] in lanes: point i goes to
// partial i mod 4; S(k, l) = sum (w v_k) v_l, k <= l, row by row of the upper triangle; out gets,
// per sum and lane, (p0 + p1) + (p2 + p3). `cols` are the m - 1 Jacobian columns (n x lanes each),
// w may be null. out: m (m + 1) / 2 sums x lanes. One block of points (n <= 256) only.
void lane_gram(std::size_t n, std::size_t m, const double* y, const double* f, const double* w,
               const double* const* cols, double* out);

// The Poisson sums of batch_sums in lanes, with its bits: out is [cost, g (q), H lower triangle
// row by row] x lanes; a lane with a point of non-positive mean (and non-zero weight) gets a NaN
// cost.
void lane_poisson(std::size_t n, std::size_t q, const double* y, const double* f, const double* w,
                  const double* const* cols, double* out);

}  // namespace parafit::detail
