// python/src/py_fit.cpp — parafit.fit's engine: a fit on numpy columns (borrowed), its results as
// Python objects, predictions with intervals, the HTML report.
#include <fmt/format.h>

#include <cmath>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/html_report.h"
#include "parafit/loss.h"
#include "parafit/model_file.h"
#include "parafit/report.h"
#include "py_common.h"
#include "python_model.h"

namespace parafit::python {
namespace {

// A finished fit and the data it ran on (kept for the report and the residuals).
struct FitHandle {
  FitResult result;
  Columns columns;
  std::shared_ptr<const PythonModel> python_model;
  int threads = 0;
  int ranks = 1;
};

std::vector<std::pair<std::string, double>> assignments(const py::dict& values) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, value] : values) out.emplace_back(py::str(name), value.cast<double>());
  return out;
}

std::vector<std::pair<std::string, ParameterBounds>> bounds_from(const py::dict& values) {
  std::vector<std::pair<std::string, ParameterBounds>> out;
  for (const auto& [name, value] : values) out.emplace_back(py::str(name), bounds_pair(value, py::str(name)));
  return out;
}

std::shared_ptr<FitHandle> run_fit(const py::handle& data, const std::string& model, const py::object& function,
                                   const py::object& jac, const std::vector<std::string>& parameters,
                                   const std::vector<std::string>& x, const std::string& y,
                                   const std::string& weights, const std::string& loss, const py::dict& start,
                                   const py::dict& fix, const py::dict& bounds, std::optional<int> threads,
                                   double conf_level, const std::string& ci, std::optional<int> max_iterations,
                                   const py::object& comm) {
  auto handle = std::make_shared<FitHandle>();
  handle->columns = columns_from(data);
  FitSpec spec;
  spec.model = model;
  spec.x = x;
  spec.y = y;
  spec.weights = weights;
  spec.start = assignments(start);
  spec.fix = assignments(fix);
  spec.bounds = bounds_from(bounds);
  spec.confidence_level = conf_level;
  spec.loss = parse_loss(loss, "loss");
  if (ci != "wald" && ci != "profile")
    throw py::value_error(fmt::format("ci must be 'wald' or 'profile', not '{}'", ci));
  spec.profile_intervals = ci == "profile";
  if (max_iterations) spec.solver.max_iterations = *max_iterations;
  if (!function.is_none()) {
    if (parameters.empty()) throw py::value_error("a Python model needs its parameter names");
    const std::size_t inputs = x.empty() ? 1 : x.size();
    auto pm = std::make_shared<PythonModel>(function, jac, parameters, inputs, model);
    handle->python_model = pm;
    spec.custom_model = pm;
  } else if (!parameters.empty()) {
    spec.params = parameters;
  }
  std::unique_ptr<Communicator> mpi;
  Context ctx = context_for(threads, comm, mpi);
  // Ctrl-C between iterations (one process: a rank alone must not leave the others waiting).
  if (ctx.communicator == nullptr) spec.solver.on_iteration = [](const LmIteration&) { check_signals(); };
  {
    py::gil_scoped_release release;
    if (ctx.communicator != nullptr) align_to_chunks(handle->columns.data, *ctx.communicator, ctx.chunk_rows);
    try {
      handle->result = fit(handle->columns.data, spec, ctx);
    } catch (...) {
      // A Python exception raised by the model is the one to report.
      if (handle->python_model) {
        py::gil_scoped_acquire gil;
        handle->python_model->rethrow();
      }
      throw;
    }
  }
  if (handle->python_model) handle->python_model->rethrow();
  handle->result.spec.solver.on_iteration = nullptr;
  handle->threads = ctx.resolved_threads();
  handle->ranks = ctx.communicator != nullptr ? ctx.communicator->size() : 1;
  return handle;
}

ReportContext report_context(const FitHandle& h) {
  ReportContext rc;
  rc.threads = h.threads;
  rc.ranks = h.ranks;
  return rc;
}

