// Values of every operator, number form, function and constant against direct C++ computation.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <ostream>

#include "expr/formula_test_util.h"

namespace parafit {
namespace {

using formula_test::close;
using formula_test::Columns;
using formula_test::evaluate;

struct Case {
  std::string formula;
  // Reference: x is the row's x, t the parameters in order of first appearance.
  std::function<double(double x, const std::vector<double>& t)> ref;
  std::vector<double> theta;
};

// gtest prints the formula, not the bytes of the case.
void PrintTo(const Case& c, std::ostream* os) { *os << c.formula; }

class FormulaValue : public ::testing::TestWithParam<Case> {};

TEST_P(FormulaValue, MatchesDirectComputation) {
  const Case& c = GetParam();
  const CompiledFormula cf = compile_formula({c.formula, {"x", "y"}, {}, {}});
  ASSERT_EQ(cf.model->num_parameters(), c.theta.size()) << c.formula;
  const std::vector<double> x = {-2.5, -1.0, -0.3, 0.0, 0.25, 0.5, 0.9, 1.0, 1.5, 2.0, 3.7, 10.0};
  std::vector<double> f(x.size());
  const double* in[] = {x.data()};
  cf.model->evaluate(c.theta.data(), RowBlock{x.size(), in}, f.data(), nullptr, 0);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_TRUE(close(f[i], c.ref(x[i], c.theta))) << c.formula << " at x=" << x[i];
}

using T = const std::vector<double>&;
const double kPi = std::numbers::pi;

INSTANTIATE_TEST_SUITE_P(
    FormulaOperators, FormulaValue,
    ::testing::Values(
        Case{"a + x", [](double x, T t) { return t[0] + x; }, {1.5}},
        Case{"a - x", [](double x, T t) { return t[0] - x; }, {1.5}},
        Case{"a * x", [](double x, T t) { return t[0] * x; }, {1.5}},
        Case{"x / a", [](double x, T t) { return x / t[0]; }, {1.5}},
        Case{"a / x", [](double x, T t) { return t[0] / x; }, {1.5}},  // 1/0 = inf, not an error
        Case{"a*x^3", [](double x, T t) { return t[0] * std::pow(x, 3.0); }, {1.5}},
        Case{"a*x**3", [](double x, T t) { return t[0] * std::pow(x, 3.0); }, {1.5}},
        Case{"a*x^2", [](double x, T t) { return t[0] * (x * x); }, {1.5}},
        Case{"x^a", [](double x, T t) { return std::pow(x, t[0]); }, {0.7}},
        Case{"a^x", [](double x, T t) { return std::pow(t[0], x); }, {0.7}},
        // Precedence and associativity.
        Case{"a + x*2 - 3/x", [](double x, T t) { return t[0] + x * 2 - 3 / x; }, {1.5}},
        Case{"a - x - 1", [](double x, T t) { return (t[0] - x) - 1; }, {1.5}},
        Case{"a / x / 2", [](double x, T t) { return (t[0] / x) / 2; }, {1.5}},
        Case{"a*2^x^2", [](double x, T t) { return t[0] * std::pow(2.0, x * x); }, {1.5}},   // right-assoc
        Case{"a - x^2", [](double x, T t) { return t[0] - x * x; }, {1.5}},
        Case{"a*-x^2", [](double x, T t) { return t[0] * -(x * x); }, {1.5}},                 // -(x^2)
        Case{"a*(-x)^2", [](double x, T t) { return t[0] * (x * x); }, {1.5}},
        Case{"a*2^-x", [](double x, T t) { return t[0] * std::pow(2.0, -x); }, {1.5}},
        Case{"-a*x", [](double x, T t) { return -t[0] * x; }, {1.5}},
        Case{"+a*+x", [](double x, T t) { return t[0] * x; }, {1.5}},
        Case{"a*--x", [](double x, T t) { return t[0] * x; }, {1.5}},
        Case{"(a + x) * [x - a]", [](double x, T t) { return (t[0] + x) * (x - t[0]); }, {1.5}},
        Case{"b1*(1-exp[-b2*x])", [](double x, T t) { return t[0] * (1 - std::exp(-t[1] * x)); }, {2.0, 0.3}},
        Case{"a*x*x*x + b", [](double x, T t) { return t[0] * x * x * x + t[1]; }, {1.5, -2.0}},
        // Number forms.
        Case{"a*1 + 1.5 + .5 + 1e-3 + 2.5E+02 + 3e2 + 4.E1 + 0.25e-1*x",
             [](double x, T t) { return t[0] * 1 + 1.5 + 0.5 + 1e-3 + 2.5E+02 + 3e2 + 4.E1 + 0.25e-1 * x; },
             {1.5}},
        // Constants.
        Case{"a*pi + e*x", [](double x, T t) { return t[0] * kPi + std::numbers::e * x; }, {1.5}},
        Case{"a*sin(2*pi*x)", [](double x, T t) { return t[0] * std::sin(2 * kPi * x); }, {1.5}},
        Case{"a*e^x", [](double x, T t) { return t[0] * std::pow(std::numbers::e, x); }, {1.5}},
        // Names: '.' and '_' inside, and `quoted` names.
        Case{"rate.1*x + _off", [](double x, T t) { return t[0] * x + t[1]; }, {1.5, 0.25}},
        Case{"`my rate`*x", [](double x, T t) { return t[0] * x; }, {1.5}}));

INSTANTIATE_TEST_SUITE_P(
    FormulaFunctions, FormulaValue,
    ::testing::Values(
        Case{"a*exp(x)", [](double x, T t) { return t[0] * std::exp(x); }, {1.5}},
        Case{"a*log(x)", [](double x, T t) { return t[0] * std::log(x); }, {1.5}},  // NaN for x < 0
        Case{"a*log10(x)", [](double x, T t) { return t[0] * std::log10(x); }, {1.5}},
        Case{"a*log2(x)", [](double x, T t) { return t[0] * std::log2(x); }, {1.5}},
        Case{"a*sqrt(x)", [](double x, T t) { return t[0] * std::sqrt(x); }, {1.5}},
        Case{"a*cbrt(x)", [](double x, T t) { return t[0] * std::cbrt(x); }, {1.5}},
        Case{"a*abs(x)", [](double x, T t) { return t[0] * std::fabs(x); }, {1.5}},
        Case{"a*sin(x)", [](double x, T t) { return t[0] * std::sin(x); }, {1.5}},
        Case{"a*cos(x)", [](double x, T t) { return t[0] * std::cos(x); }, {1.5}},
        Case{"a*tan(x)", [](double x, T t) { return t[0] * std::tan(x); }, {1.5}},
        Case{"a*asin(x)", [](double x, T t) { return t[0] * std::asin(x); }, {1.5}},
        Case{"a*acos(x)", [](double x, T t) { return t[0] * std::acos(x); }, {1.5}},
        Case{"a*atan(x)", [](double x, T t) { return t[0] * std::atan(x); }, {1.5}},
        Case{"a*sinh(x)", [](double x, T t) { return t[0] * std::sinh(x); }, {1.5}},
        Case{"a*cosh(x)", [](double x, T t) { return t[0] * std::cosh(x); }, {1.5}},
        Case{"a*tanh(x)", [](double x, T t) { return t[0] * std::tanh(x); }, {1.5}},
        Case{"a*erf(x)", [](double x, T t) { return t[0] * std::erf(x); }, {1.5}},
        Case{"a*erfc(x)", [](double x, T t) { return t[0] * std::erfc(x); }, {1.5}},
        Case{"atan2(a, x)", [](double x, T t) { return std::atan2(t[0], x); }, {1.5}},
        Case{"atan2(x, a)", [](double x, T t) { return std::atan2(x, t[0]); }, {-1.5}},
        Case{"pow(x, a)", [](double x, T t) { return std::pow(x, t[0]); }, {2.5}},
        Case{"pow(a, x)", [](double x, T t) { return std::pow(t[0], x); }, {2.5}},
        Case{"min(a, x)", [](double x, T t) { return std::min(t[0], x); }, {0.6}},
        Case{"max(a, x)", [](double x, T t) { return std::max(t[0], x); }, {0.6}},
        Case{"hypot(a, x)", [](double x, T t) { return std::hypot(t[0], x); }, {0.6}},
        Case{"a*exp(-b*x) + c", [](double x, T t) { return t[0] * std::exp(-t[1] * x) + t[2]; }, {2.5, 1.3, 0.5}},
        // Functions of parameters only are computed once per call, by the same rules.
        Case{"exp(a) + log(b)*x + sqrt(c)", [](double x, T t) { return std::exp(t[0]) + std::log(t[1]) * x + std::sqrt(t[2]); },
             {0.3, 2.0, 9.0}},
        // Constant subexpressions are folded at compile time, by the same rules.
        Case{"a*(exp(1) + sqrt(2)*x - 2^0.5)",
             [](double x, T t) { return t[0] * (std::exp(1.0) + std::sqrt(2.0) * x - std::pow(2.0, 0.5)); }, {1.5}}));

TEST(FormulaValue, UndefinedIsNaNNotAnException) {
  const CompiledFormula cf = compile_formula({"a*log(x) + sqrt(x - b) + asin(x)", {"x"}, {}, {}});
  const Columns cols = {{"x", {-1.0, 0.5, 3.0}}};
  const auto e = evaluate(cf, cols, {2.0, 1.0});
  EXPECT_TRUE(std::isnan(e.f[0]));  // log(-1)
  EXPECT_TRUE(std::isnan(e.f[1]));  // sqrt(-0.5)
  EXPECT_TRUE(std::isnan(e.f[2]));  // asin(3)
  EXPECT_TRUE(std::isnan(e.J[0]));  // d/da = log(-1)
  EXPECT_DOUBLE_EQ(e.J[2], std::log(3.0));
  // Parameters outside their domain: NaN everywhere, still no exception.
  const auto bad = evaluate(compile_formula({"log(a)*x", {"x"}, {}, {}}), cols, {-1.0});
  for (double v : bad.f) EXPECT_TRUE(std::isnan(v));
}

TEST(FormulaValue, SquareOfNegativeBaseHasFiniteDerivative) {
  // x^2.0 with x < 0: the exponent is not differentiated, so log(x) (NaN) never enters.
  const CompiledFormula cf = compile_formula({"(a*x)^3", {"x"}, {}, {}});
  const auto e = evaluate(cf, {{"x", {-2.0}}}, {1.5});
  EXPECT_TRUE(close(e.f[0], std::pow(-3.0, 3.0)));
  EXPECT_TRUE(close(e.J[0], 3.0 * std::pow(-3.0, 2.0) * -2.0));
}

TEST(FormulaValue, SeveralInputs) {
  const CompiledFormula cf = compile_formula({"b1 - b2*x1*exp(-b3*x2) + b4*x3", {"x3", "y", "x2", "x1"}, {}, {}});
  // Inputs in order of first appearance, parameters too.
  EXPECT_EQ(cf.inputs, (std::vector<std::string>{"x1", "x2", "x3"}));
  EXPECT_EQ(cf.model->num_inputs(), 3u);
  EXPECT_EQ(cf.model->parameter_names(), (std::vector<std::string>{"b1", "b2", "b3", "b4"}));
  const Columns cols = {{"x1", {1, 2, 3}}, {"x2", {0.5, 0.25, 2}}, {"x3", {7, 8, 9}}};
  const std::vector<double> t = {1.0, 2.0, 0.3, -0.5};
  const auto e = evaluate(cf, cols, t);
  for (std::size_t i = 0; i < 3; ++i) {
    const double x1 = cols.at("x1")[i], x2 = cols.at("x2")[i], x3 = cols.at("x3")[i];
    EXPECT_TRUE(close(e.f[i], t[0] - t[1] * x1 * std::exp(-t[2] * x2) + t[3] * x3));
    EXPECT_TRUE(close(e.J[3 * 3 + i], x3));
  }
}

TEST(FormulaValue, ExplicitInputOrder) {
  const CompiledFormula cf = compile_formula({"a*x1 + b*x2", {"x1", "x2"}, {}, {"x2", "x1"}});
  EXPECT_EQ(cf.inputs, (std::vector<std::string>{"x2", "x1"}));
  const double x2[] = {10.0};
  const double x1[] = {1.0};
  const double* in[] = {x2, x1};
  const double t[] = {3.0, 5.0};
  double f = 0;
  cf.model->evaluate(t, RowBlock{1, in}, &f, nullptr, 0);
  EXPECT_EQ(f, 3.0 * 1.0 + 5.0 * 10.0);
}

TEST(FormulaValue, ExplicitParameterOrder) {
  const CompiledFormula cf = compile_formula({"a*exp(-b*x) + c", {"x"}, {"c", "a", "b"}, {}});
  EXPECT_EQ(cf.model->parameter_names(), (std::vector<std::string>{"c", "a", "b"}));
  const auto e = evaluate(cf, {{"x", {0.7}}}, {0.5, 2.5, 1.3});
  EXPECT_TRUE(close(e.f[0], 2.5 * std::exp(-1.3 * 0.7) + 0.5));
  EXPECT_EQ(e.J[0], 1.0);                                            // d/dc
  EXPECT_TRUE(close(e.J[1], std::exp(-1.3 * 0.7)));                  // d/da
  EXPECT_TRUE(close(e.J[2], -2.5 * 0.7 * std::exp(-1.3 * 0.7)));     // d/db
}

TEST(FormulaValue, ResponseSide) {
  const CompiledFormula cf = compile_formula({"  log(y) ~ b1 - b2*x1*exp(-b3*x2) ", {"x1", "x2", "y"}, {}, {}});
  EXPECT_EQ(cf.model->name(), "log(y) ~ b1 - b2*x1*exp(-b3*x2)");
  EXPECT_EQ(cf.model->formula(), "b1 - b2*x1*exp(-b3*x2)");
  EXPECT_EQ(cf.response_text, "log(y)");
  EXPECT_EQ(cf.response_columns, std::vector<std::string>{"y"});
  EXPECT_EQ(cf.inputs, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(cf.model->parameter_names(), (std::vector<std::string>{"b1", "b2", "b3"}));
  ASSERT_TRUE(cf.response);
  const std::vector<double> y = {1.0, 2.0, 0.5, -1.0};
  const double* in[] = {y.data()};
  std::vector<double> out(4);
  cf.response(RowBlock{4, in}, out.data());
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(close(out[i], std::log(y[i])));
  EXPECT_TRUE(std::isnan(out[3]));

  // Several columns and constants on the left.
  const CompiledFormula two = compile_formula({"y/w + pi ~ a*x", {"x", "y", "w"}, {}, {}});
  EXPECT_EQ(two.response_columns, (std::vector<std::string>{"y", "w"}));
  const double yv[] = {3.0}, wv[] = {2.0};
  const double* in2[] = {yv, wv};
  double r = 0;
  two.response(RowBlock{1, in2}, &r);
  EXPECT_TRUE(close(r, 1.5 + std::numbers::pi));
}

TEST(FormulaValue, NoResponseSide) {
  const CompiledFormula cf = compile_formula({"a*x", {"x", "y"}, {}, {}});
  EXPECT_TRUE(cf.response_text.empty());
  EXPECT_TRUE(cf.response_columns.empty());
  EXPECT_FALSE(cf.response);
  EXPECT_EQ(cf.model->name(), "a*x");
  EXPECT_EQ(cf.model->formula(), "a*x");
}

TEST(FormulaValue, UniformFormulaFillsEveryRow) {
  // No column on the right: the value and derivatives are the same for every row.
  const CompiledFormula cf = compile_formula({"a*b + 1", {"x"}, {}, {}});
  EXPECT_EQ(cf.model->num_inputs(), 0u);
  const double t[] = {2.0, 3.0};
  std::vector<double> f(300, 0.0), J(600, 0.0);
  cf.model->evaluate(t, RowBlock{300, nullptr}, f.data(), J.data(), 300);
  for (std::size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(f[i], 7.0);
    EXPECT_EQ(J[i], 3.0);
    EXPECT_EQ(J[300 + i], 2.0);
  }
}

TEST(FormulaValue, InitialValuesAskForStart) {
  const CompiledFormula cf = compile_formula({"b1*(1-exp(-b2*x))", {"x", "y"}, {}, {}});
  try {
    cf.model->initial_values({}, {});
    FAIL() << "expected parafit::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "formula models need `start` for every parameter; missing: b1, b2");
  }
}

TEST(FormulaValue, LooksLikeFormula) {
  EXPECT_FALSE(looks_like_formula("exp-decay"));
  EXPECT_FALSE(looks_like_formula("poly:3"));
  EXPECT_FALSE(looks_like_formula("michaelis_menten2"));
  EXPECT_FALSE(looks_like_formula(""));
  EXPECT_TRUE(looks_like_formula("a*exp(-b*x)"));
  EXPECT_TRUE(looks_like_formula("a x"));
  EXPECT_TRUE(looks_like_formula("y~a"));
  EXPECT_TRUE(looks_like_formula("b1*[x]"));
  EXPECT_TRUE(looks_like_formula("a+b"));
  EXPECT_TRUE(looks_like_formula("a.b"));
}

}  // namespace
}  // namespace parafit
