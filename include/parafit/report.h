// parafit/report.h — presenting a fit: the R-style text summary and the JSON document.
#pragma once

#include <string>
#include <vector>

#include "parafit/fit.h"
#include "parafit/train.h"

namespace parafit {

struct ReportContext {
  std::string data_source;   // shown in the summary (a file name); may be empty
  int threads = 1;           // recorded in the JSON "run" section (threads per rank)
  int ranks = 1;             // processes of an mpirun job
  std::size_t chunk_rows = 0;
  std::size_t collectives = 0;          // collectives this rank took part in (0 alone)
  std::size_t collective_bytes = 0;     // bytes this rank contributed to them
  std::vector<double> peak_rss_bytes;   // peak resident memory of each rank, if known
};

// The summary printed by `parafit fit`, laid out like R's summary(nls): parameters with standard
// errors, t and p values, confidence intervals, residual standard error, R^2, information
// criteria, the correlation of the estimates and the convergence report.
std::string format_summary(const FitResult& fit, const ReportContext& ctx = {});

// The JSON document written by `parafit fit --json` (schema "parafit-fit/1", docs/json-schema.md).
// Everything but the "run" section is identical for any number of threads.
std::string format_json(const FitResult& fit, const ReportContext& ctx = {});

// The summary printed by `parafit train`: the model, the optimizer, the epoch table (training and
// validation MSE, learning rate, time), why training stopped, throughput and, for built-in and
// formula models, the trained parameters.
std::string format_train_summary(const TrainResult& result, const ReportContext& ctx = {});

// The JSON document written by `parafit train --json` (schema "parafit-train/1",
// docs/json-schema.md). Everything but "run" and the timings is identical for any number of
// threads and ranks.
std::string format_train_json(const TrainResult& result, const ReportContext& ctx = {});

}  // namespace parafit
