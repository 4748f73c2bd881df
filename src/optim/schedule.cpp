// Learning-rate schedules: the factor at each step, validation, description and the CLI form.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/optimizer.h"

namespace parafit {

double LearningRateSchedule::factor(std::uint64_t step, std::uint64_t steps_per_epoch,
                                    std::uint64_t total_steps) const {
  std::string why;
  if (!IsValid(&why)) throw Error("invalid learning-rate schedule: " + why);
  const std::uint64_t w = warmup_steps;
  const double warmup = step < w ? static_cast<double>(step + 1) / static_cast<double>(w) : 1.0;
  double decay = 1.0;
  switch (kind) {
    case Kind::kConstant: break;
    case Kind::kStep: {
      if (steps_per_epoch == 0) throw Error("learning-rate schedule: steps_per_epoch must be >= 1");
      const std::uint64_t epoch = step / steps_per_epoch;
      decay = std::pow(gamma, static_cast<double>(epoch / step_every_epochs));
      break;
    }
    case Kind::kCosine: {
      if (total_steps == 0) throw Error("learning-rate schedule: total_steps must be >= 1");
      double p = 0.0;
      if (step >= w && total_steps > w)
        p = std::min(1.0, static_cast<double>(step - w) / static_cast<double>(total_steps - w));
      decay = min_factor + (1.0 - min_factor) * (1.0 + std::cos(std::numbers::pi * p)) / 2.0;
      break;
    }
  }
  return warmup * decay;
}

bool LearningRateSchedule::IsValid(std::string* why) const {
  auto fail = [&](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  switch (kind) {
    case Kind::kConstant: return true;
    case Kind::kStep:
      if (step_every_epochs < 1) return fail("step_every_epochs must be >= 1");
      if (!(gamma > 0 && gamma <= 1)) return fail(fmt::format("gamma must lie in (0, 1], got {}", gamma));
      return true;
    case Kind::kCosine:
      if (!(min_factor >= 0 && min_factor <= 1))
        return fail(fmt::format("min_factor must lie in [0, 1], got {}", min_factor));
      return true;
  }
  return fail("unknown schedule kind");
}

std::string LearningRateSchedule::describe(std::uint64_t total_steps) const {
  std::string out;
  switch (kind) {
    case Kind::kConstant: out = "constant"; break;
    case Kind::kStep:
      out = fmt::format("step: x{:g} every {} epoch{}", gamma, step_every_epochs,
                        step_every_epochs == 1 ? "" : "s");
      break;
    case Kind::kCosine:
      out = total_steps > 0 ? fmt::format("cosine to {:g} over {} steps", min_factor, total_steps)
                            : fmt::format("cosine to {:g} over the run", min_factor);
      break;
  }
  if (warmup_steps > 0)
    out += fmt::format(", {} warm-up step{}", warmup_steps, warmup_steps == 1 ? "" : "s");
  return out;
}

namespace {

constexpr const char* kAcceptedForms =
    "accepted forms: constant, step:E:G (multiply by G every E epochs, e.g. step:30:0.1), cosine, "
    "cosine:MIN (decay to MIN times the learning rate, e.g. cosine:0.01)";

[[noreturn]] void bad(std::string_view text, const std::string& what) {
  throw Error(fmt::format("invalid learning-rate schedule '{}': {}; {}", text, what, kAcceptedForms));
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t colon = text.find(':', begin);
    parts.push_back(text.substr(begin, colon == std::string_view::npos ? colon : colon - begin));
    if (colon == std::string_view::npos) return parts;
    begin = colon + 1;
  }
}

bool parse_whole(std::string_view s, std::uint64_t& value) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

bool parse_real(std::string_view s, double& value) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty() && std::isfinite(value);
}

}  // namespace

LearningRateSchedule parse_schedule(std::string_view text) {
  const std::vector<std::string_view> parts = split(text);
  const std::string_view kind = parts[0];
  LearningRateSchedule s;
  if (kind == "constant") {
    if (parts.size() != 1) bad(text, "'constant' takes no values");
    s.kind = LearningRateSchedule::Kind::kConstant;
  } else if (kind == "step") {
    if (parts.size() != 3) bad(text, "'step' takes two values, the epochs E and the factor G");
    s.kind = LearningRateSchedule::Kind::kStep;
    if (!parse_whole(parts[1], s.step_every_epochs) || s.step_every_epochs < 1)
      bad(text, fmt::format("the epoch count '{}' is not a whole number >= 1", parts[1]));
    if (!parse_real(parts[2], s.gamma) || !(s.gamma > 0 && s.gamma <= 1))
      bad(text, fmt::format("the factor '{}' is not a number in (0, 1]", parts[2]));
  } else if (kind == "cosine") {
    if (parts.size() > 2) bad(text, "'cosine' takes at most one value, the final factor MIN");
    s.kind = LearningRateSchedule::Kind::kCosine;
    if (parts.size() == 2 && (!parse_real(parts[1], s.min_factor) || !(s.min_factor >= 0 && s.min_factor <= 1)))
      bad(text, fmt::format("the final factor '{}' is not a number in [0, 1]", parts[1]));
  } else {
    bad(text, fmt::format("unknown schedule '{}'", kind));
  }
  return s;
}

}  // namespace parafit
