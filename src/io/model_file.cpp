#include "parafit/model_file.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/atomic_file.h"
#include "parafit/error.h"
#include "parafit/formula.h"
#include "solve/normal_equations.h"
#include "stats/student_t.h"

namespace parafit {
namespace {

// ordered_json keeps the fields in the documented order (schema first), not sorted.
using json = nlohmann::ordered_json;
constexpr const char* kFormat = "parafit-model";
constexpr int kVersion = 1;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// Reads a model file field by field, so that every problem is reported with the path to the
// offending field ("parameters[1].estimate") instead of a generic type error.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(fmt::format("{}: invalid model file: {}{}{}", source_, where, where.empty() ? "" : ": ", what));
  }
  const json& field(const json& obj, const std::string& key, const std::string& where) const {
    if (!obj.is_object()) fail(where, "expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(where.empty() ? key : where + "." + key, "missing");
    return *it;
  }
  std::string string(const json& v, const std::string& where) const {
    if (!v.is_string()) fail(where, "expected a string");
    return v.get<std::string>();
  }
  double finite(const json& v, const std::string& where) const {
    if (!v.is_number()) fail(where, "expected a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(where, "expected a finite number");
    return d;
  }
  double number_or_null(const json& v, const std::string& where) const {
    if (v.is_null()) return std::nan("");
    return finite(v, where);
  }
  bool boolean(const json& v, const std::string& where) const {
    if (!v.is_boolean()) fail(where, "expected true or false");
    return v.get<bool>();
  }
  const json& array(const json& v, const std::string& where, std::size_t size) const {
    if (!v.is_array()) fail(where, "expected an array");
    if (v.size() != size) fail(where, fmt::format("expected {} entries, found {}", size, v.size()));
    return v;
  }

 private:
  std::string source_;
};

}  // namespace

SavedModel saved_model_from(const FitResult& fit) {
  SavedModel s;
  s.model = fit.model;
  s.inputs = fit.inputs;
  s.response = fit.response;
  s.response_columns = fit.response_columns;
  s.estimates = fit.summary.parameters;
  for (const auto& pe : fit.statistics.parameters) s.fixed.push_back(pe.fixed);
  s.covariance = fit.statistics.covariance;
  s.sigma = fit.statistics.sigma;
  s.df = fit.statistics.df;
  s.confidence_level = fit.statistics.confidence_level;
  return s;
}

SavedModel saved_model_from(const TrainResult& t) {
  if (!t.curve) throw Error("saved_model_from: an MLP is saved with save_mlp_file");
  SavedModel s;
  s.model = t.curve;
  s.inputs = t.inputs;
  s.response = t.response;
  s.response_columns = t.response_columns;
  s.estimates = t.parameters;
  s.fixed.assign(t.parameters.size(), false);
  const auto p = Eigen::Index(t.parameters.size());
  s.covariance = Eigen::MatrixXd::Constant(p, p, std::nan(""));
  const double n = double(t.summary.train_rows);
  s.df = std::max(0.0, n - double(p));
  s.sigma = s.df > 0 ? std::sqrt(t.summary.final_train_mse * n / s.df) : std::nan("");
  return s;
}

std::string serialize_model(const SavedModel& s) {
  json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["model"] = {{"name", s.model->name()}, {"formula", s.model->formula()}};
  doc["inputs"] = s.inputs;
  doc["response"] = s.response;
  doc["response_columns"] = s.response_columns;
  json params = json::array();
  for (std::size_t j = 0; j < s.estimates.size(); ++j)
    params.push_back({{"name", s.model->parameter_names()[j]},
                      {"estimate", s.estimates[j]},
                      {"fixed", bool(s.fixed[j])}});
  doc["parameters"] = params;
  json cov = json::array();
  for (Eigen::Index i = 0; i < s.covariance.rows(); ++i) {
    json row = json::array();
    for (Eigen::Index j = 0; j < s.covariance.cols(); ++j) row.push_back(number(s.covariance(i, j)));
    cov.push_back(row);
  }
  doc["covariance"] = cov;
  doc["sigma"] = number(s.sigma);
  doc["df"] = s.df;
  doc["confidence_level"] = s.confidence_level;
  return doc.dump(2) + "\n";
}

void save_model_file(const std::string& path, const SavedModel& saved) {
  // Atomically, so an interrupted save never leaves half a model.
  detail::write_file_atomically(path, serialize_model(saved), "model file");
}

SavedModel load_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open model file '{}'", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_model(buffer.str(), path);
}

