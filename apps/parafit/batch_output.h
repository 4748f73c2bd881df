// `parafit batch`'s results: one row per fit as CSV, JSON lines or a 2-D .npy matrix.
#pragma once

#include <string>

#include "parafit/batch.h"

namespace parafit::cli {

enum class OutputFormat { kCsv, kJsonLines, kNpy };

// By the extension of --out: .csv (or "" / "-": CSV on standard output), .jsonl, .npy; UsageError
// otherwise.
OutputFormat output_format(const std::string& path);

// Columns: id, status, points, iterations, chi2 (least squares) or deviance (Poisson), the
// estimates by parameter name, se_<name>. In a .npy matrix (fits x (5 + 2p), float64) the id is the
// fit's number from 0 and the status its code (0 converged, 1 not converged, 2 singular,
// 3 non-finite, 4 too few points, 5 no start); a <out>.columns.txt file beside it names the columns.
void write_batch_results(const std::string& path, OutputFormat format, const BatchData& data,
                         const BatchResult& result, Estimator estimator);

}  // namespace parafit::cli
