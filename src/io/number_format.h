// Small number formats shared by the reports.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace parafit::detail {

// Significant-digit format; "NA" for NaN, as R prints it.
inline std::string sig(double v, int digits = 6) {
  if (std::isnan(v)) return "NA";
  return fmt::format("{:.{}g}", v, digits);
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
