// The registry: builtin_models(), make_builtin_model() and its error messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/model.h"

namespace parafit {
namespace {

std::string error_of(std::string_view name) {
  try {
    make_builtin_model(name);
  } catch (const Error& e) {
    return e.what();
  } catch (...) {
    return "<an exception that is not parafit::Error>";
  }
  return "<no exception>";
}

TEST(BuiltinModelRegistry, ListsAllFamiliesInOrder) {
  const std::vector<std::string> want = {
      "poly:k", "exp-decay", "exp-growth",       "log",      "power",
      "logistic4", "gauss",  "michaelis-menten", "gompertz", "asymptotic"};
  const auto& infos = builtin_models();
  ASSERT_EQ(infos.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(infos[i].name, want[i]);
    EXPECT_FALSE(infos[i].formula.empty()) << want[i];
    EXPECT_FALSE(infos[i].parameters.empty()) << want[i];
    EXPECT_FALSE(infos[i].description.empty()) << want[i];
    EXPECT_EQ(infos[i].description.find('\n'), std::string::npos) << want[i];
  }
  EXPECT_EQ(infos[0].formula, "b0 + b1*x + ... + bk*x^k");
  EXPECT_EQ(infos[0].parameters, (std::vector<std::string>{"b0", "...", "bk"}));
}

TEST(BuiltinModelRegistry, EveryListedModelCanBeMade) {
  for (const ModelInfo& info : builtin_models()) {
    const std::string name = info.name == "poly:k" ? "poly:3" : info.name;
    SCOPED_TRACE(name);
    const auto m = make_builtin_model(name);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->name(), name);
    EXPECT_EQ(m->num_inputs(), 1u);
    if (info.name != "poly:k") {
      EXPECT_EQ(m->formula(), info.formula);
      EXPECT_EQ(m->parameter_names(), info.parameters);
    }
  }
}

TEST(BuiltinModelRegistry, ParameterNamesAndFormulas) {
  struct Want {
    std::string name, formula;
    std::vector<std::string> params;
  };
  const std::vector<Want> want = {
      {"exp-decay", "a*exp(-b*x) + c", {"a", "b", "c"}},
      {"exp-growth", "a*exp(b*x)", {"a", "b"}},
      {"log", "a + b*ln(x)", {"a", "b"}},
      {"power", "a*x^b", {"a", "b"}},
      {"logistic4", "d + (a - d)/(1 + (x/c)^b)", {"a", "b", "c", "d"}},
      {"gauss", "a*exp(-(x - mu)^2/(2*s^2)) + c", {"a", "mu", "s", "c"}},
      {"michaelis-menten", "vmax*x/(km + x)", {"vmax", "km"}},
      {"gompertz", "a*exp(-b*exp(-c*x))", {"a", "b", "c"}},
      {"asymptotic", "Asym + (R0 - Asym)*exp(-exp(lrc)*x)", {"Asym", "R0", "lrc"}},
  };
  for (const auto& w : want) {
    const auto m = make_builtin_model(w.name);
    EXPECT_EQ(m->formula(), w.formula);
    EXPECT_EQ(m->parameter_names(), w.params);
    EXPECT_EQ(m->num_parameters(), w.params.size());
  }
}

TEST(BuiltinModelRegistry, PolynomialNamesFormulasAndParameters) {
  EXPECT_EQ(make_builtin_model("poly:0")->formula(), "b0");
  EXPECT_EQ(make_builtin_model("poly:1")->formula(), "b0 + b1*x");
  EXPECT_EQ(make_builtin_model("poly:3")->formula(), "b0 + b1*x + b2*x^2 + b3*x^3");
  EXPECT_EQ(make_builtin_model("poly:3")->parameter_names(),
            (std::vector<std::string>{"b0", "b1", "b2", "b3"}));
  for (int k = 0; k <= 20; ++k) {
    std::string name = "poly:";
    name += std::to_string(k);  // not "poly:" + ...: GCC 12 warns falsely (-Wrestrict) on that
    const auto m = make_builtin_model(name);
    EXPECT_EQ(m->name(), name);
    EXPECT_EQ(m->num_parameters(), static_cast<std::size_t>(k + 1));
    EXPECT_EQ(m->parameter_names().back(), std::string("b").append(std::to_string(k)));
  }
}

TEST(BuiltinModelRegistry, UnknownNameSuggestsClosest) {
  EXPECT_EQ(error_of("exp-decy"),
            "unknown model 'exp-decy'; did you mean 'exp-decay'? (parafit models lists them)");
  EXPECT_NE(error_of("gompretz").find("did you mean 'gompertz'?"), std::string::npos);
  EXPECT_NE(error_of("Gauss").find("did you mean 'gauss'?"), std::string::npos);
  EXPECT_NE(error_of("michaelis_menten").find("did you mean 'michaelis-menten'?"),
            std::string::npos);
  EXPECT_NE(error_of("logistic").find("did you mean 'logistic4'?"), std::string::npos);
  EXPECT_NE(error_of("asymptote").find("did you mean 'asymptotic'?"), std::string::npos);
  EXPECT_NE(error_of("pol").find("did you mean 'poly:2'?"), std::string::npos);
  EXPECT_NE(error_of("Poly:3").find("did you mean 'poly:3'?"), std::string::npos);
  EXPECT_NE(error_of("").find("unknown model ''"), std::string::npos);
}

TEST(BuiltinModelRegistry, PolyWithoutDegreeSuggestsOne) {
  const std::string e = error_of("poly");
  EXPECT_NE(e.find("'poly'"), std::string::npos) << e;
  EXPECT_NE(e.find("poly:2"), std::string::npos) << e;
  EXPECT_NE(error_of("poly:").find("poly:2"), std::string::npos);
}

TEST(BuiltinModelRegistry, BadPolynomialDegrees) {
  const std::string abc = error_of("poly:abc");
  EXPECT_NE(abc.find("'abc'"), std::string::npos) << abc;
  EXPECT_NE(abc.find("from 0 to 20"), std::string::npos) << abc;
  for (const char* bad : {"poly:-1", "poly:21", "poly:99999999999999999999"}) {
    const std::string e = error_of(bad);
    EXPECT_NE(e.find("out of range"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("from 0 to 20"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find(std::string("'") + bad + "'"), std::string::npos) << e;
  }
  for (const char* bad : {"poly:2.5", "poly:3x", "poly: 3", "poly:+3"}) {
    const std::string e = error_of(bad);
    EXPECT_NE(e.find("bad polynomial degree"), std::string::npos) << bad << ": " << e;
  }
}

}  // namespace
}  // namespace parafit
