#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <fstream>

#include "cli_common.h"
#include "parse_messages.h"
#include "commands.h"
#include "output_file.h"
#include "output_paths.h"
#include "rank_timeout.h"
#include "parafit/diagnostics.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/html_report.h"
#include "parafit/fit.h"
#include "parafit/global_fit.h"
#include "global_report.h"
#include "solve/resolve_model.h"
#include "parafit/formula.h"
#include "parafit/model_file.h"
#include "parafit/report.h"
#include "parafit/table.h"
#include "test_seam.h"

namespace parafit::cli {
namespace {

// `fit --trace`: one line per LM iteration on standard error, a header before each run's first.
void print_trace_line(const LmIteration& it) {
  constexpr std::size_t kShownParameters = 6;
  const bool shown = it.parameters.size() <= kShownParameters;
  if (it.iteration == 1) {
    std::string head = fmt::format("{:>4} {:>3} {:>17} {:>9} {:>9} {:>9} {:>4}", "iter", "run", "cost", "lambda",
                                   "step", "|grad|", "took");
    if (shown)
      for (const std::string& name : it.names) head += fmt::format(" {:>14}", name);
    fmt::print(stderr, "{}\n", head);
  }
  std::string line = fmt::format("{:>4} {:>3} {:>17.10e} {:>9.2e} {:>9.2e} {:>9.2e} {:>4}", it.iteration, it.run,
                                 it.cost, it.lambda, it.step_norm, it.gradient_norm, it.accepted ? "yes" : "no");
  if (shown)
    for (const double v : it.parameters) line += fmt::format(" {:>14.7g}", v);
  fmt::print(stderr, "{}\n", line);
}

class FitCommand final : public Command {
 public:
  explicit FitCommand(CLI::App& parent) {
    app = parent.add_subcommand("fit", "Fit a model to a CSV file by Levenberg-Marquardt on all cores");
    app->add_option("--data", data_, "CSV file with a header row, or a directory of <column>.npy files")->required();
    app->add_option("--model", spec_.model,
                    "Built-in model name (see 'parafit models'), e.g. exp-decay, poly:2, or a formula, "
                    "e.g. \"b1*(1-exp(-b2*x))\" or \"log(y) ~ b1 - b2*x\" (see docs/formulas.md)")
        ->required();
    app->add_option("--x", x_, "Input column(s), comma-separated (default: x; for a formula, every column it names)");
    add_list_option(*app, "--params", params_, "Formula models: parameter names in order (default: every name that is not a column)");
    app->add_option("--y", spec_.y, "Response column")->capture_default_str();
    app->add_option("--weights", spec_.weights, "Column of observation weights (>= 0)");
    app->add_option("--loss", loss_,
                    "squared (least squares), or a robust loss with its scale in the residuals' units: "
                    "huber:D, soft-l1:D, cauchy:D, arctan:D, tukey:D (rows with |r| beyond D pull less; "
                    "standard errors then from the sandwich covariance)")
        ->capture_default_str();
    add_list_option(*app, "--start", start_, "Start values, e.g. a=1,b=2 (default: self-start from the data)");
    add_list_option(*app, "--fix", fix_, "Hold parameters at values, e.g. b=1.3");
    add_list_option(*app, "--bounds", bounds_, "Box bounds, e.g. a=0:10, b=:5 (open side left empty)");
    app->add_option("--threads", threads_, "Worker threads (default: all cores)")->check(in_range(1, 4096));
    add_rank_timeout_option(*app, rank_timeout);
    app->add_option("--json", json_, "Write the full result as JSON to this file");
    app->add_option("--report", report_,
                    "Write an HTML report to this file: summary, data with the curve and its bands, residual and "
                    "Q-Q plots, cost per iteration (one self-contained file; docs/report.md)");
    app->add_option("--save", save_, "Save the fitted model for 'parafit predict'");
    app->add_option("--residuals", residuals_,
                    "Write a CSV with, per row: the inputs, the response (and weight), the fitted value, the "
                    "residual, the standardised residual and the leverage (the hat matrix's diagonal)");
    app->add_option("--max-iterations", spec_.solver.max_iterations, "Iteration limit")->capture_default_str()
        ->check(in_range(1, 1000000));
    app->add_option("--ci", ci_,
                    "The parameters' intervals: wald (estimate -+ t SE, the default) or profile (profile "
                    "likelihood, as R's confint on an nls fit; refits the others along each parameter's profile)")
        ->capture_default_str()
        ->check(CLI::IsMember({"wald", "profile"}));
    app->add_option("--conf-level", spec_.confidence_level, "Confidence level of the intervals")->capture_default_str()
        ->check(in_range(0.5, 0.999999));
    app->add_option("--group", group_, "Global fit: the column naming each row's data set (with --shared)");
    add_list_option(*app, "--shared", shared_,
                    "Global fit: the parameters common to every group, e.g. k,c (the others are per group)");
    app->add_flag("--trace", trace_,
                  "Print one line per LM iteration on standard error: the cost, the damping lambda, the scaled "
                  "step, the gradient's largest entry, whether the step was taken, and the parameters (up to 6)");
    app->add_flag("--drop-missing", drop_missing_, "Drop rows with empty, NaN or Inf fields instead of failing");
    app->add_option("--delimiter", delimiter_, "Field delimiter (default: detect , tab ;)");
  }

