// Helpers shared by the model tests: reference formulas written independently of src/model, and
// a way to evaluate a model over a vector of x.
#pragma once

#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "parafit/model.h"

namespace parafit::model_test {

// f(x; theta) written out directly with std:: functions, for every family tested.
using Formula = std::function<double(double, const std::vector<double>&)>;

inline Formula reference(const std::string& name) {
  using T = const std::vector<double>&;
  if (name.rfind("poly:", 0) == 0) {
    return [](double x, T t) {
      double s = 0.0;
      for (std::size_t j = 0; j < t.size(); ++j) s += t[j] * std::pow(x, static_cast<double>(j));
      return s;
    };
  }
  if (name == "exp-decay") return [](double x, T t) { return t[0] * std::exp(-t[1] * x) + t[2]; };
  if (name == "exp-growth") return [](double x, T t) { return t[0] * std::exp(t[1] * x); };
  if (name == "log") return [](double x, T t) { return t[0] + t[1] * std::log(x); };
  if (name == "power") return [](double x, T t) { return t[0] * std::pow(x, t[1]); };
  if (name == "logistic4") {
    return [](double x, T t) { return t[3] + (t[0] - t[3]) / (1.0 + std::pow(x / t[2], t[1])); };
  }
  if (name == "gauss") {
    return [](double x, T t) {
      const double d = x - t[1];
      return t[0] * std::exp(-d * d / (2.0 * t[2] * t[2])) + t[3];
    };
  }
  if (name == "michaelis-menten") return [](double x, T t) { return t[0] * x / (t[1] + x); };
  if (name == "gompertz") {
    return [](double x, T t) { return t[0] * std::exp(-t[1] * std::exp(-t[2] * x)); };
  }
  if (name == "asymptotic") {
    return [](double x, T t) { return t[0] + (t[1] - t[0]) * std::exp(-std::exp(t[2]) * x); };
  }
  return {};
}

// f over all of x in one block; J (column-major, ld = x.size()) too when asked.
inline std::vector<double> eval(const Model& m, const std::vector<double>& theta,
                                const std::vector<double>& x, std::vector<double>* J = nullptr) {
  std::vector<double> f(x.size());
  const double* in[] = {x.data()};
  if (J) J->assign(x.size() * theta.size(), 0.0);
  m.evaluate(theta.data(), RowBlock{x.size(), in}, f.data(), J ? J->data() : nullptr, x.size());
  return f;
}

}  // namespace parafit::model_test
