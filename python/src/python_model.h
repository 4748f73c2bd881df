// python/src/python_model.h — a parafit::Model whose function is a Python callable, evaluated on
// whole blocks of rows (numpy arrays), never row by row.
//
// f(x, *theta) gets x as a float64 array: shape (n,) for one input, (k, n) for k inputs (scipy's
// xdata convention), and returns n values. The Jacobian comes from jac(x, *theta) (shape (n, p))
// when given, otherwise from forward differences: one more call of f per parameter, with step
// sqrt(eps) max(1, |theta_j|) (scipy's '2-point'). A block (up to 8192 rows in the LM's passes,
// 256 in the statistics' and predictions') costs 1 + p calls (2 with jac, 1 without a Jacobian)
// plus one copy of its inputs; the GIL is taken per call, so threads evaluate Python callables one
// at a time.
//
// A Python exception in f or jac makes the block's values NaN (the fit then stops as it would on a
// model undefined there) and is kept: rethrow() raises it again after the fit, as it was.
#pragma once

#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "parafit/model.h"
#include "py_common.h"

namespace parafit::python {

class PythonModel final : public Model {
 public:
  PythonModel(py::object f, py::object jac, std::vector<std::string> parameters, std::size_t inputs,
              std::string label);
  ~PythonModel() override;

  std::string name() const override { return label_; }
  std::string formula() const override { return label_; }
  const std::vector<std::string>& parameter_names() const override { return parameters_; }
  std::size_t num_inputs() const override { return inputs_; }
  // Each call crosses into the interpreter: the LM's passes hand it whole chunks (8192 rows), not
  // the default 256-row blocks (32 times fewer calls).
  std::size_t block_rows() const override { return 8192; }
  void evaluate(const double* theta, const RowBlock& block, double* f, double* J, std::size_t ldj) const override;
  std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) const override;

  // Raises the first Python exception f or jac raised, if any (needs the GIL).
  void rethrow() const;

 private:
  py::array_t<double> call(const py::object& fn, const py::array_t<double>& x, const double* theta,
                           std::size_t expect_rows, std::size_t expect_cols) const;

  py::object f_, jac_;
  std::vector<std::string> parameters_;
  std::size_t inputs_;
  std::string label_;
  mutable std::mutex failure_mutex_;
  mutable std::exception_ptr failure_;
};

}  // namespace parafit::python
