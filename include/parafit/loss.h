// parafit/loss.h — the loss applied to each row's squared (weighted) residual: least squares, or
// a robust loss that lets outliers pull less.
//
// A loss is rho(s) of s = w r^2 (r = y - f, w the row's weight). Every loss is written as
// rho(s) = delta^2 * u(s / delta^2) with a unit loss u(z), so delta is in the residuals' units
// (scipy's f_scale, Ceres's `a`): rows with |r| sqrt(w) below delta are treated almost as least
// squares, rows beyond it are down-weighted. The unit losses (z = s / delta^2):
//   squared   u = z
//   huber     u = z for z <= 1, 2 sqrt(z) - 1 beyond
//   soft-l1   u = 2 (sqrt(1 + z) - 1)
//   cauchy    u = ln(1 + z)
//   arctan    u = atan(z)
//   tukey     u = (1 - (1 - z)^3) / 3 for z <= 1, 1/3 beyond (Tukey's biweight: rows beyond delta
//             get no weight at all)
// huber, soft-l1, cauchy and arctan are scipy.optimize.least_squares's losses of those names
// (and Ceres's HuberLoss, SoftLOneLoss, CauchyLoss, ArctanLoss); the fits minimise sum rho(s_i).
#pragma once

#include <string>
#include <string_view>

namespace parafit {

enum class LossKind { kSquared, kHuber, kSoftL1, kCauchy, kArctan, kTukey };

struct Loss {
  LossKind kind = LossKind::kSquared;
  double delta = 1.0;  // the scale; unused by kSquared

  bool squared() const { return kind == LossKind::kSquared; }
  // "squared", "huber:1.5", ...: what parse_loss reads back.
  std::string name() const;
};

// rho(s) and its first two derivatives with respect to s.
struct LossValue {
  double rho = 0, d1 = 0, d2 = 0;
};

LossValue evaluate_loss(const Loss& loss, double s);

// Throws parafit::Error (usage) naming `option` unless a robust loss's delta is finite and > 0.
void check_loss(const Loss& loss, std::string_view option);

// "squared" or "<name>:<delta>" with delta a finite number > 0 (e.g. "huber:1.5"). Throws
// parafit::Error (usage) naming `flag`, the text and the losses there are.
Loss parse_loss(std::string_view text, std::string_view flag = "--loss");

}  // namespace parafit
