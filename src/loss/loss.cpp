#include "parafit/loss.h"

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <system_error>

#include "parafit/error.h"

namespace parafit {
namespace {

struct Named {
  const char* name;
  LossKind kind;
};
constexpr Named kLosses[] = {{"squared", LossKind::kSquared}, {"huber", LossKind::kHuber},
                             {"soft-l1", LossKind::kSoftL1},  {"cauchy", LossKind::kCauchy},
                             {"arctan", LossKind::kArctan},   {"tukey", LossKind::kTukey}};

const char* name_of(LossKind kind) {
  for (const Named& n : kLosses)
    if (n.kind == kind) return n.name;
  return "?";
}

// The unit loss u(z) and its derivatives u'(z), u''(z), z >= 0.
LossValue unit_loss(LossKind kind, double z) {
  switch (kind) {
    case LossKind::kSquared: return {z, 1.0, 0.0};
    case LossKind::kHuber: {
      if (z <= 1.0) return {z, 1.0, 0.0};
      const double r = std::sqrt(z);
      return {2.0 * r - 1.0, 1.0 / r, -0.5 / (z * r)};
    }
    case LossKind::kSoftL1: {
      const double t = 1.0 + z, r = std::sqrt(t);
      return {2.0 * (r - 1.0), 1.0 / r, -0.5 / (t * r)};
    }
    case LossKind::kCauchy: {
      const double t = 1.0 + z;
      return {std::log1p(z), 1.0 / t, -1.0 / (t * t)};
    }
    case LossKind::kArctan: {
      const double t = 1.0 + z * z;
      return {std::atan(z), 1.0 / t, -2.0 * z / (t * t)};
    }
    case LossKind::kTukey: {
      if (z >= 1.0) return {1.0 / 3.0, 0.0, 0.0};
      const double v = 1.0 - z;
      return {(1.0 - v * v * v) / 3.0, v * v, -2.0 * v};
    }
  }
  return {z, 1.0, 0.0};
}

}  // namespace

std::string Loss::name() const {
  if (squared()) return "squared";
  return fmt::format("{}:{}", name_of(kind), delta);  // shortest form that reads back exactly
}

LossValue evaluate_loss(const Loss& loss, double s) {
  if (loss.squared()) return {s, 1.0, 0.0};
  const double d2 = loss.delta * loss.delta;
  const LossValue u = unit_loss(loss.kind, s / d2);
  return {d2 * u.rho, u.d1, u.d2 / d2};
}

void check_loss(const Loss& loss, std::string_view option) {
  if (loss.squared()) return;
  if (!std::isfinite(loss.delta) || !(loss.delta > 0))
    throw Error(fmt::format("{}: the scale of {} must be a finite number > 0, not {}", option, name_of(loss.kind),
                            loss.delta),
                Error::Kind::kUsage);
}

Loss parse_loss(std::string_view text, std::string_view flag) {
  const auto fail = [&](const std::string& why) -> Error {
    return Error(fmt::format("{}: '{}' {}; losses are squared, huber:DELTA, soft-l1:DELTA, cauchy:DELTA, "
                             "arctan:DELTA and tukey:DELTA (DELTA > 0, in the residuals' units)",
                             flag, text, why),
                 Error::Kind::kUsage);
  };
  const std::size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  for (const Named& n : kLosses) {
    if (name != n.name) continue;
    Loss loss;
    loss.kind = n.kind;
    if (n.kind == LossKind::kSquared) {
      if (colon != std::string_view::npos) throw fail("takes no scale");
      return loss;
    }
    if (colon == std::string_view::npos) throw fail("needs its scale, e.g. " + std::string(n.name) + ":1.5");
    const std::string_view value = text.substr(colon + 1);
    double delta = 0;
    const auto parsed = fast_float::from_chars(value.data(), value.data() + value.size(), delta);
    if (value.empty() || parsed.ec != std::errc() || parsed.ptr != value.data() + value.size() ||
        !std::isfinite(delta) || !(delta > 0))
      throw fail(fmt::format("has scale '{}', not a finite number > 0", value));
    loss.delta = delta;
    return loss;
  }
  throw fail("is not a loss");
}

}  // namespace parafit
