#include "batch_output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "output_file.h"
#include "parafit/npy.h"

namespace parafit::cli {
namespace {

std::vector<std::string> column_names(const BatchResult& r, Estimator estimator) {
  std::vector<std::string> names = {"id", "status", "points", "iterations",
                                    estimator == Estimator::kLeastSquares ? "chi2" : "deviance"};
  for (const auto& p : r.parameter_names) names.push_back(p);
  for (const auto& p : r.parameter_names) names.push_back("se_" + p);
  return names;
}

std::string id_of(const BatchData& data, std::size_t k) { return data.ids.empty() ? std::to_string(k) : data.ids[k]; }

// JSON has no NaN: a missing number is null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

OutputFormat output_format(const std::string& path) {
  if (path.empty() || path == "-" || path.ends_with(".csv")) return OutputFormat::kCsv;
  if (path.ends_with(".jsonl")) return OutputFormat::kJsonLines;
  if (path.ends_with(".npy")) return OutputFormat::kNpy;
  throw UsageError(fmt::format("--out '{}': name a .csv, .jsonl or .npy file (or - for CSV on standard output)", path));
}

void write_batch_results(const std::string& path, OutputFormat format, const BatchData& data,
                         const BatchResult& r, Estimator estimator) {
  const std::size_t p = r.parameters;
  const std::vector<std::string> names = column_names(r, estimator);
  if (format == OutputFormat::kNpy) {
    const std::size_t cols = names.size();
    std::vector<double> m(r.fits() * cols);
    for (std::size_t k = 0; k < r.fits(); ++k) {
      double* row = m.data() + k * cols;
      row[0] = double(k);
      row[1] = double(r.status[k]);
      row[2] = double(r.points[k]);
      row[3] = double(r.iterations[k]);
      row[4] = r.cost[k];
      for (std::size_t j = 0; j < p; ++j) {
        row[5 + j] = r.estimates[k * p + j];
        row[5 + p + j] = r.std_errors[k * p + j];
      }
    }
    write_npy_matrix(path, m, r.fits(), cols);
    write_text_file(path + ".columns.txt", fmt::format("{}\n", fmt::join(names, "\n")), "column list");
    return;
  }
  OutputFile out(path.empty() ? "-" : path);
  fmt::memory_buffer buf;
  if (format == OutputFormat::kCsv) fmt::format_to(std::back_inserter(buf), "{}\n", fmt::join(names, ","));
  for (std::size_t k = 0; k < r.fits(); ++k) {
    if (format == OutputFormat::kCsv) {
      fmt::format_to(std::back_inserter(buf), "{},{},{},{},{}", id_of(data, k), to_string(r.status[k]), r.points[k],
                     r.iterations[k], r.cost[k]);
      for (std::size_t j = 0; j < p; ++j) fmt::format_to(std::back_inserter(buf), ",{}", r.estimates[k * p + j]);
      for (std::size_t j = 0; j < p; ++j) fmt::format_to(std::back_inserter(buf), ",{}", r.std_errors[k * p + j]);
      buf.push_back('\n');
    } else {
      nlohmann::json line;
      line["id"] = id_of(data, k);
      line["status"] = std::string(to_string(r.status[k]));
      line["points"] = r.points[k];
      line["iterations"] = r.iterations[k];
      line[names[4]] = number(r.cost[k]);
      nlohmann::json est = nlohmann::json::object(), se = nlohmann::json::object();
      for (std::size_t j = 0; j < p; ++j) {
        est[r.parameter_names[j]] = number(r.estimates[k * p + j]);
        se[r.parameter_names[j]] = number(r.std_errors[k * p + j]);
      }
      line["estimates"] = est;
      line["std_errors"] = se;
      fmt::format_to(std::back_inserter(buf), "{}\n", line.dump());
    }
    out.flush_if_large(buf);
  }
  out.write(buf);
  out.close();
}

}  // namespace parafit::cli
