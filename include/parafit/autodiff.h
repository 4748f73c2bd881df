// parafit/autodiff.h — a Model from a C++ functor, with exact derivatives by forward-mode AD.
//
// Write the regression function once, templated on its scalar type:
//
//   struct Hill {
//     template <typename T>
//     T operator()(const T* theta, const double* x) const {
//       using std::pow;                       // for T = double; Jet's pow is found by ADL
//       const T xn = pow(x[0], theta[2]);
//       return theta[0] * xn / (pow(theta[1], theta[2]) + xn);
//     }
//   };
//   parafit::AutoDiffModel<Hill, 3> model(Hill{}, {"vmax", "k", "n"}, "hill", "vmax*x^n/(k^n + x^n)");
//
// evaluate() runs the functor once per row: with T = double when only values are wanted, and with
// T = Jet<kParams> (parafit/jet.h) when the Jacobian is wanted — the same derivative rules the
// formula language uses. Like Ceres' AutoDiffCostFunction, the number of parameters is a
// compile-time constant so the derivative vectors live on the stack.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "parafit/error.h"
#include "parafit/jet.h"
#include "parafit/model.h"

namespace parafit {

template <typename Functor, int kParams, int kInputs = 1>
class AutoDiffModel final : public Model {
  static_assert(kParams > 0, "a model needs at least one parameter");
  static_assert(kInputs >= 0, "kInputs is the number of input columns");

 public:
  // `parameter_names` must have kParams names; `formula` is shown in reports.
  AutoDiffModel(Functor functor, std::vector<std::string> parameter_names, std::string name,
                std::string formula)
      : functor_(std::move(functor)), parameters_(std::move(parameter_names)), name_(std::move(name)),
        formula_(std::move(formula)) {
    if (parameters_.size() != static_cast<std::size_t>(kParams))
      throw Error("AutoDiffModel '" + name_ + "': " + std::to_string(parameters_.size()) +
                  " parameter names given for " + std::to_string(kParams) + " parameters");
  }

  std::string name() const override { return name_; }
  std::string formula() const override { return formula_; }
  const std::vector<std::string>& parameter_names() const override { return parameters_; }
  std::size_t num_inputs() const override { return static_cast<std::size_t>(kInputs); }

  void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    // One extra element keeps the array non-empty for kInputs == 0.
    std::array<double, static_cast<std::size_t>(kInputs) + 1> x{};
    if (J == nullptr) {
      for (std::size_t i = 0; i < block.size; ++i) {
        for (int k = 0; k < kInputs; ++k) x[std::size_t(k)] = block.inputs[k][i];
        f[i] = functor_(theta, x.data());
      }
      return;
    }
    // Seed: theta_j carries the unit derivative e_j.
    std::array<Jet<kParams>, static_cast<std::size_t>(kParams)> t;
    for (int j = 0; j < kParams; ++j) t[std::size_t(j)] = Jet<kParams>(theta[j], j);
    for (std::size_t i = 0; i < block.size; ++i) {
      for (int k = 0; k < kInputs; ++k) x[std::size_t(k)] = block.inputs[k][i];
      const Jet<kParams> r = functor_(t.data(), x.data());
      f[i] = r.a;
      for (int j = 0; j < kParams; ++j) J[std::size_t(j) * ldj + i] = r.v[j];
    }
  }

  // A functor says nothing about plausible parameter values: start values must be given.
  std::vector<double> initial_values(std::span<const std::span<const double>>,
                                     std::span<const double>) const override {
    std::string names;
    for (const std::string& p : parameters_) names += (names.empty() ? "" : ", ") + p;
    throw Error("model '" + name_ + "' has no self-start: give a start value for every parameter (" + names + ")");
  }

 private:
  Functor functor_;
  std::vector<std::string> parameters_;
  std::string name_;
  std::string formula_;
};

}  // namespace parafit
