#include "solve/resolve_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "parafit/error.h"
#include "parafit/formula.h"

namespace parafit::detail {

std::size_t parameter_index(const Model& model, const std::string& name, const char* what) {
  const auto& names = model.parameter_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw usage_error(fmt::format("{}: model '{}' has no parameter '{}'; its parameters are: {}", what,
                                  model.name(), printable(name), fmt::join(names, ", ")));
  return std::size_t(it - names.begin());
}

ResolvedModel resolve_model(const Dataset& data, const std::string& model, const std::vector<std::string>& x,
                            const std::string& y, const std::vector<std::string>& params,
                            std::size_t first_row, std::shared_ptr<const Model> custom) {
  struct {
    const std::string& model;
    const std::vector<std::string>& x;
    const std::string& y;
    const std::vector<std::string>& params;
  } spec{model, x, y, params};
  ResolvedModel r;
  if (custom != nullptr) {
    if (!spec.params.empty())
      throw usage_error(fmt::format("parameter names ({}) are for formula models; model '{}' names its own",
                                    option_name("params"), custom->name()));
    r.model = std::move(custom);
    r.inputs = spec.x.empty() ? std::vector<std::string>{"x"} : spec.x;
    if (r.inputs.size() != r.model->num_inputs())
      throw usage_error(fmt::format("model '{}' takes {} input column(s), but {} given with {}", r.model->name(),
                                    r.model->num_inputs(), r.inputs.size(), option_name("x")));
    r.response = spec.y;
    r.response_columns = {spec.y};
    return r;
  }
  if (!looks_like_formula(spec.model)) {
    if (!spec.params.empty())
      throw usage_error(fmt::format("parameter names ({}) are for formula models; built-in model '{}' "
                                    "names its own parameters",
                                    option_name("params"), spec.model));
    r.model = make_builtin_model(spec.model);
    r.inputs = spec.x.empty() ? std::vector<std::string>{"x"} : spec.x;
    if (r.inputs.size() != r.model->num_inputs())
      throw usage_error(fmt::format("model '{}' takes {} input column(s), but {} given with {}",
                              r.model->name(), r.model->num_inputs(), r.inputs.size(), option_name("x")));
    r.response = spec.y;
    r.response_columns = {spec.y};
    return r;
  }
  CompiledFormula cf = compile_formula({spec.model, data.names(), spec.params, spec.x});
  r.model = cf.model;
  r.inputs = cf.inputs;
  if (!cf.response) {
    r.response = spec.y;
    r.response_columns = {spec.y};
    return r;
  }
  r.response = cf.response_text;
  r.response_columns = cf.response_columns;
  std::vector<const double*> cols;
  for (const auto& name : cf.response_columns) cols.push_back(data.column(name).data());
  r.transformed_y.resize(data.rows());
  cf.response(RowBlock{data.rows(), cols.data()}, r.transformed_y.data());
  for (std::size_t i = 0; i < data.rows(); ++i) {
    if (std::isfinite(r.transformed_y[i])) continue;
    // The data, not the model's parameters, are at fault: show the values the response is made of.
    std::string values;
    for (std::size_t c = 0; c < cols.size(); ++c)
      values += fmt::format("{}{} = {}", c ? ", " : "", cf.response_columns[c], cols[c][i]);
    const double v = r.transformed_y[i];
    throw Error(fmt::format("the response '{}' is {} at data row {}, where {}: it is undefined for "
                            "that data value; remove such rows from the data ({} drops only rows "
                            "with empty, NaN or Inf fields, so it does not apply here) or fit "
                            "another response",
                            cf.response_text, std::isnan(v) ? "NaN" : fmt::format("{}", v),
                            first_row + i + 1, values.empty() ? "it has no data columns" : values,
                            option_name("drop_missing")));
  }
  return r;
}


}  // namespace parafit::detail
