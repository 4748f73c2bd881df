// `parafit batch`: many independent fits of one model, one result row per fit.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fmt/ranges.h>
#include <optional>
#include <regex>

#include "batch_output.h"
#include "cli_common.h"
#include "commands.h"
#include "output_paths.h"
#include "rank_timeout.h"
#include "parse_messages.h"
#include "parafit/batch.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/html_report.h"
#include "parafit/formula.h"
#include "parafit/npy.h"
#include "parafit/table.h"
#include "solve/resolve_model.h"

namespace parafit::cli {
namespace {

// "y0..y31" -> y0, y1, ..., y31 (also "y0..31"); other names as they are.
std::vector<std::string> expand_columns(const std::vector<std::string>& names, const std::string& flag) {
  static const std::regex range(R"(^(.*?)(\d+)\.\.(.*?)(\d+)$)");
  std::vector<std::string> out;
  for (const std::string& name : split_list(names)) {
    std::smatch m;
    if (name.find("..") == std::string::npos) {
      out.push_back(name);
      continue;
    }
    if (!std::regex_match(name, m, range) || (!m[3].str().empty() && m[3].str() != m[1].str()))
      throw UsageError(fmt::format("{}: '{}' is not a column range like y0..y31", flag, name));
    const long first = std::stol(m[2].str()), last = std::stol(m[4].str());
    if (last < first || last - first > 1000000)
      throw UsageError(fmt::format("{}: the range '{}' runs backwards or is too long", flag, name));
    for (long i = first; i <= last; ++i) out.push_back(m[1].str() + std::to_string(i));
  }
  return out;
}

// "0:31" -> 0, 1, ..., 31; "0:1:0.25" -> 0, 0.25, ..., 1; "1,2,4" -> those.
std::vector<double> parse_x_values(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  if (text.find(':') == std::string::npos) {
    for (const std::string& v : split_list({text})) out.push_back(parse_number(v, flag));
    return out;
  }
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (std::size_t at; (at = text.find(':', from)) != std::string::npos; from = at + 1)
    parts.push_back(text.substr(from, at - from));
  parts.push_back(text.substr(from));
  if (parts.size() > 3) throw UsageError(fmt::format("{}: '{}' is not first:last or first:last:step", flag, text));
  const double first = parse_number(parts[0], flag), last = parse_number(parts[1], flag);
  const double step = parts.size() == 3 ? parse_number(parts[2], flag) : 1.0;
  if (!(step > 0) || last < first || (last - first) / step > 1e7)
    throw UsageError(fmt::format("{}: '{}' needs first <= last and a positive step", flag, text));
  const auto count = std::size_t(std::floor((last - first) / step + 1e-9)) + 1;
  for (std::size_t i = 0; i < count; ++i) out.push_back(first + double(i) * step);
  return out;
}

class BatchCommand final : public Command {
 public:
  explicit BatchCommand(CLI::App& parent) {
    app = parent.add_subcommand("batch", "Fit one model to many small data sets at once (one fit per group, "
                                         "per table row or per matrix row)");
    app->add_option("--data", data_,
                    "CSV file, directory of <column>.npy files, or a 2-D .npy file (fits x points)")
        ->required();
    app->add_option("--model", model_, "Built-in model name or formula (as for 'parafit fit')")->required();
    add_list_option(*app, "--params", params_, "Formula models: parameter names in order");
    app->add_option("--x", x_, "Long format: input column(s), comma-separated (default x)");
    app->add_option("--y", y_, "Long format: response column")->capture_default_str();
    app->add_option("--group", group_, "Long format: the column naming each row's fit");
    add_list_option(*app, "--y-columns", y_columns_, "Wide format: one curve per row, its points these columns, "
                                                     "e.g. y0..y31");
    app->add_option("--x-values", x_values_,
                    "Wide format and .npy matrices: the x of each point, first:last[:step] or a list (default "
                    "0:points-1)");
    add_list_option(*app, "--x-columns", x_columns_, "Wide format: a column with each point's x per row, e.g. x0..x31");
    app->add_option("--weights", weights_,
                    "Observation weights (>= 0): a column (long format), or a .npy file of the --data matrix's "
                    "shape (a 2-D .npy --data)");
    add_list_option(*app, "--weight-columns", weight_columns_,
                    "Wide format: a column with each point's weight (>= 0) per row, e.g. w0..w31");
    add_list_option(*app, "--start", start_, "Start values for every fit, e.g. a=1,b=2 (default: self-start per fit)");
    app->add_option("--start-file", start_file_,
                    "CSV with one row per fit (in fit order) and a column per parameter to start at; a missing "
                    "column or an empty field self-starts");
    add_list_option(*app, "--fix", fix_, "Hold parameters at values in every fit, e.g. b=1.3");
    add_list_option(*app, "--bounds", bounds_, "Box bounds for every fit, e.g. a=0:10, b=:5");
    app->add_option("--estimator", estimator_, "lse (least squares) or poisson-mle (counts)")
        ->capture_default_str()
        ->check(CLI::IsMember({"lse", "poisson-mle"}));
    app->add_option("--max-iterations", max_iterations_, "Iteration limit per fit")
        ->capture_default_str()
        ->check(in_range(1, 1000000));
    app->add_option("--tolerance", tolerance_,
                    "Stop a fit when a step lowers its cost by at most this fraction (default 1e-15, fit's; "
                    "1e-4 is Cpufit's and takes about half the iterations; with --precision float32 default "
                    "1e-4, at least 1e-6)")
        ->check(in_range(0, 0.1));
    app->add_option("--precision", precision_,
                    "float64 (default: fit's arithmetic and bits) or float32: the model and its sums in float, "
                    "16 fits per AVX-512 register, as Cpufit does (the LM's steps stay in double). float32 takes "
                    "the built-in families only")
        ->capture_default_str()
        ->check(CLI::IsMember({"float64", "float32"}));
    app->add_option("--threads", threads_, "Worker threads per rank (default: all cores)")->check(in_range(1, 4096));
    add_rank_timeout_option(*app, rank_timeout);
    app->add_option("--out", out_,
                    "Results, one row per fit: .csv, .jsonl or .npy (by extension; default: CSV on standard "
                    "output). Columns: id, status, points, iterations, chi2 or deviance, the estimates, se_<name>");
    app->add_option("--report", report_,
                    "Write an HTML report to this file: status counts, quartiles and histograms of every estimate "
                    "and of the cost (one self-contained file; docs/report.md)");
    app->add_flag("--drop-missing", drop_missing_,
                  "Drop rows with empty, NaN or Inf fields (default: such a value makes its fit non-finite)");
    app->add_option("--delimiter", delimiter_, "Field delimiter (default: detect , tab ;)");
  }

