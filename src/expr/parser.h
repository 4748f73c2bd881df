// Parses a formula into a flat syntax tree.
//
// The tree is a vector of nodes in post-order: a node's operands always come before it. Every
// later pass (resolution, folding, code generation) is then a loop over the vector, and nothing
// recurses or frees recursively — so a formula cannot overflow the stack after parsing, and the
// parser's own recursion is bounded by kMaxDepth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "expr/ops.h"

namespace parafit::expr {

// Deeper nesting (parentheses, unary signs, chained powers) is an error, not a stack overflow.
inline constexpr int kMaxDepth = 256;
// Longer formulas are an error; this also bounds the size of everything built from one.
inline constexpr std::size_t kMaxLength = 65536;

struct Node {
  Op op;
  std::int32_t a = -1;     // first operand (index into the same vector), -1 for leaves
  std::int32_t b = -1;     // second operand of binary operations
  double value = 0.0;      // kConst
  std::uint32_t index = 0; // kName: into Expression::names; kParam/kInput after resolution
  std::uint32_t pos = 0;   // byte offset in the formula, for messages
};

struct Expression {
  std::vector<Node> nodes;  // post-order; the root is nodes.back()
  bool empty() const { return nodes.empty(); }
};

struct ParsedFormula {
  Expression lhs;                      // empty when there is no '~'
  Expression rhs;
  std::size_t tilde_pos = 0;           // where '~' is, when there is one
  std::vector<std::string_view> names; // every name, by Node::index (views into the formula)
};

// Throws FormulaError (see diagnostics.h) with the position of the fault.
ParsedFormula parse(std::string_view formula);

}  // namespace parafit::expr
