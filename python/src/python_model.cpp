#include "python_model.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "parafit/error.h"

namespace parafit::python {

PythonModel::PythonModel(py::object f, py::object jac, std::vector<std::string> parameters, std::size_t inputs,
                         std::string label)
    : f_(std::move(f)), jac_(std::move(jac)), parameters_(std::move(parameters)), inputs_(inputs),
      label_(std::move(label)) {}

PythonModel::~PythonModel() {
  // The callables are Python objects: release them holding the GIL.
  py::gil_scoped_acquire gil;
  f_ = py::object();
  jac_ = py::object();
  std::lock_guard lock(failure_mutex_);
  failure_ = nullptr;
}

py::array_t<double> PythonModel::call(const py::object& fn, const py::array_t<double>& x, const double* theta,
                                      std::size_t expect_rows, std::size_t expect_cols) const {
  py::tuple args(1 + parameters_.size());
  args[0] = x;
  for (std::size_t j = 0; j < parameters_.size(); ++j) args[1 + j] = py::float_(theta[j]);
  py::object result = fn(*args);
  auto values = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(result);
  if (!values) throw py::type_error(fmt::format("{} returned {}, not an array of numbers", label_,
                                                std::string(py::str(py::type::of(result)))));
  const std::size_t n = std::size_t(values.size());
  if (n != expect_rows * expect_cols)
    throw py::value_error(fmt::format("{} returned {} values for a block of {} rows{}", label_, n, expect_rows,
                                      expect_cols > 1 ? fmt::format(" (jac: {} x {} expected)", expect_rows,
                                                                    expect_cols)
                                                      : std::string()));
  return values;
}

void PythonModel::evaluate(const double* theta, const RowBlock& block, double* f, double* J, std::size_t ldj) const {
  const std::size_t n = block.size, p = parameters_.size();
  const auto fail_block = [&] {
    std::fill(f, f + n, std::numeric_limits<double>::quiet_NaN());
    if (J != nullptr)
      for (std::size_t j = 0; j < p; ++j) std::fill(J + j * ldj, J + j * ldj + n, std::numeric_limits<double>::quiet_NaN());
  };
  {
    std::lock_guard lock(failure_mutex_);
    if (failure_) return fail_block();
  }
  py::gil_scoped_acquire gil;
  try {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    // The block's inputs, copied: f may keep a reference to x.
    py::array_t<double> x = inputs_ == 1 ? py::array_t<double>(py::ssize_t(n))
                                         : py::array_t<double>({py::ssize_t(inputs_), py::ssize_t(n)});
    for (std::size_t k = 0; k < inputs_; ++k)
      std::memcpy(x.mutable_data() + k * n, block.inputs[k], n * sizeof(double));
    const py::array_t<double> y = call(f_, x, theta, n, 1);
    std::memcpy(f, y.data(), n * sizeof(double));
    if (J == nullptr) return;
    if (!jac_.is_none()) {
      const py::array_t<double> jm = call(jac_, x, theta, n, p);  // (n, p), row-major
      const double* d = jm.data();
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < p; ++j) J[j * ldj + i] = d[i * p + j];
      return;
    }
    std::vector<double> shifted(theta, theta + p);
    for (std::size_t j = 0; j < p; ++j) {
      const double h = std::sqrt(std::numeric_limits<double>::epsilon()) * std::max(1.0, std::abs(theta[j]));
      shifted[j] = theta[j] + h;
      const double step = shifted[j] - theta[j];  // the step as represented
      const py::array_t<double> yj = call(f_, x, shifted.data(), n, 1);
      const double* v = yj.data();
      for (std::size_t i = 0; i < n; ++i) J[j * ldj + i] = (v[i] - f[i]) / step;
      shifted[j] = theta[j];
    }
  } catch (py::error_already_set&) {
    std::lock_guard lock(failure_mutex_);
    if (!failure_) failure_ = std::current_exception();
    fail_block();
  } catch (const py::builtin_exception&) {
    std::lock_guard lock(failure_mutex_);
    if (!failure_) failure_ = std::current_exception();
    fail_block();
  }
}

std::vector<double> PythonModel::initial_values(std::span<const std::span<const double>>,
                                                std::span<const double>) const {
  throw Error(fmt::format("{} is a Python function: it has no self-start rule; give start values (p0)", label_),
              Error::Kind::kUsage);
}

void PythonModel::rethrow() const {
  std::exception_ptr failure;
  {
    std::lock_guard lock(failure_mutex_);
    failure = failure_;
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace parafit::python
