#include "py_common.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#ifdef PARAFIT_HAVE_MPI
#include "parafit/mpi_communicator.h"
#endif

namespace parafit::python {

Columns columns_from(const py::handle& mapping) {
  Columns out;
  if (!py::hasattr(mapping, "keys"))
    throw py::type_error("data must be a mapping of column names to arrays (a dict, a DataFrame, an npz file)");
  for (const py::handle key : mapping.attr("keys")()) {
    const std::string name = py::str(key);
    py::object value = mapping.attr("__getitem__")(key);
    py::array array = py::array::ensure(value);
    if (!array) throw py::type_error(fmt::format("column '{}' is not an array of numbers", name));
    if (array.ndim() != 1)
      throw py::value_error(fmt::format("column '{}' has {} dimensions; columns are one-dimensional", name,
                                        array.ndim()));
    const bool borrowable = py::isinstance<py::array_t<double>>(array) &&
                            (array.flags() & py::array::c_style) != 0;
    py::array_t<double, py::array::c_style | py::array::forcecast> values;
    if (borrowable) {
      values = py::reinterpret_borrow<py::array_t<double, py::array::c_style | py::array::forcecast>>(array);
    } else {
      values = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(array);
      if (!values) throw py::type_error(fmt::format("column '{}' cannot be read as float64", name));
      ++out.copies;
      out.copied.push_back(name);
    }
    out.data.add_column_view(name, std::span<const double>(values.data(), std::size_t(values.size())));
    out.keep.push_back(std::move(values));
  }
  return out;
}

Context context_for(std::optional<int> threads, const py::object& comm, std::unique_ptr<Communicator>& holder) {
  Context ctx;
  if (threads) {
    if (*threads < 1) throw py::value_error(fmt::format("threads must be >= 1, not {}", *threads));
    ctx.threads = *threads;
  }
  if (comm.is_none()) return ctx;
#ifdef PARAFIT_HAVE_MPI
  // mpi4py's communicator: its C handle (MPI._handleof), an MPI_Comm (a pointer in Open MPI).
  const py::object mpi = py::module_::import("mpi4py.MPI");
  if (!py::isinstance(comm, mpi.attr("Comm")))
    throw py::type_error("comm must be an mpi4py communicator (mpi4py.MPI.Comm), or None");
  const auto handle = mpi.attr("_handleof")(comm).cast<std::uintptr_t>();
  MPI_Comm c;
  static_assert(sizeof(MPI_Comm) <= sizeof(std::uintptr_t));
  std::memcpy(&c, &handle, sizeof(MPI_Comm));
  holder = std::make_unique<MpiCommunicator>(c);
  ctx.communicator = holder.get();
  return ctx;
#else
  throw py::value_error("this parafit was built without MPI: comm must be None");
#endif
}

ParameterBounds bounds_pair(const py::handle& value, const std::string& name) {
  if (!py::isinstance<py::sequence>(value) || py::len(value) != 2)
    throw py::value_error(fmt::format("bounds['{}'] must be (lower, upper), None for no limit", name));
  const auto pair = py::reinterpret_borrow<py::sequence>(value);
  ParameterBounds b;
  b.lower = pair[0].is_none() ? -std::numeric_limits<double>::infinity() : pair[0].cast<double>();
  b.upper = pair[1].is_none() ? std::numeric_limits<double>::infinity() : pair[1].cast<double>();
  return b;
}

py::array_t<double> to_array(const std::vector<double>& values) {
  py::array_t<double> out(py::ssize_t(values.size()));
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(double));
  return out;
}

py::array_t<double> to_matrix(const std::vector<double>& values, std::size_t rows, std::size_t cols) {
  py::array_t<double> out({py::ssize_t(rows), py::ssize_t(cols)});
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), rows * cols * sizeof(double));
  return out;
}

void check_signals() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

}  // namespace parafit::python
