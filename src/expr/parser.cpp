#include "expr/parser.h"

#include <fmt/format.h>

#include <string>
#include <unordered_map>

#include "expr/diagnostics.h"
#include "expr/lexer.h"

namespace parafit::expr {
namespace {

// 1-based column of a byte offset, for messages that mention a second place ("the '(' at column 3").
std::size_t column_of(std::string_view text, std::size_t pos) {
  std::size_t col = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
  return col;
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens) : text_(text), tokens_(std::move(tokens)) {}

  ParsedFormula run() {
    if (peek().kind == Tok::kEnd) throw FormulaError{0, "empty formula"};
    ParsedFormula out;
    out_ = &out.rhs;
    parse_expr();
    if (peek().kind == Tok::kTilde) {
      out.tilde_pos = peek().pos;
      out.lhs = std::move(out.rhs);
      out.rhs = Expression{};
      next();
      out_ = &out.rhs;
      parse_expr();
    }
    const Token& t = peek();
    if (t.kind == Tok::kTilde) throw FormulaError{t.pos, "only one '~' is allowed"};
    if (t.kind == Tok::kRParen || t.kind == Tok::kRBracket)
      throw FormulaError{t.pos, fmt::format("unmatched {}", describe_kind(t.kind))};
    if (t.kind != Tok::kEnd)
      throw FormulaError{t.pos, fmt::format("expected an operator or the end of the formula, found {}",
                                            describe(t))};
    out.names = std::move(names_);
    return out;
  }