  bool runs_on_every_rank() const override { return true; }

  int run() override {
    Communicator& comm = parallel->comm();
    const bool root = comm.rank() == 0;
    const bool matrix = data_.size() > 4 && data_.ends_with(".npy") && !is_directory(data_);
    const int layouts = int(!group_.empty()) + int(!y_columns_.empty()) + int(matrix);
    if (layouts != 1)
      throw UsageError(layouts == 0 ? "batch: say how rows form fits: --group COL (long format), --y-columns "
                                      "(wide format) or a 2-D .npy file as --data"
                                    : "batch: give one of --group, --y-columns and a 2-D .npy --data");
    if (!group_.empty() && (!x_values_.empty() || !x_columns_.empty()))
      throw UsageError("--x-values and --x-columns are for the wide format and matrices, not with --group");
    if (!y_columns_.empty() && !weights_.empty())
      throw UsageError("--weights is for the long format (--group) and matrices; the wide format takes "
                       "--weight-columns");
    if (matrix && !weights_.empty() && !(weights_.size() > 4 && weights_.ends_with(".npy")))
      throw UsageError(fmt::format("--weights '{}': with a matrix as --data, give a .npy file of its shape", weights_));
    if (y_columns_.empty() && !weight_columns_.empty())
      throw UsageError("--weight-columns is for the wide format (--y-columns)");
    check_output_paths(comm,
                       {{"--data", data_, "data"},
                        {"--start-file", start_file_, "start file"},
                        {"--weights", matrix ? weights_ : std::string(), "weights file"}},
                       {{"--out", out_ == "-" ? "" : out_, "results file"}, {"--report", report_, "report file"}});
    const OutputFormat format = output_format(out_);

    // Each rank fits a contiguous share of the fits and reads only those (the long format, whose
    // groups may lie anywhere in the file, is read whole by every rank).
    const auto t0 = std::chrono::steady_clock::now();
    std::shared_ptr<const Model> model;
    Loaded loaded;
    BatchSpec spec;
    std::string local_error;
    Error::Kind kind = Error::Kind::kData;
    // No collective inside: a rank that fails to read must not leave the others waiting in one.
    try {
      if (!group_.empty()) load_long(comm, model, loaded);
      else load_wide_or_matrix(comm, model, loaded, matrix);
    } catch (const Error& e) {
      local_error = e.marked();
      kind = e.kind();
    }
    agree_or_throw(comm, local_error, kind);
    if (group_.empty() && !matrix) {  // the wide format's fits are the rows each rank read
      const RowLayout layout = row_layout(comm, loaded.batch.fits());
      loaded.first = layout.offset;
      loaded.total = layout.total;
    }
    try {
      spec = make_spec(*model, loaded);
    } catch (const Error& e) {
      local_error = e.marked();
      kind = e.kind();
    }
    agree_or_throw(comm, local_error, kind);
    Context ctx;
    ctx.threads = threads_;
    const auto t1 = std::chrono::steady_clock::now();
    BatchResult mine;
    try {
      mine = fit_batch(*model, loaded.batch, spec, ctx);
    } catch (const Error& e) {
      local_error = e.marked();
      kind = e.kind();
    }
    agree_or_throw(comm, local_error, kind);
    const BatchResult result = comm.size() > 1 ? gather(comm, mine) : std::move(mine);
    const auto t2 = std::chrono::steady_clock::now();
    if (!root) return 0;
    BatchData ids;
    ids.ids = loaded.all_ids;
    write_batch_results(out_, format, ids, result, spec.estimator);
    const double seconds = std::chrono::duration<double>(t2 - t1).count();
    fmt::print(stderr, "parafit batch: {}; {} {} in {:.3f} s ({:.0f} fits/s on {} rank(s) x {} thread(s)); read in {:.3f} s\n",
               result.summary_line(), to_string(spec.estimator), precision_, seconds,
               seconds > 0 ? double(result.fits()) / seconds : 0.0, comm.size(), ctx.resolved_threads(),
               std::chrono::duration<double>(t1 - t0).count());
    if (!report_.empty()) {
      HtmlReportOptions ho;
      ho.title = "parafit batch: " + model_;
      ho.subtitle = fmt::format("{} fits of {} to {}, {} {}", result.fits(), model_, data_, to_string(spec.estimator),
                                precision_);
      write_text_file(report_, batch_report_html(result, ho), "report file");
    }
    return 0;
  }

