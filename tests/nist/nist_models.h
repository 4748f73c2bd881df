// nist_models.h — the 27 NIST StRD nonlinear-regression models written as parafit formulas.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nist {

struct NistModel {
  std::string name;     // "Misra1a": the problem, and its file name without ".dat"
  std::string formula;  // the parafit formula ("b1*(1-exp(-b2*x))"; Nelson "log(y) ~ ...")
};

// The 27 problems in NIST's order (by difficulty: Lower, Average, Higher).
const std::vector<NistModel>& nist_models();
// The model of problem `name`; throws parafit::Error for an unknown name.
const NistModel& nist_model(std::string_view name);

// The formula as NIST writes it in the file, rewritten to compare with a parafit formula: blanks
// removed, [ ] -> ( ), ** -> ^, arctan -> atan, and "lhs ~ " in front when the response is not
// plain "y" (Nelson: "log(y)~b1-b2*x1*exp(-b3*x2)").
std::string normalized_nist_formula(const std::string& response, const std::string& rhs);
// A parafit formula with its blanks removed, to compare with normalized_nist_formula.
std::string normalized_formula(const std::string& formula);

}  // namespace nist