 private:
  // Counts the recursion of parse_unary, through which every nesting level passes.
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth)
        throw FormulaError{p.peek().pos, fmt::format("formula nested deeper than {} levels", kMaxDepth)};
    }
    ~DepthGuard() { --p.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
  };

  const Token& peek() const { return tokens_[at_]; }
  const Token& next() { return tokens_[at_++]; }

  std::string describe(const Token& t) const {
    if (t.kind == Tok::kNumber || t.kind == Tok::kName) return quote(t.text);
    return std::string(describe_kind(t.kind));
  }

  std::int32_t add(Op op, std::size_t pos, std::int32_t a = -1, std::int32_t b = -1, double value = 0.0,
                   std::uint32_t index = 0) {
    out_->nodes.push_back(Node{op, a, b, value, index, static_cast<std::uint32_t>(pos)});
    return static_cast<std::int32_t>(out_->nodes.size() - 1);
  }

  // expr := term { ('+' | '-') term }
  std::int32_t parse_expr() {
    std::int32_t left = parse_term();
    while (peek().kind == Tok::kPlus || peek().kind == Tok::kMinus) {
      const Token& op = next();
      const std::int32_t right = parse_term();
      left = add(op.kind == Tok::kPlus ? Op::kAdd : Op::kSub, op.pos, left, right);
    }
    return left;
  }

  // term := unary { ('*' | '/') unary }
  std::int32_t parse_term() {
    std::int32_t left = parse_unary();
    while (peek().kind == Tok::kStar || peek().kind == Tok::kSlash) {
      const Token& op = next();
      const std::int32_t right = parse_unary();
      left = add(op.kind == Tok::kStar ? Op::kMul : Op::kDiv, op.pos, left, right);
    }
    return left;
  }

  // unary := ('-' | '+') unary | power. The sign binds looser than '^': -x^2 = -(x^2).
  std::int32_t parse_unary() {
    DepthGuard guard(*this);
    if (peek().kind == Tok::kMinus) {
      const Token& op = next();
      const std::int32_t operand = parse_unary();
      return add(Op::kNeg, op.pos, operand);
    }
    if (peek().kind == Tok::kPlus) {
      next();
      return parse_unary();
    }
    return parse_power();
  }

  // power := primary [ ('^' | '**') unary ] — right-associative, and the exponent may carry a
  // sign: 2^-x^2 = 2^(-(x^2)).
  std::int32_t parse_power() {
    const std::int32_t base = parse_primary();
    if (peek().kind != Tok::kPower) return base;
    const Token& op = next();
    const std::int32_t exponent = parse_unary();
    return add(Op::kPow, op.pos, base, exponent);
  }

  static Tok closer_of(Tok opener) { return opener == Tok::kLParen ? Tok::kRParen : Tok::kRBracket; }

  // Consumes the closer that matches `opener`, or says precisely what is wrong.
  void expect_closer(const Token& opener, const char* inside) {
    const Token& t = peek();
    const Tok want = closer_of(opener.kind);
    if (t.kind == want) {
      next();
      return;
    }
    if (t.kind == Tok::kEnd)
      throw FormulaError{opener.pos, fmt::format("unbalanced {}: no matching {}", describe_kind(opener.kind),
                                                 describe_kind(want))};
    if (t.kind == Tok::kRParen || t.kind == Tok::kRBracket)
      throw FormulaError{t.pos, fmt::format("mismatched {}: the {} at column {} needs {}", describe_kind(t.kind),
                                            describe_kind(opener.kind), column_of(text_, opener.pos),
                                            describe_kind(want))};
    throw FormulaError{t.pos, fmt::format("expected {}{} or an operator, found {}", inside,
                                          describe_kind(want), describe(t))};
  }

  // primary := number | name | function call | '(' expr ')' | '[' expr ']'
  std::int32_t parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kNumber:
        next();
        return add(Op::kConst, t.pos, -1, -1, t.number);
      case Tok::kName:
        next();
        if (peek().kind == Tok::kLParen || peek().kind == Tok::kLBracket) return parse_call(t);
        return name_leaf(t);
      case Tok::kLParen:
      case Tok::kLBracket: {
        next();
        const std::int32_t inner = parse_expr();
        expect_closer(t, "");
        return inner;
      }
      case Tok::kEnd:
        throw FormulaError{t.pos, "expected an expression, found the end of the formula"};
      default:
        throw FormulaError{t.pos, fmt::format("expected an expression, found {}", describe(t))};
    }
  }

  std::int32_t name_leaf(const Token& t) {
    // pi and e stay names here; resolution makes them constants (or an error when a data column
    // has that name).
    if (find_function(t.text) != nullptr)
      throw FormulaError{t.pos, fmt::format("'{}' is a function: write {}(...)", t.text, t.text)};
    const auto [it, inserted] = name_ids_.try_emplace(t.text, static_cast<std::uint32_t>(names_.size()));
    if (inserted) names_.push_back(t.text);
    return add(Op::kName, t.pos, -1, -1, 0.0, it->second);
  }

  // name '(' expr { ',' expr } ')' — '[' ']' too, as NIST writes exp[-b2*x].
  std::int32_t parse_call(const Token& name) {
    const Function* fn = find_function(name.text);
    if (fn == nullptr) {
      std::string what = fmt::format("unknown function {}", quote(name.text));
      const std::string_view guess = closest_name(name.text, function_names());
      if (!guess.empty()) what += fmt::format(" (did you mean '{}'?)", guess);
      throw FormulaError{name.pos, what};
    }
    const Token& opener = next();
    std::int32_t args[2] = {-1, -1};
    int count = 0;
    if (peek().kind != closer_of(opener.kind)) {
      while (true) {
        const std::int32_t arg = parse_expr();
        if (count < 2) args[count] = arg;
        ++count;
        if (peek().kind != Tok::kComma) break;
        next();
      }
    }
    expect_closer(opener, "',', ");
    if (count != fn->arity)
      throw FormulaError{name.pos, fmt::format("function '{}' takes {} argument{}, but {} given", fn->name,
                                               fn->arity, fn->arity == 1 ? "" : "s", count)};
    return add(fn->op, name.pos, args[0], args[1]);
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t at_ = 0;
  int depth_ = 0;
  Expression* out_ = nullptr;
  std::vector<std::string_view> names_;
  std::unordered_map<std::string_view, std::uint32_t> name_ids_;
};

}  // namespace

ParsedFormula parse(std::string_view formula) {
  if (formula.size() > kMaxLength)
    throw FormulaError{kMaxLength, fmt::format("formula longer than {} characters ({})", kMaxLength,
                                               formula.size())};
  return Parser(formula, tokenize(formula)).run();
}

}  // namespace parafit::expr
