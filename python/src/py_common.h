// python/src/py_common.h — what the bindings share: numpy columns as a Dataset (borrowed, not
// copied), the Context of a call (threads, an mpi4py communicator), numpy results.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/problem.h"

namespace parafit::python {

namespace py = pybind11;

// Named columns over numpy arrays. A 1-D float64 C-contiguous array is borrowed (no copy); any
// other array (float32, strided, another dtype) is converted once into a float64 array that
// `keep` holds, and counted in `copies`. The arrays must stay alive while `data` is used: `keep`
// holds them all.
struct Columns {
  Dataset data;
  std::vector<py::object> keep;
  std::size_t copies = 0;
  std::vector<std::string> copied;  // names of the columns that were copied
};

// From a mapping of column name -> array-like (a dict, a pandas DataFrame, an npz file). Throws
// ValueError (py::value_error) for a column that is not one-dimensional or of the wrong length.
Columns columns_from(const py::handle& mapping);

// The threads, and the communicator of an mpi4py communicator (None: this process alone). The
// MpiCommunicator, when there is one, is built into `holder` (a collective over `comm`).
Context context_for(std::optional<int> threads, const py::object& comm,
                    std::unique_ptr<Communicator>& holder);

// bounds[name] = (lower, upper), either None for no limit. Throws ValueError for another shape.
ParameterBounds bounds_pair(const py::handle& value, const std::string& name);

py::array_t<double> to_array(const std::vector<double>& values);
py::array_t<double> to_matrix(const std::vector<double>& values, std::size_t rows, std::size_t cols);

// Raises KeyboardInterrupt (py::error_already_set) if Ctrl-C was pressed. Takes the GIL.
void check_signals();

}  // namespace parafit::python