  bool runs_on_every_rank() const override { return true; }

  int run() override {
    if ((!group_.empty() || !shared_.empty()) && loss_ != "squared")
      throw UsageError("--loss: global fits (--group/--shared) take the squared loss only");
    if ((!group_.empty() || !shared_.empty()) && ci_ != "wald")
      throw UsageError("--ci profile: global fits (--group/--shared) give Wald intervals only");
    if ((!group_.empty() || !shared_.empty()) && !report_.empty())
      throw UsageError("--report: global fits (--group/--shared) have no HTML report yet; fit one group alone, or "
                       "use --json");
    if ((!group_.empty() || !shared_.empty()) && trace_)
      throw UsageError("--trace: global fits (--group/--shared) have no trace yet; fit one group alone to see one");
    if (!group_.empty() || !shared_.empty()) return run_global();
    if (!x_.empty()) spec_.x = split_list({x_});
    spec_.params = split_list(params_);
    spec_.start = parse_assignments(start_, "--start");
    spec_.fix = parse_assignments(fix_, "--fix");
    spec_.bounds = parse_bounds(bounds_, "--bounds");
    spec_.loss = parse_loss(loss_, "--loss");
    spec_.profile_intervals = ci_ == "profile";
    TableOptions csv;
    csv.drop_missing = drop_missing_;
    csv.delimiter = parse_delimiter(delimiter_);
    Communicator& comm = parallel->comm();
    const bool root = comm.rank() == 0;
    check_output_paths(comm, {{"--data", data_}},
                       {{"--json", json_, "JSON file"}, {"--save", save_, "model file"},
                        {"--residuals", residuals_, "residuals file"}, {"--report", report_, "report file"}});
    Context ctx;
    ctx.threads = threads_;
    ctx.communicator = &comm;
    if (trace_ && root) spec_.solver.on_iteration = print_trace_line;
    // Under mpirun each rank reads only its shard of the file. Whatever goes wrong on one rank
    // (a missing file, a bad line in its shard) is agreed on before anyone waits for it.
    csv.shard_index = std::size_t(comm.rank());
    csv.shard_count = std::size_t(comm.size());
    csv.shard_align = ctx.chunk_rows;  // .npy shards then start on chunk boundaries: nothing moves
    const auto t0 = std::chrono::steady_clock::now();
    TableReport report;
    Dataset data;
    std::string local_error;
    Error::Kind local_kind = Error::Kind::kData;
    try {
      csv.columns = columns_to_load(csv);
      data = read_table(test_seam().data_path ? test_seam().data_path(data_, comm.rank()) : data_, csv, &report);
    } catch (const Error& e) {
      local_error = e.marked();
      local_kind = e.kind();
    }
    agree_or_throw(comm, local_error, local_kind);
    std::vector<std::int64_t> dropped = {std::int64_t(report.rows_dropped)};
    comm.allreduce(dropped);
    // Chunks must not straddle ranks, so that each chunk's sums are those of a single process.
    align_to_chunks(data, comm, ctx.chunk_rows);
    const auto t1 = std::chrono::steady_clock::now();
    if (dropped[0] > 0 && root)
      fmt::print(stderr, "parafit: dropped {} row(s) with empty, NaN or Inf fields (--drop-missing)\n",
                 dropped[0]);

    // Messages about a data row get its place in the file (file:line), worked out only on error.
    const auto placed = [&](const std::string& message) {
      return place_data_row(message, data_, csv, std::size_t(dropped[0]));
    };
    FitResult result;
    try {
      result = fit(data, spec_, ctx);
    } catch (const RankFailed&) {
      throw;
    } catch (const AgreedError& e) {
      throw AgreedError(placed(e.marked()), e.kind());
    } catch (const Error& e) {
      throw Error(placed(e.marked()), e.kind());
    }
    const auto t2 = std::chrono::steady_clock::now();
    if (result.summary.termination == Termination::kNonFiniteStart) {
      const std::string message = placed(result.summary.message);
      throw AgreedError(message == result.summary.message ? fmt::format("{}: {}", data_, message) : message);
    }
    // Per-row diagnostics: every rank its rows (a collective pass), gathered to rank 0 in row order.
    std::vector<std::vector<double>> residual_columns;
    std::vector<std::string> residual_names;
    const RowDiagnostics diag = residuals_.empty() ? RowDiagnostics{} : row_diagnostics(data, result, ctx);
    if (diag.available) {  // the same on every rank: all gather, or none
      std::vector<std::span<const double>> mine;
      for (const auto& name : result.inputs) {
        residual_names.push_back(name);
        mine.push_back(data.column(name));
      }
      // The response the fit used: its column, or a formula's left side ("response" when that is
      // not a plain name a CSV header can hold).
      const bool plain = data.find(result.response).has_value();
      residual_names.push_back(plain ? result.response : "response");
      mine.emplace_back(diag.response);
      if (!spec_.weights.empty()) {
        residual_names.push_back(spec_.weights);
        mine.push_back(data.column(spec_.weights));
      }
      for (const auto* v : {&diag.fitted, &diag.residual, &diag.standardized, &diag.leverage}) mine.emplace_back(*v);
      for (const char* name : {"fitted", "residual", "std_residual", "leverage"}) residual_names.push_back(name);
      for (const auto& column : mine) residual_columns.push_back(comm.allgatherv(column));
    }
    // The report's plots: every rank's rows (collectives), the page on rank 0.
    ReportContext rc{data_, ctx.resolved_threads(), comm.size(), ctx.chunk_rows, 0, 0, {}};
    std::string html;
    if (!report_.empty()) {
      HtmlReportOptions ho;
      ho.subtitle = fmt::format("{} fitted to {} ({} rows)", spec_.model, data_, result.statistics.observations);
      if (root) ho.text_summary = format_summary(result, rc);
      html = fit_report_html(data, result, ctx, ho);
    }
    // Every rank's peak memory.
    const std::int64_t peak = std::int64_t(peak_rss_bytes());
    std::vector<std::int64_t> peaks(std::size_t(comm.size()));
    comm.allgather<std::int64_t>(std::span(&peak, 1), std::span(peaks));
    if (!root) return result.summary.IsSolutionUsable() ? 0 : 1;

    rc = ReportContext{data_, ctx.resolved_threads(), comm.size(), ctx.chunk_rows,
                       parallel->stats().collectives, parallel->stats().collective_bytes,
                       std::vector<double>(peaks.begin(), peaks.end())};
    fmt::print("{}", format_summary(result, rc));
    std::fflush(stdout);
    if (!json_.empty()) write_text_file(json_, format_json(result, rc), "JSON file");
    if (!report_.empty()) write_text_file(report_, html, "report file");
    if (!residuals_.empty()) {
      if (residual_columns.empty())
        fmt::print(stderr, "parafit: no residuals written to '{}': J^T W J is singular at the estimates, so "
                           "there are no leverages\n", residuals_);
      else
        write_residuals(residual_names, residual_columns);
    }
    if (!save_.empty()) {
      if (result.summary.IsSolutionUsable()) save_model_file(save_, saved_model_from(result));
      else fmt::print(stderr, "parafit: model not saved to '{}': the fit did not converge\n", save_);
    }
    if (stderr_is_terminal())
      fmt::print(stderr, "parafit: read {} rows in {:.3f} s; fit in {:.3f} s on {} rank(s) x {} thread(s)\n",
                 result.statistics.observations, std::chrono::duration<double>(t1 - t0).count(),
                 std::chrono::duration<double>(t2 - t1).count(), comm.size(), ctx.resolved_threads());
    return result.summary.IsSolutionUsable() ? 0 : 1;
  }

