// parafit/mlp_file.h — saving a trained MLP and loading it back ("parafit-model" v1, kind "mlp").
#pragma once

#include <string>

#include "parafit/mlp.h"

namespace parafit {

std::string serialize_mlp(const MlpModel& model);
// Atomically (temporary file, then rename).
void save_mlp_file(const std::string& path, const MlpModel& model);
// Throws parafit::Error naming the file and the offending field for a missing, truncated, damaged
// or inconsistent file (e.g. a weight count that does not match the layer widths).
MlpModel parse_mlp(const std::string& text, const std::string& source);
MlpModel load_mlp_file(const std::string& path);
// Whether the model file at `path` holds an MLP (model.kind == "mlp"). False for anything else,
// unreadable files included: the curve-model loader then reports what is wrong.
bool is_mlp_model_file(const std::string& path);

}  // namespace parafit