py::dict to_python(const FitHandle& h) {
  const FitResult& r = h.result;
  const FitStatistics& st = r.statistics;
  py::dict out;
  py::list names;
  std::vector<double> est, se, t, p, lo, hi;
  py::list fixed, at_bound;
  for (const ParameterEstimate& e : st.parameters) {
    names.append(e.name);
    est.push_back(e.estimate);
    se.push_back(e.std_error);
    t.push_back(e.t_value);
    p.push_back(e.p_value);
    lo.push_back(e.ci_lower);
    hi.push_back(e.ci_upper);
    fixed.append(e.fixed);
    at_bound.append(e.at_bound);
  }
  if (st.parameters.empty()) {  // no statistics (a fit that could not start): the parameters alone
    for (std::size_t j = 0; j < r.summary.parameters.size(); ++j) {
      names.append(r.model ? r.model->parameter_names()[j] : std::string());
      est.push_back(r.summary.parameters[j]);
    }
  }
  out["names"] = names;
  out["estimates"] = to_array(est);
  out["std_errors"] = to_array(se);
  out["t_values"] = to_array(t);
  out["p_values"] = to_array(p);
  out["ci_lower"] = to_array(lo);
  out["ci_upper"] = to_array(hi);
  out["fixed"] = fixed;
  out["at_bound"] = at_bound;
  const std::size_t k = std::size_t(st.covariance.rows());
  std::vector<double> cov(k * k);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) cov[i * k + j] = st.covariance(Eigen::Index(i), Eigen::Index(j));
  out["covariance"] = to_matrix(cov, k, k);
  // J^T W J at the estimates over the fitted parameters (those at a bound included), for
  // curve_fit's scipy-style pcov when a bound is active.
  const std::size_t q = r.summary.free_parameters.size();
  std::vector<double> jtwj(q * q);
  for (std::size_t i = 0; i < q && std::size_t(r.summary.jtwj.rows()) == q; ++i)
    for (std::size_t j = 0; j < q; ++j) jtwj[i * q + j] = r.summary.jtwj(Eigen::Index(i), Eigen::Index(j));
  out["jtwj"] = to_matrix(jtwj, q, q);
  out["free_parameters"] = r.summary.free_parameters;
  out["converged"] = r.summary.IsSolutionUsable();
  out["termination"] = to_string(r.summary.termination);
  out["message"] = r.summary.message;
  out["iterations"] = r.summary.iterations;
  out["function_evaluations"] = r.summary.function_evaluations;
  out["cost_history"] = to_array(r.summary.rss_history);
  py::dict s;
  s["observations"] = st.observations;
  s["df"] = st.df;
  s["sigma"] = st.sigma;
  s["rss"] = st.rss;
  s["tss"] = st.tss;
  s["r_squared"] = st.r_squared;
  s["adj_r_squared"] = st.adj_r_squared;
  s["rmse"] = st.rmse;
  s["log_likelihood"] = st.log_likelihood;
  s["aic"] = st.aic;
  s["bic"] = st.bic;
  s["loss"] = st.loss;
  s["loss_cost"] = st.loss_cost;
  s["covariance_kind"] = st.covariance_kind;
  s["ci_method"] = st.ci_method;
  s["confidence_level"] = st.confidence_level;
  s["singular"] = st.singular;
  out["statistics"] = s;
  out["inputs"] = r.inputs;
  out["response"] = r.response;
  return out;
}

py::dict predict_at(const FitHandle& h, const py::handle& data, const std::string& interval, double level,
                    const py::object& weights) {
  Columns cols = columns_from(data);
  PredictOptions opts;
  if (interval == "prediction")
    opts.interval = IntervalKind::kPrediction;
  else if (interval != "confidence")
    throw py::value_error(fmt::format("interval must be 'confidence' or 'prediction', not '{}'", interval));
  opts.level = level;
  py::array_t<double, py::array::c_style | py::array::forcecast> w;
  if (!weights.is_none()) {
    w = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(weights);
    if (!w || w.ndim() != 1) throw py::value_error("weights must be a one-dimensional array");
    opts.weights = std::span<const double>(w.data(), std::size_t(w.size()));
  }
  const SavedModel saved = saved_model_from(h.result);
  Predictions pred;
  {
    py::gil_scoped_release release;
    pred = predict(saved, cols.data, Context{.threads = h.threads}, opts);
  }
  if (h.python_model) h.python_model->rethrow();
  py::dict out;
  out["fit"] = to_array(pred.fit);
  out["se_fit"] = to_array(pred.se_fit);
  if (!pred.se_pred.empty()) out["se_pred"] = to_array(pred.se_pred);
  out["lower"] = to_array(pred.lower);
  out["upper"] = to_array(pred.upper);
  out["level"] = pred.level;
  return out;
}

std::string report_html(FitHandle& h, const std::string& title, const py::object& comm) {
  std::unique_ptr<Communicator> mpi;
  Context ctx = context_for(h.threads, comm, mpi);
  HtmlReportOptions ho;
  ho.title = title;
  ho.subtitle = fmt::format("{} fitted ({} rows), from Python", h.result.spec.model, h.result.statistics.observations);
  ho.text_summary = format_summary(h.result, report_context(h));
  std::string html;
  {
    py::gil_scoped_release release;
    html = fit_report_html(h.columns.data, h.result, ctx, ho);
  }
  if (h.python_model) h.python_model->rethrow();
  return html;
}

}  // namespace

void register_fit(py::module_& m) {
  py::class_<FitHandle, std::shared_ptr<FitHandle>>(m, "FitHandle", "A finished fit (parafit.FitResult wraps it).")
      .def("to_python", &to_python, "Estimates, standard errors, intervals, covariance and statistics.")
      .def("summary", [](const FitHandle& h) { return format_summary(h.result, report_context(h)); },
           "The text summary `parafit fit` prints (R's summary(nls) layout).")
      .def("json", [](const FitHandle& h) { return format_json(h.result, report_context(h)); },
           "The JSON document of `parafit fit --json`.")
      .def("predict", &predict_at, py::arg("data"), py::arg("interval") = "confidence", py::arg("level") = 0.0,
           py::arg("weights") = py::none())
      .def("report_html", &report_html, py::arg("title") = "", py::arg("comm") = py::none())
      .def_property_readonly("copies", [](const FitHandle& h) { return h.columns.copies; },
                             "Columns that had to be converted to float64 (0: every array was used in place).")
      .def_property_readonly("copied_columns", [](const FitHandle& h) { return h.columns.copied; });
  m.def("fit", &run_fit, py::arg("data"), py::arg("model"), py::arg("function") = py::none(),
        py::arg("jac") = py::none(), py::arg("parameters") = std::vector<std::string>{},
        py::arg("x") = std::vector<std::string>{}, py::arg("y") = "y", py::arg("weights") = "",
        py::arg("loss") = "squared", py::arg("start") = py::dict(), py::arg("fix") = py::dict(),
        py::arg("bounds") = py::dict(), py::arg("threads") = py::none(), py::arg("conf_level") = 0.95,
        py::arg("ci") = "wald", py::arg("max_iterations") = py::none(), py::arg("comm") = py::none(),
        "The engine of parafit.fit (use that).");
}

}  // namespace parafit::python
