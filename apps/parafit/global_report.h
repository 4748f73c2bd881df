// The summary and JSON of a global fit (`parafit fit --group COL --shared ...`).
#pragma once

#include <cstddef>
#include <string>

#include "parafit/global_fit.h"

namespace parafit::cli {

// The shared parameters in R's coefficient table (estimate, standard error, t, p, Wald interval),
// then the per-group estimates and standard errors (the first 20 groups; all of them in the JSON),
// the residual standard error and the verdict.
std::string format_global_fit(const GlobalFitResult& r, const std::string& response, const Model& model,
                              const std::string& data, const std::string& group, int threads, int ranks = 1);

std::string global_fit_json(const GlobalFitResult& r, const Model& model, const std::string& data,
                            const std::string& group);

}  // namespace parafit::cli