SavedModel parse_model(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: invalid model file: not valid JSON (truncated or damaged?) at byte {}: {}",
                            source, e.byte, printable(e.what())));
  } catch (const json::exception& e) {
    // Valid JSON syntax nlohmann cannot hold, such as a number beyond double's range (1e999).
    throw Error(fmt::format("{}: invalid model file: not valid JSON (damaged?): {}", source, printable(e.what())));
  }
  const Reader r(source);
  if (r.string(r.field(doc, "format", ""), "format") != kFormat)
    r.fail("format", fmt::format("expected \"{}\"", kFormat));
  const json& version = r.field(doc, "version", "");
  if (!version.is_number_integer() || version.get<int>() != kVersion)
    r.fail("version", fmt::format("this parafit reads version {}", kVersion));

  SavedModel s;
  const json& m = r.field(doc, "model", "");
  const std::string name = r.string(r.field(m, "name", "model"), "model.name");
  const json& inputs = r.field(doc, "inputs", "");
  if (!inputs.is_array()) r.fail("inputs", "expected an array");
  for (std::size_t k = 0; k < inputs.size(); ++k)
    s.inputs.push_back(r.string(inputs[k], fmt::format("inputs[{}]", k)));
  s.response = r.string(r.field(doc, "response", ""), "response");
  const json& response_columns = r.field(doc, "response_columns", "");
  if (!response_columns.is_array()) r.fail("response_columns", "expected an array");
  for (std::size_t k = 0; k < response_columns.size(); ++k)
    s.response_columns.push_back(r.string(response_columns[k], fmt::format("response_columns[{}]", k)));
  const json& params = r.field(doc, "parameters", "");
  if (!params.is_array()) r.fail("parameters", "expected an array");
  try {
    if (looks_like_formula(name)) {
      // A formula model is compiled again from its text, with the saved columns and parameter
      // names, so it reads the same inputs in the same order as when it was fitted.
      std::vector<std::string> names;
      for (std::size_t j = 0; j < params.size(); ++j) {
        const std::string where = fmt::format("parameters[{}]", j);
        names.push_back(r.string(r.field(params[j], "name", where), where + ".name"));
      }
      std::vector<std::string> columns = s.inputs;
      columns.insert(columns.end(), s.response_columns.begin(), s.response_columns.end());
      s.model = compile_formula({name, columns, names, s.inputs}).model;
    } else {
      s.model = make_builtin_model(name);
    }
  } catch (const Error& e) {
    r.fail("model.name", e.what());
  }
  // The model is built from model.name; model.formula is written for people to read. A file whose
  // formula was edited would otherwise be used with its old formula, silently.
  if (const auto formula = m.find("formula"); formula != m.end()) {
    const std::string text = r.string(*formula, "model.formula");
    if (text != s.model->formula())
      r.fail("model.formula", fmt::format("'{}' is not the formula of model.name '{}' ('{}'); parafit builds the "
                                          "model from model.name: make the two agree",
                                          text, name, s.model->formula()));
  }
  const std::size_t p = s.model->num_parameters();
  r.array(inputs, "inputs", s.model->num_inputs());
  r.array(params, "parameters", p);
  for (std::size_t j = 0; j < p; ++j) {
    const std::string where = fmt::format("parameters[{}]", j);
    const std::string pname = r.string(r.field(params[j], "name", where), where + ".name");
    if (pname != s.model->parameter_names()[j])
      r.fail(where + ".name", fmt::format("'{}' where model '{}' has '{}'", printable(pname, 60), printable(name, 60),
                                          s.model->parameter_names()[j]));
    s.estimates.push_back(r.finite(r.field(params[j], "estimate", where), where + ".estimate"));
    s.fixed.push_back(r.boolean(r.field(params[j], "fixed", where), where + ".fixed"));
  }

  const json& cov = r.array(r.field(doc, "covariance", ""), "covariance", p);
  s.covariance.resize(Eigen::Index(p), Eigen::Index(p));
  for (std::size_t i = 0; i < p; ++i) {
    const json& row = r.array(cov[i], fmt::format("covariance[{}]", i), p);
    for (std::size_t j = 0; j < p; ++j)
      s.covariance(Eigen::Index(i), Eigen::Index(j)) =
          r.number_or_null(row[j], fmt::format("covariance[{}][{}]", i, j));
  }
  for (std::size_t i = 0; i < p; ++i) {
    const double v = s.covariance(Eigen::Index(i), Eigen::Index(i));
    if (v < 0) r.fail(fmt::format("covariance[{}][{}]", i, i), "a variance must not be negative");
    for (std::size_t j = 0; j < i; ++j) {
      const double a = s.covariance(Eigen::Index(i), Eigen::Index(j));
      const double b = s.covariance(Eigen::Index(j), Eigen::Index(i));
      if (!(a == b || (std::isnan(a) && std::isnan(b))))
        r.fail(fmt::format("covariance[{}][{}]", i, j), "the matrix is not symmetric");
    }
  }
  s.sigma = r.number_or_null(r.field(doc, "sigma", ""), "sigma");
  s.df = r.finite(r.field(doc, "df", ""), "df");
  if (!(s.df > 0)) r.fail("df", "degrees of freedom must be positive");
  s.confidence_level = r.finite(r.field(doc, "confidence_level", ""), "confidence_level");
  if (!(s.confidence_level > 0 && s.confidence_level < 1)) r.fail("confidence_level", "must lie in (0, 1)");
  return s;
}

