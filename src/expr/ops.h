// The operations of the formula language and the table of its functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace parafit::expr {

enum class Op : std::uint8_t {
  // Leaves.
  kConst,   // a number or pi/e (Node::value)
  kName,    // a name as parsed; resolution turns it into kParam or kInput (Node::index: name id)
  kParam,   // theta[index]
  kInput,   // input column `index`
  // One operand.
  kNeg, kSquare,
  kExp, kLog, kLog10, kLog2, kSqrt, kCbrt, kAbs, kSin, kCos, kTan, kAsin, kAcos, kAtan,
  kSinh, kCosh, kTanh, kErf, kErfc,
  // Two operands.
  kAdd, kSub, kMul, kDiv, kPow, kAtan2, kMin, kMax, kHypot,
};

inline bool is_leaf(Op op) { return op <= Op::kInput; }
inline bool is_binary(Op op) { return op >= Op::kAdd; }

struct Function {
  std::string_view name;
  int arity;
  Op op;
};

// Every function a formula may call, in the order docs/formulas.md lists them.
std::span<const Function> functions();
// The function called `name`, or nullptr.
const Function* find_function(std::string_view name);
// Every function name, for "did you mean" suggestions.
std::span<const std::string_view> function_names();

}  // namespace parafit::expr