 private:
  void write_residuals(const std::vector<std::string>& names, const std::vector<std::vector<double>>& columns) const {
    OutputFile out(residuals_);
    fmt::memory_buffer buf;
    for (std::size_t c = 0; c < names.size(); ++c) fmt::format_to(std::back_inserter(buf), "{}{}", c ? "," : "", names[c]);
    buf.push_back('\n');
    for (std::size_t i = 0; i < columns.front().size(); ++i) {
      for (std::size_t c = 0; c < columns.size(); ++c)
        fmt::format_to(std::back_inserter(buf), "{}{}", c ? "," : "", columns[c][i]);
      buf.push_back('\n');
      out.flush_if_large(buf);
    }
    out.write(buf);
    out.close();
  }

  // The columns the fit reads, so that other columns of the file are never parsed. For a formula,
  // the header decides which of its names are columns. An unknown model or a bad formula is
  // reported here, before any data is read.
  std::vector<std::string> columns_to_load(const TableOptions& csv) const {
    std::vector<std::string> columns;
    if (looks_like_formula(spec_.model)) {
      const CompiledFormula cf =
          compile_formula({spec_.model, read_table_columns(data_, csv), spec_.params, spec_.x});
      columns = cf.inputs;
      for (const auto& c : cf.response ? cf.response_columns : std::vector<std::string>{spec_.y})
        if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
    } else {
      model_flag_checked([&] { make_builtin_model(spec_.model); });
      columns = spec_.x.empty() ? std::vector<std::string>{"x"} : spec_.x;
      columns.push_back(spec_.y);
    }
    if (!spec_.weights.empty() && std::find(columns.begin(), columns.end(), spec_.weights) == columns.end())
      columns.push_back(spec_.weights);
    return columns;
  }