namespace {

std::string shown(double v) { return std::isnan(v) ? "NaN" : fmt::format("{}", v); }

// Which quantity of row i is not finite: the fitted value, a derivative, the standard error or an
// end of the interval (recomputed for that one row, in the order they are computed).
std::string nonfinite_prediction(const SavedModel& saved, const std::vector<std::span<const double>>& inputs,
                                 std::size_t i, bool no_errors, const Predictions& out) {
  const Model& model = *saved.model;
  const std::size_t p = model.num_parameters();
  std::vector<const double*> cols;
  for (const auto& column : inputs) cols.push_back(column.data() + i);
  double f = 0;
  std::vector<double> J(p);
  model.evaluate(saved.estimates.data(), RowBlock{1, cols.data()}, &f, J.data(), 1);
  if (!std::isfinite(out.fit[i]))
    return fmt::format("the fitted value is {} (the model is undefined or overflows there with the "
                       "saved estimates)",
                       shown(out.fit[i]));
  if (!no_errors)
    for (std::size_t j = 0; j < p; ++j)
      if (!std::isfinite(J[j]))
        return fmt::format("the derivative of the model with respect to '{}' is {}, so the "
                           "standard error of the fit is undefined",
                           model.parameter_names()[j], shown(J[j]));
  if (!std::isfinite(out.se_fit[i]))
    return fmt::format("the standard error of the fit (se_fit) is {}: the fitted value's variance "
                       "overflows with the saved estimates and covariance",
                       shown(out.se_fit[i]));
  return fmt::format("the interval [{}, {}] around the fitted value {} overflows",
                     shown(out.lower[i]), shown(out.upper[i]), out.fit[i]);
}

}  // namespace

