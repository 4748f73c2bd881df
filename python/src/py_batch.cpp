// python/src/py_batch.cpp — parafit.batch's engine: many fits of one model, one per row of a
// (fits x points) array, results as numpy arrays.
#include <fmt/format.h>

#include <cstring>

#include "parafit/batch.h"
#include "parafit/error.h"
#include "parafit/formula.h"
#include "parafit/model.h"
#include "py_common.h"

namespace parafit::python {
namespace {

using Matrix = py::array_t<double, py::array::c_style | py::array::forcecast>;

Matrix matrix(const py::object& value, const char* what) {
  Matrix m = Matrix::ensure(value);
  if (!m) throw py::type_error(fmt::format("{} is not an array of numbers", what));
  return m;
}

py::dict run_batch(const std::string& model_name, const py::object& y_in, const py::object& x_in,
                   const py::object& weights_in, const std::string& estimator, const py::object& start_in,
                   const py::dict& fix, const py::dict& bounds, std::optional<double> tolerance,
                   std::optional<int> max_iterations, bool float32, std::optional<int> threads) {
  const Matrix y = matrix(y_in, "y");
  if (y.ndim() != 2) throw py::value_error("y must be a (fits, points) array: one fit per row");
  const auto fits = std::size_t(y.shape(0)), points = std::size_t(y.shape(1));
  // A built-in model, or a formula of one input named x.
  const std::shared_ptr<const Model> model = looks_like_formula(model_name)
                                                 ? compile_formula({model_name, {"x"}, {}, {"x"}}).model
                                                 : std::shared_ptr<const Model>(make_builtin_model(model_name));
  BatchData data;
  data.y.assign(y.data(), y.data() + fits * points);
  data.offsets.resize(fits + 1);
  for (std::size_t k = 0; k <= fits; ++k) data.offsets[k] = k * points;
  data.inputs.assign(1, std::vector<double>(fits * points));
  if (x_in.is_none()) {
    for (std::size_t k = 0; k < fits; ++k)
      for (std::size_t i = 0; i < points; ++i) data.inputs[0][k * points + i] = double(i);
  } else {
    const Matrix x = matrix(x_in, "x");
    if (x.ndim() == 1 && std::size_t(x.shape(0)) == points) {
      for (std::size_t k = 0; k < fits; ++k) std::memcpy(&data.inputs[0][k * points], x.data(), points * sizeof(double));
    } else if (x.ndim() == 2 && std::size_t(x.shape(0)) == fits && std::size_t(x.shape(1)) == points) {
      std::memcpy(data.inputs[0].data(), x.data(), fits * points * sizeof(double));
    } else {
      throw py::value_error(fmt::format("x must have {} values (shared by every fit) or y's shape ({}, {})", points,
                                        fits, points));
    }
  }
  if (!weights_in.is_none()) {
    const Matrix w = matrix(weights_in, "weights");
    if (w.ndim() != 2 || std::size_t(w.shape(0)) != fits || std::size_t(w.shape(1)) != points)
      throw py::value_error(fmt::format("weights must have y's shape ({}, {})", fits, points));
    data.weights.assign(w.data(), w.data() + fits * points);
  }
  BatchSpec spec;
  if (estimator == "poisson-mle") spec.estimator = Estimator::kPoissonMle;
  else if (estimator != "lse") throw py::value_error(fmt::format("estimator must be 'lse' or 'poisson-mle', not '{}'", estimator));
  const std::size_t p = model->num_parameters();
  const auto index_of = [&](const std::string& name) {
    const auto& names = model->parameter_names();
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
      throw py::value_error(fmt::format("model '{}' has no parameter '{}'", model->name(), name));
    return std::size_t(it - names.begin());
  };
  if (!start_in.is_none()) {
    const Matrix s = matrix(start_in, "start");
    if (!(s.ndim() == 1 && std::size_t(s.shape(0)) == p) &&
        !(s.ndim() == 2 && std::size_t(s.shape(0)) == fits && std::size_t(s.shape(1)) == p))
      throw py::value_error(fmt::format("start must have {} values (every fit) or shape ({}, {})", p, fits, p));
    spec.start.assign(s.data(), s.data() + s.size());
  }
  for (const auto& [name, value] : fix) spec.fix.emplace_back(index_of(py::str(name)), value.cast<double>());
  if (bounds.size() > 0) {
    spec.bounds.assign(p, ParameterBounds{});
    for (const auto& [name, value] : bounds) spec.bounds[index_of(py::str(name))] = bounds_pair(value, py::str(name));
  }
  spec.float32 = float32;
  if (float32) spec.solver.function_tolerance = kFloat32DefaultTolerance;
  if (tolerance) spec.solver.function_tolerance = *tolerance;
  if (max_iterations) spec.solver.max_iterations = *max_iterations;
  Context ctx;
  if (threads) ctx.threads = *threads;
  BatchResult r;
  {
    py::gil_scoped_release release;
    r = fit_batch(*model, data, spec, ctx);
  }
  py::dict out;
  out["names"] = r.parameter_names;
  out["estimates"] = to_matrix(r.estimates, fits, p);
  out["std_errors"] = to_matrix(r.std_errors, fits, p);
  out["cost"] = to_array(r.cost);
  auto iterations = py::array_t<std::uint32_t>(py::ssize_t(fits));
  auto used = py::array_t<std::uint32_t>(py::ssize_t(fits));
  auto status = py::array_t<std::uint8_t>(py::ssize_t(fits));
  for (std::size_t k = 0; k < fits; ++k) {
    iterations.mutable_data()[k] = r.iterations[k];
    used.mutable_data()[k] = r.points[k];
    status.mutable_data()[k] = std::uint8_t(r.status[k]);
  }
  out["iterations"] = iterations;
  out["points"] = used;
  out["status"] = status;
  py::list status_names;
  for (std::size_t s = 0; s < kBatchStatusCount; ++s) status_names.append(std::string(to_string(BatchStatus(s))));
  out["status_names"] = status_names;
  out["summary"] = r.summary_line();
  return out;
}

}  // namespace

void register_batch(py::module_& m) {
  m.def("batch", &run_batch, py::arg("model"), py::arg("y"), py::arg("x") = py::none(),
        py::arg("weights") = py::none(), py::arg("estimator") = "lse", py::arg("start") = py::none(),
        py::arg("fix") = py::dict(), py::arg("bounds") = py::dict(), py::arg("tolerance") = py::none(),
        py::arg("max_iterations") = py::none(), py::arg("float32") = false, py::arg("threads") = py::none(),
        "The engine of parafit.batch (use that).");
}

}  // namespace parafit::python
