#include "optim/optimizer_state.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <string>

#include "parafit/error.h"

namespace parafit::detail {
namespace {

// The largest step count a double holds exactly.
constexpr double kMaxExactStep = 9007199254740992.0;  // 2^53

std::string list_names(const OptimizerState& state) {
  if (state.empty()) return "nothing";
  std::string out;
  for (const auto& [name, values] : state) out += fmt::format("{}'{}'", out.empty() ? "" : ", ", name);
  return out;
}

}  // namespace

void check_step_arguments(std::string_view optimizer, std::size_t n, std::span<const double> params,
                          std::span<const double> grad, double lr) {
  if (params.size() != n || grad.size() != n)
    throw Error(fmt::format("{}: step() got {} parameters and {} gradient values where the optimizer "
                            "was made for {} parameters",
                            optimizer, params.size(), grad.size(), n));
  const std::less<const double*> before;
  if (before(params.data(), grad.data() + n) && before(grad.data(), params.data() + n))
    throw Error(fmt::format("{}: step() got a gradient that overlaps the parameters", optimizer));
  if (!(lr >= 0) || !std::isfinite(lr))
    throw Error(fmt::format("{}: the learning rate must be finite and >= 0, got {}", optimizer, lr));
}

CheckedState check_state(std::string_view optimizer, std::size_t n, const OptimizerState& state,
                         std::span<const ExpectedStateEntry> moments) {
  std::string expected = "'step'";
  for (const auto& m : moments) expected += fmt::format(", '{}'", m.name);
  auto fail = [&](const std::string& what) -> CheckedState {
    throw Error(fmt::format("{} state: {}", optimizer, what));
  };
  if (state.size() != moments.size() + 1)
    return fail(fmt::format("expected the entries {}, got {}", expected, list_names(state)));

  CheckedState out;
  out.moments.assign(moments.size(), nullptr);
  const std::vector<double>* step = nullptr;
  for (const auto& [name, values] : state) {
    const std::vector<double>** slot = nullptr;
    bool nonnegative = false;
    if (name == "step") {
      slot = &step;
    } else {
      for (std::size_t k = 0; k < moments.size(); ++k)
        if (name == moments[k].name) {
          slot = &out.moments[k];
          nonnegative = moments[k].nonnegative;
        }
    }
    if (slot == nullptr)
      return fail(fmt::format("unexpected entry '{}' (expected the entries {})", name, expected));
    if (*slot != nullptr) return fail(fmt::format("entry '{}' appears twice", name));
    *slot = &values;
    if (slot == &step) continue;
    if (values.size() != n)
      return fail(fmt::format("'{}' has {} values where the optimizer has {} parameters", name,
                              values.size(), n));
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(values[i]))
        return fail(fmt::format("'{}'[{}] is not finite ({})", name, i, values[i]));
      if (nonnegative && values[i] < 0)
        return fail(fmt::format("'{}'[{}] is negative ({}); it must be >= 0", name, i, values[i]));
    }
  }
  if (step->size() != 1)
    return fail(fmt::format("'step' must hold one value, got {}", step->size()));
  const double s = (*step)[0];
  if (!(s >= 0 && s <= kMaxExactStep && std::floor(s) == s))
    return fail(fmt::format("'step' must be a whole number >= 0, got {}", s));
  out.step = static_cast<std::uint64_t>(s);
  return out;
}

}  // namespace parafit::detail
