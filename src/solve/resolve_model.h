// solve/resolve_model.h — from a model name or formula and the data's columns to a Model, its
// input columns and its response (shared by fit and train).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "parafit/dataset.h"
#include "parafit/model.h"

namespace parafit::detail {

// Index of parameter `name` of `model`; throws parafit::Error "<what>: model ... has no parameter
// ...; its parameters are: ..." otherwise.
std::size_t parameter_index(const Model& model, const std::string& name, const char* what);

struct ResolvedModel {
  std::shared_ptr<const Model> model;
  std::vector<std::string> inputs;
  std::string response;
  std::vector<std::string> response_columns;
  std::vector<double> transformed_y;  // the left-hand side of a formula, evaluated per row
};

// `model` is a built-in name or a formula; `x` the input columns (empty: the default), `y` the
// response column, `params` a formula's parameter names. Throws parafit::Error for bad input; a
// response that is not finite at a row is named as "data row N", counting from `first_row` (the
// global index of data's first row when data is one rank's shard).
// A `custom` model (FitSpec::custom_model) is taken as it is, with `x` its input columns ("x" by
// default).
ResolvedModel resolve_model(const Dataset& data, const std::string& model, const std::vector<std::string>& x,
                            const std::string& y, const std::vector<std::string>& params,
                            std::size_t first_row = 0, std::shared_ptr<const Model> custom = nullptr);

}  // namespace parafit::detail