 private:
  TableOptions table_options() const {
    TableOptions csv;
    csv.drop_missing = drop_missing_;
    csv.keep_missing = true;  // an empty or NaN value fails its fit only (non-finite), not the batch
    csv.delimiter = parse_delimiter(delimiter_);
    return csv;
  }

  // This rank's fits, where they start among all, and (long format) every fit's id for rank 0.
  struct Loaded {
    BatchData batch;
    std::size_t first = 0, total = 0;
    std::vector<std::string> all_ids;
  };

  // Fits [first, first + count) of `all`: this rank's share of K.
  static std::pair<std::size_t, std::size_t> share(std::size_t all, const Communicator& comm) {
    const auto r = std::size_t(comm.rank()), k = std::size_t(comm.size());
    const std::size_t first = all * r / k;
    return {first, all * (r + 1) / k - first};
  }

  void load_long(Communicator& comm, std::shared_ptr<const Model>& model, Loaded& loaded) {
    TableOptions csv = table_options();
    const std::vector<std::string> x = x_.empty() ? std::vector<std::string>{} : split_list({x_});
    // Every column of the file the model or the layout names (a formula decides which of its names
    // are columns by the header).
    std::vector<std::string> columns;
    model_flag_checked([&] {
      if (looks_like_formula(model_)) {
        const CompiledFormula cf = compile_formula({model_, read_table_columns(data_, csv), split_list(params_), x});
        columns = cf.inputs;
        for (const auto& c : cf.response ? cf.response_columns : std::vector<std::string>{y_}) columns.push_back(c);
      } else {
        make_builtin_model(model_);
        columns = x.empty() ? std::vector<std::string>{"x"} : x;
        columns.push_back(y_);
      }
    });
    columns.push_back(group_);
    if (!weights_.empty()) columns.push_back(weights_);
    std::sort(columns.begin(), columns.end());
    columns.erase(std::unique(columns.begin(), columns.end()), columns.end());
    csv.columns = columns;
    const Dataset data = read_table(data_, csv);
    detail::ResolvedModel resolved;
    model_flag_checked([&] { resolved = detail::resolve_model(data, model_, x, y_, split_list(params_)); });
    model = resolved.model;
    const std::span<const double> y =
        resolved.transformed_y.empty() ? data.column(y_) : std::span<const double>(resolved.transformed_y);
    BatchData all = batch_from_long(data, group_, resolved.inputs, y, weights_);
    loaded.total = all.fits();
    const auto [first, count] = share(loaded.total, comm);
    loaded.first = first;
    if (comm.rank() == 0) loaded.all_ids = all.ids;
    loaded.batch = comm.size() > 1 ? batch_slice(all, first, count) : std::move(all);
  }


