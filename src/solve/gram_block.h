// gram_block.h — the SIMD core of the least-squares row kernel (solve/normal_equations.cpp): the
// weighted Gram sums of one tile of columns over one L1-resident block of rows, added into a
// chunk's 4-lane sums. Written once on Highway (gram_block.cpp), compiled per target and
// dispatched at run time (simd/target.h); every target gives the same bits.
#pragma once

#include <cstddef>

namespace parafit::detail {

// Inputs of one call, rows [0, n) of a block: the tile's columns col[0..a+b) (col[0] unused when
// the residual r = y - f is column 0 and computed on the fly), y and f (for that residual), and
// the weights w (or nullptr).
struct GramInputs {
  const double* const* col;
  const double* y;
  const double* f;
  const double* w;
};

// Which sums one call takes. Triangular (u0 == v0 in the tile plan): s(k, l) = sum (w v_k) v_l
// for k <= l < a, with v_0 = y - f when `residual`. Rectangular: s(k, l) = sum (w u_k) v_l for the
// columns u = col[0..a) (a is 1 or 2) and v = col[a..a+b) (b is 1..4). Sum number t of the tile
// (row by row of the triangle or rectangle) is added into acc[4*index[t] .. 4*index[t]+4).
struct GramTileShape {
  int a = 1;
  int b = 1;  // rectangular tiles only
  bool triangular = true;
  bool residual = false;  // triangular tiles only
  bool weighted = false;
};

// The number of lanes of every Gram sum (simd::kSumLanes): row i of a block goes to lane i mod 4.
inline constexpr std::size_t kGramLanes = 4;

void gram_block(const GramTileShape& shape, std::size_t n, const GramInputs& in, double* acc,
                const std::size_t* index);

}  // namespace parafit::detail
