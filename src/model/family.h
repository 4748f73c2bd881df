// family.h — internal: the common base of the built-in model families and their factories.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parafit/model.h"

namespace parafit::detail {

// Holds the strings every family reports; subclasses implement evaluate and initial_values.
class FamilyModel : public Model {
 public:
  FamilyModel(std::string name, std::string formula, std::vector<std::string> parameters)
      : name_(std::move(name)), formula_(std::move(formula)), parameters_(std::move(parameters)) {}

  std::string name() const override { return name_; }
  std::string formula() const override { return formula_; }
  const std::vector<std::string>& parameter_names() const override { return parameters_; }

 private:
  std::string name_;
  std::string formula_;
  std::vector<std::string> parameters_;
};

inline constexpr int kMaxPolyDegree = 20;

std::unique_ptr<Model> make_poly(int degree);  // 0 <= degree <= kMaxPolyDegree
std::unique_ptr<Model> make_exp_decay();
std::unique_ptr<Model> make_exp_growth();
std::unique_ptr<Model> make_log();
std::unique_ptr<Model> make_power();
std::unique_ptr<Model> make_logistic4();
std::unique_ptr<Model> make_gauss();
std::unique_ptr<Model> make_michaelis_menten();
std::unique_ptr<Model> make_gompertz();
std::unique_ptr<Model> make_asymptotic();

}  // namespace parafit::detail
