#include "expr/ops.h"

#include <array>

namespace parafit::expr {
namespace {

constexpr std::array kFunctions = {
    Function{"exp", 1, Op::kExp},     Function{"log", 1, Op::kLog},     Function{"log10", 1, Op::kLog10},
    Function{"log2", 1, Op::kLog2},   Function{"sqrt", 1, Op::kSqrt},   Function{"cbrt", 1, Op::kCbrt},
    Function{"abs", 1, Op::kAbs},     Function{"sin", 1, Op::kSin},     Function{"cos", 1, Op::kCos},
    Function{"tan", 1, Op::kTan},     Function{"asin", 1, Op::kAsin},   Function{"acos", 1, Op::kAcos},
    Function{"atan", 1, Op::kAtan},   Function{"sinh", 1, Op::kSinh},   Function{"cosh", 1, Op::kCosh},
    Function{"tanh", 1, Op::kTanh},   Function{"erf", 1, Op::kErf},     Function{"erfc", 1, Op::kErfc},
    Function{"atan2", 2, Op::kAtan2}, Function{"pow", 2, Op::kPow},     Function{"min", 2, Op::kMin},
    Function{"max", 2, Op::kMax},     Function{"hypot", 2, Op::kHypot},
};

constexpr auto kNames = [] {
  std::array<std::string_view, kFunctions.size()> names{};
  for (std::size_t i = 0; i < kFunctions.size(); ++i) names[i] = kFunctions[i].name;
  return names;
}();

}  // namespace

std::span<const Function> functions() { return kFunctions; }

const Function* find_function(std::string_view name) {
  for (const Function& f : kFunctions)
    if (f.name == name) return &f;
  return nullptr;
}

std::span<const std::string_view> function_names() { return kNames; }

}  // namespace parafit::expr
