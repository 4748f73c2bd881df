#include "expr/lexer.h"

#include <fast_float/fast_float.h>

#include <cmath>
#include <string>

#include "expr/diagnostics.h"

namespace parafit::expr {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_start(char c) { return is_alpha(c) || c == '_'; }
// '.' inside names allows R-style column names such as Sepal.Length.
bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '.'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// A number token takes the whole run of name characters that follows its first digit, so that
// "2x" or "1.2.3" is reported as one malformed number rather than silently split. A sign belongs
// to the run right after the exponent letter of a plain mantissa ("2.5E+02").
std::size_t number_end(std::string_view s, std::size_t i) {
  std::size_t j = i;
  bool mantissa = true;   // the run so far is digits and '.' only
  bool sign_ok = false;   // the previous character is the exponent letter of such a run
  while (j < s.size()) {
    const char c = s[j];
    if (c == '+' || c == '-') {
      if (!sign_ok) break;
      sign_ok = false;
    } else if (is_name_char(c)) {
      sign_ok = (c == 'e' || c == 'E') && mantissa;
      if (!is_digit(c) && c != '.') mantissa = false;
    } else {
      break;
    }
    ++j;
  }
  return j;
}

Token number_token(std::string_view s, std::size_t i) {
  const std::size_t j = number_end(s, i);
  const std::string_view text = s.substr(i, j - i);
  double value = 0.0;
  const auto r = fast_float::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    std::string what = "malformed number " + quote(text);
    for (char c : text) {
      if (is_alpha(c) && c != 'e' && c != 'E') {
        what += " (a product needs '*', as in 2*x)";
        break;
      }
    }
    throw FormulaError{i, what};
  }
  if (!std::isfinite(value)) throw FormulaError{i, "number " + quote(text) + " is out of range"};
  return Token{Tok::kNumber, i, j - i, text, value};
}

}  // namespace

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  auto simple = [&](Tok kind, std::size_t len) {
    out.push_back(Token{kind, i, len, s.substr(i, len)});
    i += len;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
    } else if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      out.push_back(number_token(s, i));
      i += out.back().len;
    } else if (is_name_start(c)) {
      std::size_t j = i + 1;
      while (j < s.size() && is_name_char(s[j])) ++j;
      out.push_back(Token{Tok::kName, i, j - i, s.substr(i, j - i)});
      i = j;
    } else if (c == '`') {
      // `quoted name`: a column whose name is not an identifier ("dose (mg)").
      const std::size_t close = s.find('`', i + 1);
      if (close == std::string_view::npos)
        throw FormulaError{i, "unterminated quoted name: no closing '`'"};
      if (close == i + 1) throw FormulaError{i, "empty quoted name ``"};
      out.push_back(Token{Tok::kName, i, close + 1 - i, s.substr(i + 1, close - i - 1)});
      i = close + 1;
    } else if (c == '*' && i + 1 < s.size() && s[i + 1] == '*') {
      simple(Tok::kPower, 2);
    } else {
      Tok kind;
      switch (c) {
        case '+': kind = Tok::kPlus; break;
        case '-': kind = Tok::kMinus; break;
        case '*': kind = Tok::kStar; break;
        case '/': kind = Tok::kSlash; break;
        case '^': kind = Tok::kPower; break;
        case '(': kind = Tok::kLParen; break;
        case ')': kind = Tok::kRParen; break;
        case '[': kind = Tok::kLBracket; break;
        case ']': kind = Tok::kRBracket; break;
        case ',': kind = Tok::kComma; break;
        case '~': kind = Tok::kTilde; break;
        default:
          // quote() names a non-printable byte by its code: "unexpected byte 0xC3".
          throw FormulaError{i, std::string("unexpected ") + (quote(s.substr(i, 1))[0] == '\'' ? "character " : "") +
                                    quote(s.substr(i, 1))};
      }
      simple(kind, 1);
    }
  }
  out.push_back(Token{Tok::kEnd, s.size(), 0, {}});
  return out;
}

std::string_view describe_kind(Tok kind) {
  switch (kind) {
    case Tok::kNumber: return "a number";
    case Tok::kName: return "a name";
    case Tok::kPlus: return "'+'";
    case Tok::kMinus: return "'-'";
    case Tok::kStar: return "'*'";
    case Tok::kSlash: return "'/'";
    case Tok::kPower: return "'^'";
    case Tok::kLParen: return "'('";
    case Tok::kRParen: return "')'";
    case Tok::kLBracket: return "'['";
    case Tok::kRBracket: return "']'";
    case Tok::kComma: return "','";
    case Tok::kTilde: return "'~'";
    case Tok::kEnd: return "the end of the formula";
  }
  return "?";
}

}  // namespace parafit::expr
