// loss/robust_rows.h — a block of rows under a robust loss: the weights the Gram kernel
// (solve/normal_equations.cpp) takes in place of the problem's, and the loss's sum.
//
// How the loss enters the normal equations. Ceres applies a loss to a residual block through its
// Corrector (Triggs et al., "Bundle adjustment — a modern synthesis", 2000): r~ = sqrt(rho')/(1 - a) r
// and J~ = sqrt(rho') (1 - a r r^T / |r|^2) J with a = 1 - sqrt(1 + 2 s rho''/rho'), which makes the
// Gauss-Newton model match the loss's curvature to second order. But where rho'' <= 0 Ceres sets
// a = 0, since the corrected model can then lose positive definiteness, and every loss here has
// rho'' <= 0 everywhere (all are concave in s; squared, and huber below delta, have rho'' = 0).
// So Ceres's correction is, for these losses, exactly iteratively reweighted least squares: each
// row weighted by w rho'(s). That is what parafit does, in one pass per evaluation: the sums
// g = sum w rho' r J and H = sum w rho' J J^T make -2 g the exact gradient of sum rho(s) and 2 H a
// positive semi-definite Hessian model, so LM's rules, its bounds and its verdicts hold unchanged.
#pragma once

#include <array>
#include <cstddef>

#include "parafit/loss.h"

namespace parafit::detail {

// Which weight each row gets (s = w r^2, r = y - f):
//   kIrls       w rho'(s)                   the fit's normal equations
//   kCurvature  w (rho'(s) + 2 s rho''(s))  half the cost's Hessian in f (sandwich's bread)
//   kScore      w s rho'(s)^2               a quarter of the score's square (sandwich's meat)
enum class RowWeighting { kIrls, kCurvature, kScore };

// out[i] = the row weight of rows [0, n) (w null: every w is 1), and rho(s_i) added to `lanes` as
// the Gram kernel adds a block: row i to lane i mod 4 of zeroed block lanes, then the block's lanes
// into `lanes`. A NaN residual gives NaN.
void robust_row_weights(const Loss& loss, RowWeighting weighting, std::size_t n, const double* y, const double* f,
                        const double* w, double* out, std::array<double, 4>& lanes);

}  // namespace parafit::detail