  void load_wide_or_matrix(Communicator& comm, std::shared_ptr<const Model>& model, Loaded& loaded, bool matrix) {
    // The model's one input is the points' x: a built-in family, or a formula in one variable.
    const std::string x_name = x_.empty() ? "x" : x_;
    model_flag_checked([&] {
      if (looks_like_formula(model_)) {
        CompiledFormula cf = compile_formula({model_, {x_name}, split_list(params_), {x_name}});
        if (cf.response)
          throw usage_error(fmt::format("a formula with a left side ('{} ~ ...') needs the long format (--group)",
                                        cf.response_text));
        model = std::move(cf.model);
      } else {
        model = make_builtin_model(model_);
      }
    });
    if (model->num_inputs() != 1)
      throw UsageError(fmt::format("--model: the wide format gives one x per point; '{}' reads {} inputs",
                                   model_, model->num_inputs()));
    if (matrix) {
      const NpyHeader header = read_npy_header(data_);
      const std::size_t total = header.shape.empty() ? 0 : header.shape[0];
      const auto [first, count] = share(total, comm);
      const NpyMatrix m = read_npy_matrix(data_, first, count);
      std::vector<double> xs = x_values_.empty() ? default_x(m.cols) : parse_x_values(x_values_, "--x-values");
      loaded.batch = batch_from_matrix(m.values, m.rows, m.cols, xs);
      if (!weights_.empty()) {
        NpyMatrix w = read_npy_matrix(weights_, first, count);
        if (w.total_rows != m.total_rows || w.cols != m.cols)
          throw UsageError(fmt::format("--weights '{}' is {} x {}; the data '{}' are {} x {}", weights_, w.total_rows,
                                       w.cols, data_, m.total_rows, m.cols));
        loaded.batch.weights = std::move(w.values);
      }
      loaded.first = m.first_row;
      loaded.total = m.total_rows;
      return;
    }
    const std::vector<std::string> ys = expand_columns(y_columns_, "--y-columns");
    const std::vector<std::string> xs = expand_columns(x_columns_, "--x-columns");
    if (!x_values_.empty() && !xs.empty()) throw UsageError("give --x-values or --x-columns, not both");
    if (!xs.empty() && xs.size() != ys.size())
      throw UsageError(fmt::format("--x-columns names {} columns for the {} of --y-columns", xs.size(), ys.size()));
    const std::vector<std::string> ws = expand_columns(weight_columns_, "--weight-columns");
    if (!ws.empty() && ws.size() != ys.size())
      throw UsageError(
          fmt::format("--weight-columns names {} columns for the {} of --y-columns", ws.size(), ys.size()));
    const std::vector<double> xv = !xs.empty()          ? std::vector<double>{}
                                   : x_values_.empty() ? default_x(ys.size())
                                                       : parse_x_values(x_values_, "--x-values");
    if (xs.empty() && xv.size() != ys.size())
      throw UsageError(fmt::format("--x-values gives {} values for the {} of --y-columns", xv.size(), ys.size()));
    TableOptions csv = table_options();
    csv.columns = ys;
    csv.columns.insert(csv.columns.end(), xs.begin(), xs.end());
    csv.columns.insert(csv.columns.end(), ws.begin(), ws.end());
    csv.shard_index = std::size_t(comm.rank());  // each rank reads only its rows: its fits
    csv.shard_count = std::size_t(comm.size());
    const Dataset data = read_table(data_, csv);
    loaded.batch = batch_from_wide(data, ys, xv, xs, ws);
  }