  // `fit --group COL --shared a,b`: a global fit (parafit/global_fit.h) on this process's threads.
  int run_global() {
    if (group_.empty() || shared_.empty())
      throw UsageError("a global fit needs both --group (the data sets) and --shared (their common parameters)");
    if (!save_.empty()) throw UsageError("--save is not available with --group/--shared yet");
    TableOptions csv;
    csv.drop_missing = drop_missing_;
    csv.delimiter = parse_delimiter(delimiter_);
    Communicator& comm = parallel->comm();
    check_output_paths(comm, {{"--data", data_}}, {{"--json", json_, "JSON file"}});
    if (!x_.empty()) spec_.x = split_list({x_});
    spec_.params = split_list(params_);
    // Under mpirun every rank reads the file (a group's rows may lie anywhere in it) and takes a
    // contiguous share of the groups; the fit is collective (parafit/global_fit.h).
    detail::ResolvedModel resolved;
    BatchData batch;
    GlobalFitSpec g;
    std::string local_error;
    Error::Kind kind = Error::Kind::kData;
    try {
      csv.columns = columns_to_load(csv);
      if (std::find(csv.columns.begin(), csv.columns.end(), group_) == csv.columns.end())
        csv.columns.push_back(group_);
      const Dataset data = read_table(data_, csv);
      model_flag_checked([&] { resolved = detail::resolve_model(data, spec_.model, spec_.x, spec_.y, spec_.params); });
      const std::span<const double> y =
          resolved.transformed_y.empty() ? data.column(spec_.y) : std::span<const double>(resolved.transformed_y);
      batch = batch_from_long(data, group_, resolved.inputs, y, spec_.weights);
      const auto r = std::size_t(comm.rank()), ranks = std::size_t(comm.size());
      const std::size_t first = batch.fits() * r / ranks, count = batch.fits() * (r + 1) / ranks - first;
      if (ranks > 1) batch = batch_slice(batch, first, count);
      const Model& model = *resolved.model;
      for (const std::string& name : split_list(shared_))
        g.shared.push_back(detail::parameter_index(model, name, "--shared"));
      for (const auto& [name, value] : parse_assignments(fix_, "--fix"))
        g.fix.emplace_back(detail::parameter_index(model, name, "--fix"), value);
      const auto boxes = parse_bounds(bounds_, "--bounds");
      if (!boxes.empty()) {
        g.bounds.assign(model.num_parameters(), ParameterBounds{});
        for (const auto& [name, box] : boxes) g.bounds[detail::parameter_index(model, name, "--bounds")] = box;
      }
      const auto start = parse_assignments(start_, "--start");
      if (!start.empty()) {
        g.start.assign(model.num_parameters(), std::nan(""));
        for (const auto& [name, value] : start) g.start[detail::parameter_index(model, name, "--start")] = value;
      }
    } catch (const Error& e) {
      local_error = e.marked();
      kind = e.kind();
    }
    agree_or_throw(comm, local_error, kind);
    const Model& model = *resolved.model;
    g.solver = spec_.solver;
    g.confidence_level = spec_.confidence_level;
    Context ctx;
    ctx.threads = threads_;
    ctx.communicator = &comm;
    const GlobalFitResult r = fit_global(model, batch, g, ctx);
    if (comm.rank() != 0) return r.converged() ? 0 : 1;
    fmt::print("{}", format_global_fit(r, resolved.response.empty() ? spec_.y : resolved.response, model, data_,
                                       group_, ctx.resolved_threads(), comm.size()));
    if (!json_.empty()) write_text_file(json_, global_fit_json(r, model, data_, group_), "JSON file");
    return r.converged() ? 0 : 1;
  }


  FitSpec spec_;
  std::string data_, x_, json_, save_, delimiter_, group_;
  std::vector<std::string> start_, fix_, bounds_, params_, shared_;
  int threads_ = 0;
  std::string residuals_;
  std::string report_;
  std::string ci_ = "wald";
  bool trace_ = false;
  std::string loss_ = "squared";
  bool drop_missing_ = false;
};

}  // namespace

std::unique_ptr<Command> add_fit_command(CLI::App& parent) { return std::make_unique<FitCommand>(parent); }

}  // namespace parafit::cli
