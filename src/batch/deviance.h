// batch/deviance.h — one count's Poisson deviance term, shared by the scalar and lane sums.
//
// m - y + y log(y / m) = y (u - log(1 + u)) with u = (m - y) / y. Near the optimum m ~ y the two
// halves of the direct form cancel to y u^2 / 2, leaving only absolute precision eps * y: too
// little for LM to see its last steps' decrease. With s = u / (2 + u), log(1 + u) = 2 atanh(s), so
// u - log(1 + u) = u s - 2 (s^3/3 + s^5/5 + ...), every term to full relative precision. Used for
// |u| < 1/4 (|s| < 1/7: 12 terms reach 1e-21); beyond, the direct form loses at most 3 bits.
// Both the scalar code and the lane kernel evaluate exactly these operations in this order, with
// simd's log (log_scalar's bits), so a fit's deviance does not depend on its path or target.
#pragma once

#include <cstddef>

namespace parafit::detail {

inline constexpr double kDevianceSeriesLimit = 0.25;
inline constexpr std::size_t kDevianceSeriesTerms = 12;
// Float lanes (batch fits' --float32) take the first 6: the next term is below 2^-40 of s^3.
inline constexpr std::size_t kDevianceSeriesTermsFloat = 6;
// 1 / (2k + 3) for k = 0..11: the coefficients of s^3, s^5, ...
inline constexpr double kDevianceSeries[kDevianceSeriesTerms] = {
    1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25};

}  // namespace parafit::detail