  // Every rank's results in fit order, on every rank.
  static BatchResult gather(Communicator& comm, const BatchResult& mine) {
    BatchResult all;
    all.parameters = mine.parameters;
    all.parameter_names = mine.parameter_names;
    all.estimates = comm.allgatherv(mine.estimates);
    all.std_errors = comm.allgatherv(mine.std_errors);
    all.cost = comm.allgatherv(mine.cost);
    std::vector<double> ints;
    for (std::size_t k = 0; k < mine.fits(); ++k)
      for (const double v : {double(mine.iterations[k]), double(mine.points[k]), double(mine.status[k])}) ints.push_back(v);
    const std::vector<double> every = comm.allgatherv(ints);
    for (std::size_t k = 0; k < every.size() / 3; ++k) {
      all.iterations.push_back(std::uint32_t(every[3 * k]));
      all.points.push_back(std::uint32_t(every[3 * k + 1]));
      all.status.push_back(BatchStatus(int(every[3 * k + 2])));
    }
    return all;
  }

  static std::vector<double> default_x(std::size_t points) {
    std::vector<double> x(points);
    for (std::size_t i = 0; i < points; ++i) x[i] = double(i);
    return x;
  }

  BatchSpec make_spec(const Model& model, const Loaded& loaded) const {
    const std::size_t p = model.num_parameters(), fits = loaded.batch.fits();
    BatchSpec spec;
    spec.estimator = estimator_ == "poisson-mle" ? Estimator::kPoissonMle : Estimator::kLeastSquares;
    spec.solver.max_iterations = max_iterations_;
    spec.float32 = precision_ == "float32";
    if (spec.float32) spec.solver.function_tolerance = kFloat32DefaultTolerance;
    if (tolerance_) spec.solver.function_tolerance = *tolerance_;
    if (spec.float32 && spec.solver.function_tolerance < kFloat32MinTolerance)
      throw UsageError(fmt::format("--tolerance {:g} with --precision float32: float's rounding of the cost is about "
                                   "1e-7 of it, so the tolerance must be at least {:g} (or use float64)",
                                   spec.solver.function_tolerance, kFloat32MinTolerance));
    const auto index = [&](const std::string& name, const char* flag) {
      return detail::parameter_index(model, name, flag);
    };
    const auto start = parse_assignments(start_, "--start");
    if (!start.empty() && !start_file_.empty()) throw UsageError("give --start or --start-file, not both");
    if (!start.empty()) {
      spec.start.assign(p, std::nan(""));
      for (const auto& [name, value] : start) spec.start[index(name, "--start")] = value;
    }
    if (!start_file_.empty()) {
      const Dataset starts = read_table(start_file_, {});
      if (starts.rows() != loaded.total)
        throw Error(fmt::format("--start-file '{}' has {} rows for {} fits (one row per fit, in fit order)",
                                start_file_, starts.rows(), loaded.total),
                    Error::Kind::kUsage);
      bool any = false;
      spec.start.assign(fits * p, std::nan(""));
      for (std::size_t j = 0; j < p; ++j) {
        const auto column = starts.find(model.parameter_names()[j]);
        if (!column) continue;
        any = true;
        const std::span<const double> v = starts.column(model.parameter_names()[j]);
        for (std::size_t k = 0; k < fits; ++k) spec.start[k * p + j] = v[loaded.first + k];
      }
      if (!any)
        throw Error(fmt::format("--start-file '{}' has no column named after a parameter of '{}' ({})", start_file_,
                                model.name(), fmt::join(model.parameter_names(), ", ")),
                    Error::Kind::kUsage);
    }
    for (const auto& [name, value] : parse_assignments(fix_, "--fix")) spec.fix.emplace_back(index(name, "--fix"), value);
    const auto bounds = parse_bounds(bounds_, "--bounds");
    if (!bounds.empty()) {
      spec.bounds.assign(p, ParameterBounds{});
      for (const auto& [name, box] : bounds) spec.bounds[index(name, "--bounds")] = box;
    }
    return spec;
  }

  static bool is_directory(const std::string& path);

  std::string report_;
  std::string data_, model_, x_, y_ = "y", group_, x_values_, weights_, start_file_, estimator_ = "lse", out_,
                                  delimiter_;
  std::vector<std::string> params_, y_columns_, x_columns_, weight_columns_, start_, fix_, bounds_;
  int max_iterations_ = 10000;
  std::optional<double> tolerance_;
  int threads_ = 0;
  bool drop_missing_ = false;
  std::string precision_ = "float64";
};

bool BatchCommand::is_directory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

}  // namespace

std::unique_ptr<Command> add_batch_command(CLI::App& parent) { return std::make_unique<BatchCommand>(parent); }

}  // namespace parafit::cli
