// libFuzzer target: the model-file loaders (parse_model for curve and formula models, parse_mlp
// for MLPs) on arbitrary text, then a prediction with whatever loads.
//
// The contract: a bad model file is a parafit::Error naming the file and the field, never a crash,
// overflow, leak or undefined behaviour; a model that loads is consistent enough to predict with.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "parafit/dataset.h"
#include "parafit/error.h"
#include "parafit/mlp.h"
#include "parafit/mlp_file.h"
#include "parafit/model_file.h"

namespace {

// Four rows for each named column: enough to predict, little enough to stay fast.
parafit::Dataset rows_for(const std::vector<std::string>& names) {
  parafit::Dataset data;
  for (std::size_t k = 0; k < names.size(); ++k)
    data.add_column(names[k], {0.5, 1.0 + double(k), -2.0, 3.25});
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const parafit::SavedModel saved = parafit::parse_model(text, "fuzz.json");
    if (saved.inputs.size() <= 16) (void)parafit::predict(saved, rows_for(saved.inputs), {.threads = 1});
  } catch (const parafit::Error&) {
  }
  try {
    const parafit::MlpModel mlp = parafit::parse_mlp(text, "fuzz.json");
    if (mlp.inputs.size() <= 16) (void)mlp.predict(rows_for(mlp.inputs), {.threads = 1});
  } catch (const parafit::Error&) {
  }
  return 0;
}
