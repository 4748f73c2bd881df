// array_ops.h — element-wise operations on arrays of doubles that several parts of the library
// share (the strata tree's additions, gradient scaling), on the best SIMD target of the CPU. Each
// element is one correctly rounded operation, so every target gives the same bits.
#pragma once

#include <cstddef>

namespace parafit::simd {

// a[i] = a[i] + b[i] for i < n (a and b must not overlap).
void add_arrays(std::size_t n, double* a, const double* b);

// g[i] = g[i] * factor for i < n; returns whether every result is finite.
bool scale_and_check_finite(std::size_t n, double* g, double factor);

}  // namespace parafit::simd
