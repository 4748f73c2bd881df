#include "nist_models.h"

#include <fmt/format.h>

#include "parafit/error.h"

namespace nist {

// Each formula is the right-hand side of the model line in the problem's .dat file, with the error
// term "+ e" dropped and NIST's notation mapped to parafit's: [ ] -> ( ), ** -> ^ (both are
// power, binding tighter than unary minus, as in Fortran), arctan -> atan. Roszman1's pi is
// parafit's constant pi (the file's 3.141592653589793238462643383279 rounds to the same double).
// Nelson's model is written for log[y], so it fits the transformed response: its certified values
// are for log(y). test_nist.cpp checks each formula against the file's text and that it gives the
// certified residual sum of squares at the certified parameters.
const std::vector<NistModel>& nist_models() {
  static const std::vector<NistModel> models = {
      // Lower difficulty
      {"Misra1a", "b1*(1-exp(-b2*x))"},
      {"Chwirut2", "exp(-b1*x)/(b2+b3*x)"},
      {"Chwirut1", "exp(-b1*x)/(b2+b3*x)"},
      {"Lanczos3", "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"},
      {"Gauss1", "b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)"},
      {"Gauss2", "b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)"},
      {"DanWood", "b1*x^b2"},
      {"Misra1b", "b1*(1-(1+b2*x/2)^(-2))"},
      // Average difficulty
      {"Kirby2", "(b1 + b2*x + b3*x^2) / (1 + b4*x + b5*x^2)"},
      {"Hahn1", "(b1+b2*x+b3*x^2+b4*x^3) / (1+b5*x+b6*x^2+b7*x^3)"},
      {"Nelson", "log(y) ~ b1 - b2*x1*exp(-b3*x2)"},
      {"MGH17", "b1 + b2*exp(-x*b4) + b3*exp(-x*b5)"},
      {"Lanczos1", "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"},
      {"Lanczos2", "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)"},
      {"Gauss3", "b1*exp(-b2*x) + b3*exp(-(x-b4)^2/b5^2) + b6*exp(-(x-b7)^2/b8^2)"},
      {"Misra1c", "b1*(1-(1+2*b2*x)^(-.5))"},
      {"Misra1d", "b1*b2*x*((1+b2*x)^(-1))"},
      {"Roszman1", "b1 - b2*x - atan(b3/(x-b4))/pi"},
      {"ENSO",
       "b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12)"
       " + b5*cos(2*pi*x/b4) + b6*sin(2*pi*x/b4)"
       " + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)"},
      // Higher difficulty
      {"MGH09", "b1*(x^2+x*b2) / (x^2+x*b3+b4)"},
      {"Thurber", "(b1 + b2*x + b3*x^2 + b4*x^3) / (1 + b5*x + b6*x^2 + b7*x^3)"},
      {"BoxBOD", "b1*(1-exp(-b2*x))"},
      {"Rat42", "b1 / (1+exp(b2-b3*x))"},
      {"MGH10", "b1*exp(b2/(x+b3))"},
      {"Eckerle4", "(b1/b2) * exp(-0.5*((x-b3)/b2)^2)"},
      {"Rat43", "b1 / ((1+exp(b2-b3*x))^(1/b4))"},
      {"Bennett5", "b1*(b2+x)^(-1/b3)"},
  };
  return models;
}

const NistModel& nist_model(std::string_view name) {
  for (const NistModel& m : nist_models())
    if (m.name == name) return m;
  throw parafit::Error(fmt::format("no NIST problem called '{}'", name));
}

namespace {

std::string without_blanks(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\t') out += c;
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

}  // namespace

std::string normalized_nist_formula(const std::string& response, const std::string& rhs) {
  std::string lhs = without_blanks(response);
  std::string out = lhs == "y" ? without_blanks(rhs) : lhs + "~" + without_blanks(rhs);
  replace_all(out, "[", "(");
  replace_all(out, "]", ")");
  replace_all(out, "**", "^");
  replace_all(out, "arctan", "atan");
  return out;
}

std::string normalized_formula(const std::string& formula) { return without_blanks(formula); }

}  // namespace nist
