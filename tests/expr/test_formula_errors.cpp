// Every formula error: the exact message, and the caret under the exact place.
#include <gtest/gtest.h>

#include <string>

#include "expr/formula_test_util.h"

namespace parafit {
namespace {

using formula_test::error_of;

std::string err(const std::string& text, std::vector<std::string> params = {}, std::vector<std::string> inputs = {}) {
  return error_of({text, {"x", "x1", "x2", "y"}, std::move(params), std::move(inputs)});
}

TEST(FormulaError, UnknownFunctionSuggestsClosest) {
  EXPECT_EQ(err("b1*exq(-b2*x)"),
            "formula error: unknown function 'exq' (did you mean 'exp'?)\n"
            "  b1*exq(-b2*x)\n"
            "     ^");
  EXPECT_EQ(err("a*sqr(x)"),
            "formula error: unknown function 'sqr' (did you mean 'sqrt'?)\n"
            "  a*sqr(x)\n"
            "    ^");
  EXPECT_EQ(err("a*frobnicate[x]"),
            "formula error: unknown function 'frobnicate'\n"
            "  a*frobnicate[x]\n"
            "    ^");
}

TEST(FormulaError, WrongNumberOfArguments) {
  EXPECT_EQ(err("a*atan2(x)"),
            "formula error: function 'atan2' takes 2 arguments, but 1 given\n"
            "  a*atan2(x)\n"
            "    ^");
  EXPECT_EQ(err("a + exp(x, a)"),
            "formula error: function 'exp' takes 1 argument, but 2 given\n"
            "  a + exp(x, a)\n"
            "      ^");
  EXPECT_EQ(err("a*log()"),
            "formula error: function 'log' takes 1 argument, but 0 given\n"
            "  a*log()\n"
            "    ^");
  EXPECT_EQ(err("min(a, x, 1, 2)"),
            "formula error: function 'min' takes 2 arguments, but 4 given\n"
            "  min(a, x, 1, 2)\n"
            "  ^");
}

TEST(FormulaError, UnbalancedPointsAtOpener) {
  EXPECT_EQ(err("a*(1 - exp(-b*x)"),
            "formula error: unbalanced '(': no matching ')'\n"
            "  a*(1 - exp(-b*x)\n"
            "    ^");
  EXPECT_EQ(err("b1*(1-exp[-b2*x)"),
            "formula error: mismatched ')': the '[' at column 10 needs ']'\n"
            "  b1*(1-exp[-b2*x)\n"
            "                 ^");
  EXPECT_EQ(err("a*[x + 1"),
            "formula error: unbalanced '[': no matching ']'\n"
            "  a*[x + 1\n"
            "    ^");
  EXPECT_EQ(err("a*exp(x"),
            "formula error: unbalanced '(': no matching ')'\n"
            "  a*exp(x\n"
            "       ^");
}

TEST(FormulaError, StrayCloserPointsAtIt) {
  EXPECT_EQ(err("a*x) + 1"),
            "formula error: unmatched ')'\n"
            "  a*x) + 1\n"
            "     ^");
  EXPECT_EQ(err("(a*x]"),
            "formula error: mismatched ']': the '(' at column 1 needs ')'\n"
            "  (a*x]\n"
            "      ^");
  EXPECT_EQ(err("a]"),
            "formula error: unmatched ']'\n"
            "  a]\n"
            "   ^");
}

TEST(FormulaError, StrayCharacter) {
  EXPECT_EQ(err("a*x $ b"),
            "formula error: unexpected character '$'\n"
            "  a*x $ b\n"
            "      ^");
  EXPECT_EQ(err("a*x;"),
            "formula error: unexpected character ';'\n"
            "  a*x;\n"
            "     ^");
  // A non-ASCII byte is named by its code; the caret counts characters, not bytes.
  EXPECT_EQ(err("\xC3\xA9 + a\x01"),
            "formula error: unexpected byte 0xC3\n"
            "  \xC3\xA9 + a \n"
            "  ^");
  EXPECT_EQ(err("a + \xC3\xA9"),
            "formula error: unexpected byte 0xC3\n"
            "  a + \xC3\xA9\n"
            "      ^");
}

TEST(FormulaError, EmptyFormula) {
  EXPECT_EQ(err(""), "formula error: empty formula\n  \n  ^");
  EXPECT_EQ(err("   "), "formula error: empty formula\n     \n  ^");
  EXPECT_EQ(err("y ~ "),
            "formula error: expected an expression, found the end of the formula\n"
            "  y ~ \n"
            "      ^");
  EXPECT_EQ(err("~ a*x"),
            "formula error: expected an expression, found '~'\n"
            "  ~ a*x\n"
            "  ^");
}

TEST(FormulaError, UnexpectedTokens) {
  EXPECT_EQ(err("a*x b"),
            "formula error: expected an operator or the end of the formula, found 'b'\n"
            "  a*x b\n"
            "      ^");
  EXPECT_EQ(err("a**"),
            "formula error: expected an expression, found the end of the formula\n"
            "  a**\n"
            "     ^");
  EXPECT_EQ(err("a*/x"),
            "formula error: expected an expression, found '/'\n"
            "  a*/x\n"
            "    ^");
  EXPECT_EQ(err("(a x)"),
            "formula error: expected ')' or an operator, found 'x'\n"
            "  (a x)\n"
            "     ^");
  EXPECT_EQ(err("exp(a x)"),
            "formula error: expected ',', ')' or an operator, found 'x'\n"
            "  exp(a x)\n"
            "        ^");
  EXPECT_EQ(err("y ~ a ~ x"),
            "formula error: only one '~' is allowed\n"
            "  y ~ a ~ x\n"
            "        ^");
  EXPECT_EQ(err("a*exp"),
            "formula error: 'exp' is a function: write exp(...)\n"
            "  a*exp\n"
            "    ^");
  EXPECT_EQ(err("a*`x"),
            "formula error: unterminated quoted name: no closing '`'\n"
            "  a*`x\n"
            "    ^");
}

TEST(FormulaError, MalformedNumbers) {
  EXPECT_EQ(err("a*1.2.3"),
            "formula error: malformed number '1.2.3'\n"
            "  a*1.2.3\n"
            "    ^");
  EXPECT_EQ(err("a + 1e"),
            "formula error: malformed number '1e'\n"
            "  a + 1e\n"
            "      ^");
  EXPECT_EQ(err("a + 2.5E+"),
            "formula error: malformed number '2.5E+'\n"
            "  a + 2.5E+\n"
            "      ^");
  EXPECT_EQ(err("a*2x"),
            "formula error: malformed number '2x' (a product needs '*', as in 2*x)\n"
            "  a*2x\n"
            "    ^");
  EXPECT_EQ(err("a*1e999"),
            "formula error: number '1e999' is out of range\n"
            "  a*1e999\n"
            "    ^");
}

TEST(FormulaError, NameBothColumnAndParameter) {
  EXPECT_EQ(err("a*exp(-b*x)", {"a", "b", "x"}),
            "formula error: 'x' is a data column and cannot also be a parameter (`params`)\n"
            "  a*exp(-b*x)\n"
            "           ^");
  // Not used in the formula: no caret.
  EXPECT_EQ(err("a*exp(-b*x)", {"a", "b", "y"}),
            "formula error: 'y' is a data column and cannot also be a parameter (`params`)\n"
            "  a*exp(-b*x)");
}

TEST(FormulaError, ParametersList) {
  EXPECT_EQ(err("a*exp(-b*x)", {"a", "b", "c"}),
            "formula error: parameter 'c' (`params`) does not appear in the formula\n"
            "  a*exp(-b*x)");
  EXPECT_EQ(err("a*exp(-bb*x)", {"a", "b"}),
            "formula error: unknown name 'bb': not a data column and not among the parameters (`params`: a, b) "
            "(did you mean 'b'?)\n"
            "  a*exp(-bb*x)\n"
            "         ^");
  EXPECT_EQ(err("a*x", {"a", "a"}),
            "formula error: parameter 'a' is listed twice in `params`\n"
            "  a*x");
  EXPECT_EQ(err("a*pi", {"a", "pi"}),
            "formula error: 'pi' is a constant and cannot be a parameter (`params`)\n"
            "  a*pi\n"
            "    ^");
  EXPECT_EQ(err("x*pi"),
            "formula error: formula has no parameters: every name in it is a data column or a constant\n"
            "  x*pi");
}

TEST(FormulaError, ConstantThatIsAlsoAColumn) {
  EXPECT_EQ(error_of({"a*x + e", {"x", "e"}, {}, {}}),
            "formula error: 'e' is both the constant e and a data column; rename the column and write it with "
            "its new name\n"
            "  a*x + e\n"
            "        ^");
  // Not used: no conflict.
  EXPECT_EQ(error_of({"a*x", {"x", "e"}, {}, {}}), "");
}

TEST(FormulaError, ResponseSideUsesOnlyColumns) {
  EXPECT_EQ(err("log(y - k) ~ a*x"),
            "formula error: the response side (left of '~') may use only data columns and constants; 'k' is "
            "not a data column\n"
            "  log(y - k) ~ a*x\n"
            "          ^");
}

TEST(FormulaError, Inputs) {
  EXPECT_EQ(err("a*x1 + b*x2", {}, {"x1"}),
            "formula error: column 'x2' is not among the input columns (`x`: x1)\n"
            "  a*x1 + b*x2\n"
            "           ^");
  EXPECT_EQ(err("a*x1", {}, {"x1", "x2"}),
            "formula error: input column 'x2' (`x`) is not used by the formula\n"
            "  a*x1");
  EXPECT_EQ(err("a*x1", {}, {"z"}),
            "formula error: input column 'z' (`x`) is not a data column\n"
            "  a*x1");
}

TEST(FormulaError, LongFormulaShowsWindowAroundFault) {
  std::string text = "a";
  for (int i = 0; i < 40; ++i) text += "+b" + std::to_string(i) + "*x";
  const std::size_t fault = text.size();
  text += "*exq(x)";
  for (int i = 0; i < 40; ++i) text += "+c" + std::to_string(i) + "*x";
  const std::string message = err(text);
  // The window: 30 characters before the fault, "..." on both sides, caret under 'exq'.
  const std::string shown = "..." + text.substr(fault + 1 - 30, 60) + "...";
  EXPECT_EQ(message, "formula error: unknown function 'exq' (did you mean 'exp'?)\n  " + shown + "\n  " +
                         std::string(3 + 30, ' ') + "^");
}

TEST(FormulaError, DeepNestingIsAnErrorNotAStackOverflow) {
  // 100,000 levels: rejected by length before anything recurses.
  const std::string deep = std::string(100000, '(') + "a*x" + std::string(100000, ')');
  const std::string d = err(deep);
  EXPECT_EQ(d.substr(0, d.find('\n')), "formula error: formula longer than 65536 characters (200003)");
  // 30,000 levels, within the length limit: the parser stops at depth 256.
  const std::string nested = std::string(30000, '(') + "a*x" + std::string(30000, ')');
  const std::string m = err(nested);
  EXPECT_EQ(m.substr(0, m.find('\n')), "formula error: formula nested deeper than 256 levels");
  EXPECT_EQ(m.substr(m.rfind('\n') + 1), std::string(2 + 3 + 30, ' ') + "^");  // under '(' number 257
  // Other kinds of nesting: signs, powers, brackets, function calls.
  for (const std::string& s : {std::string(300, '-') + "a*x", "a*x" + [] {
                                 std::string p;
                                 for (int i = 0; i < 300; ++i) p += "^2";
                                 return p;
                               }(),
                               std::string(300, '[') + "a" + std::string(300, ']'),
                               [] {
                                 std::string p;
                                 for (int i = 0; i < 300; ++i) p += "exp(";
                                 return p + "a" + std::string(300, ')');
                               }()}) {
    const std::string e = err(s);
    EXPECT_EQ(e.substr(0, e.find('\n')), "formula error: formula nested deeper than 256 levels") << s.substr(0, 20);
  }
  // Just inside the limit is fine.
  EXPECT_EQ(err(std::string(250, '(') + "a*x" + std::string(250, ')')), "");
}

TEST(FormulaError, MegabyteFormula) {
  std::string huge;
  while (huge.size() < (1u << 20)) huge += "a*x+";
  huge += "a";
  const std::string m = err(huge);
  EXPECT_EQ(m.substr(0, m.find('\n')), "formula error: formula longer than 65536 characters (1048577)");
  // The formula is shown as a window: the message stays short.
  EXPECT_LT(m.size(), 200u);
}

TEST(FormulaError, LongestAllowedFormulaCompiles) {
  // 65,535 characters of a left-deep sum: parsed, compiled and evaluated without recursion.
  std::string text = "a";
  while (text.size() + 4 <= 65535) text += "+x*a";
  const CompiledFormula cf = compile_formula({text, {"x"}, {}, {}});
  const double x[] = {2.0};
  const double* in[] = {x};
  const double t[] = {0.5};
  double f = 0, J = 0;
  cf.model->evaluate(t, RowBlock{1, in}, &f, &J, 1);
  const double terms = double((text.size() - 1) / 4);
  EXPECT_DOUBLE_EQ(f, 0.5 + terms * 1.0);
  EXPECT_DOUBLE_EQ(J, 1.0 + terms * 2.0);
}

TEST(FormulaError, TooManyParameters) {
  std::string text = "p0";
  for (int j = 1; j <= 1024; ++j) text += "+p" + std::to_string(j);
  const std::string m = err(text);
  EXPECT_EQ(m.substr(0, m.find('\n')), "formula error: formula has more than 1024 parameters");
}

}  // namespace
}  // namespace parafit
