// python/src/module.cpp — parafit._core: the C++ engine of the parafit Python package
// (python/parafit/). parafit.Error is a ValueError subclass raised for every parafit::Error, with
// the same message.
#include "parafit/error.h"
#include "parafit/formula.h"
#include "parafit/model.h"
#include "py_common.h"

namespace parafit::python {
void register_fit(py::module_& m);
void register_batch(py::module_& m);
void register_train(py::module_& m);
}  // namespace parafit::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "parafit's C++ engine (use the parafit package)";
  py::register_exception<parafit::Error>(m, "Error", PyExc_ValueError);
  parafit::python::register_fit(m);
  parafit::python::register_batch(m);
  parafit::python::register_train(m);
  // A model's parameter names: a built-in name, or a formula over these data columns.
  m.def("parameters_of", [](const std::string& model, const std::vector<std::string>& columns) {
          if (parafit::looks_like_formula(model))
            return parafit::compile_formula({model, columns, {}, {}}).model->parameter_names();
          return parafit::make_builtin_model(model)->parameter_names();
        }, py::arg("model"), py::arg("columns") = std::vector<std::string>{});
#ifdef PARAFIT_HAVE_MPI
  m.attr("have_mpi") = true;
#else
  m.attr("have_mpi") = false;
#endif
}
