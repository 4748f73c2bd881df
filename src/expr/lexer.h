// Tokens of the formula language. The lexer only cuts the text; every position it reports is a byte
// offset into the formula, which diagnostics turn into a caret.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace parafit::expr {

enum class Tok {
  kNumber,   // 1, 1.5, .5, 1e-3, 2.5E+02 (value parsed with fast_float)
  kName,     // letters, digits, '_' and '.', not starting with a digit or '.'; or `any text`
  kPlus,     // +
  kMinus,    // -
  kStar,     // *
  kSlash,    // /
  kPower,    // ^ or **
  kLParen,   // (
  kRParen,   // )
  kLBracket, // [
  kRBracket, // ]
  kComma,    // ,
  kTilde,    // ~
  kEnd,      // end of the formula
};

struct Token {
  Tok kind;
  std::size_t pos;        // byte offset of the first character
  std::size_t len;        // bytes of source text
  std::string_view text;  // the name (without backquotes) or the number's text
  double number = 0.0;    // kNumber only
};

// Cuts `text` into tokens, ending with kEnd at text.size(). Throws FormulaError for a stray
// character, a malformed or out-of-range number, or an unterminated `quoted name`.
std::vector<Token> tokenize(std::string_view text);

// How a token is shown in a message: "'*'", "'exp'", "end of formula".
std::string_view describe_kind(Tok kind);

}  // namespace parafit::expr
