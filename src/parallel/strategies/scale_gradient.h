// parallel/strategies/scale_gradient.h — the mean gradient from a gradient sum, checked.
#pragma once

#include <span>

namespace parafit::detail {

// g[i] = g[i] * factor for every i; returns whether every result is finite. One vectorised sweep
// (baseline and AVX2 copies, the same bits).
bool scale_and_check(std::span<double> g, double factor);

}  // namespace parafit::detail
