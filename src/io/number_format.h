// Small number formats shared by the reports.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace parafit::detail {

// Significant-digit format; "NA" for NaN, as R prints it.
inline std::string sig(double v, int digits = 6) {
  if (std::isnan(v)) return "NA";
  return fmt::format("{:.{}g}", v, digits);
}

// Decimals of the shortest fixed-point form of `x` that reads back as x: 0.995 -> 3, 0.95 -> 2.
inline int decimals_of(double x) {
  for (int d = 0; d < 17; ++d)
    if (std::strtod(fmt::format("{:.{}f}", x, d).c_str(), nullptr) == x) return d;
  return 17;
}

// `fraction` (with `decimals` decimals) as a percentage without rounding any digit away:
// 0.0025 with 4 decimals -> "0.25". Confidence labels use it: the ends of a two-sided interval
// at level L have one decimal more than L (0.995 -> 0.25 % and 99.75 %, columns lwr99.5).
inline std::string percent(double fraction, int decimals) {
  return fmt::format("{:.{}f}", 100 * fraction, std::max(0, decimals - 2));
}

// R's format for p values: "<2e-16" below the double epsilon.
inline std::string p_value(double p) {
  if (std::isnan(p)) return "NA";
  if (p < 2.2e-16) return "<2e-16";
  return fmt::format("{:.3g}", p);
}

// R's significance stars.
inline const char* stars(double p) {
  if (std::isnan(p)) return "";
  if (p < 0.001) return "***";
  if (p < 0.01) return "**";
  if (p < 0.05) return "*";
  if (p < 0.1) return ".";
  return "";
}

}  // namespace parafit::detail
