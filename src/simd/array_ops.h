// array_ops.h — element-wise operations on arrays of doubles that several parts of the library
// share (the strata tree's additions, gradient scaling), on the best SIMD target of the CPU. Each
// element is one correctly rounded operation, so every target gives the same bits.
#pragma once

#include <cstddef>

namespace parafit::simd {

// a[i] = a[i] + b[i] for i < n (a and b must not overlap).
void add_arrays(std::size_t n, double* a, const double* b);

// The most rows tree_sum adds at once.
inline constexpr std::size_t kTreeSumRows = 8;

// out[i] = the sum of rows[r * stride + i] over rows r < count, for i < n, added up as the binary
// tree node [lo, hi) = node [lo, mid) + node [mid, hi), mid = lo + (hi - lo) / 2 (the strata
// tree's order, parallel/strata_tree.h), in registers. 1 <= count <= kTreeSumRows; out must not
// overlap the rows.
void tree_sum(std::size_t count, const double* rows, std::size_t stride, std::size_t n, double* out);

// g[i] = g[i] * factor for i < n; returns whether every result is finite.
bool scale_and_check_finite(std::size_t n, double* g, double factor);

// a[i] = exp(a[i]) for i < n, with exp_scalar's bits (simd/exp_scalar.h) on every target.
void exp_array(std::size_t n, double* a);

}  // namespace parafit::simd