Predictions predict(const SavedModel& saved, const Dataset& data, const Context& context,
                    const PredictOptions& options) {
  const Model& model = *saved.model;
  const std::size_t p = model.num_parameters();
  std::vector<std::span<const double>> inputs;
  for (const auto& name : saved.inputs) inputs.push_back(data.column(name));
  const std::size_t n = data.rows();
  const double level = options.level == 0 ? saved.confidence_level : options.level;
  if (!(level > 0 && level < 1))
    throw Error(fmt::format("the interval's level must lie in (0, 1), not {}", level), Error::Kind::kUsage);
  const bool prediction = options.interval == IntervalKind::kPrediction;
  if (!options.weights.empty() && options.weights.size() != n)
    throw Error(fmt::format("{} weights for {} rows", options.weights.size(), n), Error::Kind::kUsage);
  for (std::size_t i = 0; i < options.weights.size(); ++i)
    if (!(std::isfinite(options.weights[i]) && options.weights[i] > 0))
      throw Error(fmt::format("data row {}: a new observation's weight must be finite and > 0, not {} (its "
                              "variance is sigma^2 / w)",
                              i + 1, shown(options.weights[i])),
                  Error::Kind::kUsage);
  // A model without any covariance (trained, not fitted) has no standard errors.
  const bool no_errors = saved.covariance.size() > 0 && saved.covariance.array().isNaN().all();
  // Parameters that were not estimated carry no uncertainty: their covariance entries count as 0.
  Eigen::MatrixXd cov = saved.covariance.unaryExpr([](double v) { return std::isnan(v) ? 0.0 : v; });
  const double tq = detail::student_t_quantile(0.5 + level / 2.0, saved.df);
  const double s2 = saved.sigma * saved.sigma;

  Predictions out;
  out.level = level;
  out.fit.resize(n);
  out.se_fit.resize(n);
  if (prediction) out.se_pred.resize(n);
  out.lower.resize(n);
  out.upper.resize(n);
  parallel_chunks(context, n, [&](std::size_t begin, std::size_t end) {
    constexpr std::size_t kBlock = detail::kBlockRows;
    std::vector<double> J(kBlock * p);
    std::vector<const double*> cols(inputs.size());
    Eigen::VectorXd g = Eigen::VectorXd::Zero(Eigen::Index(p));
    for (std::size_t b = begin; b < end; b += kBlock) {
      const std::size_t m = std::min(kBlock, end - b);
      for (std::size_t k = 0; k < inputs.size(); ++k) cols[k] = inputs[k].data() + b;
      model.evaluate(saved.estimates.data(), RowBlock{m, cols.data()}, out.fit.data() + b, J.data(), kBlock);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < p; ++j) g(Eigen::Index(j)) = J[j * kBlock + i];
        // A variance that is NaN or infinite stays so (max(0, NaN) would be a silent 0); a tiny
        // negative one is rounding and counts as 0. Non-finite rows are reported below.
        const double var = g.dot(cov * g);
        const double se = no_errors ? std::nan("") : std::isfinite(var) ? std::sqrt(std::max(0.0, var)) : var;
        out.se_fit[b + i] = se;
        double half = tq * se;
        if (prediction) {
          const double w = options.weights.empty() ? 1.0 : options.weights[b + i];
          const double se_pred = std::sqrt(se * se + s2 / w);
          out.se_pred[b + i] = se_pred;
          half = tq * se_pred;
        }
        out.lower[b + i] = out.fit[b + i] - half;
        out.upper[b + i] = out.fit[b + i] + half;
      }
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    const bool fine = std::isfinite(out.fit[i]) &&
                      (no_errors || (std::isfinite(out.se_fit[i]) && std::isfinite(out.lower[i]) &&
                                     std::isfinite(out.upper[i])));
    if (!fine) throw Error(fmt::format("cannot predict at data row {}: {}", i + 1,
                                       nonfinite_prediction(saved, inputs, i, no_errors, out)));
  }
  return out;
}

}  // namespace parafit
