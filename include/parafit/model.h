// parafit/model.h — the Model interface: a regression function and its Jacobian over row blocks.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parafit {

// A block of consecutive rows handed to a model. Models see blocks, not single rows, so their
// loops vectorise and any per-call overhead is paid once per block.
struct RowBlock {
  std::size_t size = 0;                   // number of rows in the block
  const double* const* inputs = nullptr;  // inputs[k][i]: input variable k at row i of the block
};

class Model {
 public:
  virtual ~Model() = default;

  // The name that selects this model on the command line, e.g. "exp-decay" or "poly:3".
  virtual std::string name() const = 0;
  // The regression function in readable form, e.g. "a*exp(-b*x) + c".
  virtual std::string formula() const = 0;
  // Parameter names, in the order of the parameter vector theta.
  virtual const std::vector<std::string>& parameter_names() const = 0;
  // Number of input variables (data columns) the model reads per row.
  virtual std::size_t num_inputs() const { return 1; }

  std::size_t num_parameters() const { return parameter_names().size(); }

  // Evaluates the model at parameters `theta` over `block`:
  //   f[i] = f(x_i; theta)                      for i < block.size
  //   J[j * ldj + i] = d f(x_i; theta) / d theta_j   if J != nullptr (column-major, ldj >= size)
  // Where the model is undefined (log of a negative x, say) the value is NaN, never an exception.
  virtual void evaluate(const double* theta, const RowBlock& block, double* f, double* J,
                        std::size_t ldj) const = 0;

  // Rows per evaluate() call the model would like in the LM's passes (0: the engine's default, 256
  // rows, whose f and J stay in L1 cache). A model whose every call has a large fixed cost (a Python
  // function) asks for more; the engine caps it at 65536 and at the chunk.
  virtual std::size_t block_rows() const { return 0; }

  // Starting values computed from the data, like R's selfStart models. `inputs[k]` is input
  // variable k over all rows. Throws parafit::Error when the data do not allow a start (e.g. a
  // power model with no positive x); the message asks for --start.
  virtual std::vector<double> initial_values(std::span<const std::span<const double>> inputs,
                                             std::span<const double> y) const = 0;
};

// Description of a built-in model family, for `parafit models`.
struct ModelInfo {
  std::string name;         // "exp-decay", or "poly:k" for the polynomial family
  std::string formula;      // "a*exp(-b*x) + c"
  std::vector<std::string> parameters;  // parameter names ("b0..bk" style for poly:k)
  std::string description;  // one line
};

// Every built-in family, in display order.
const std::vector<ModelInfo>& builtin_models();

// Creates a built-in model from its name ("exp-decay", "poly:3", ...). Throws parafit::Error for an
// unknown name (suggesting the closest known one) or a bad polynomial degree.
std::unique_ptr<Model> make_builtin_model(std::string_view name);

}  // namespace parafit
