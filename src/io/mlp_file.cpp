#include "parafit/mlp_file.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/atomic_file.h"
#include "parafit/error.h"

namespace parafit {
namespace {

using json = nlohmann::ordered_json;
constexpr const char* kFormat = "parafit-model";
constexpr int kVersion = 1;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open model file '{}'", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(fmt::format("{}: invalid model file: {}: {}", source_, where, what));
  }
  const json& field(const json& obj, const std::string& key, const std::string& where) const {
    if (!obj.is_object()) fail(where.empty() ? "(top level)" : where, "expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(where.empty() ? key : where + "." + key, "missing");
    return *it;
  }
  double finite(const json& v, const std::string& where) const {
    if (!v.is_number()) fail(where, "expected a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(where, "expected a finite number");
    return d;
  }
  std::string string(const json& v, const std::string& where) const {
    if (!v.is_string()) fail(where, "expected a string");
    return v.get<std::string>();
  }
  std::vector<double> numbers(const json& v, const std::string& where) const {
    if (!v.is_array()) fail(where, "expected an array");
    std::vector<double> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(finite(v[i], fmt::format("{}[{}]", where, i)));
    return out;
  }
  std::vector<std::string> strings(const json& v, const std::string& where) const {
    if (!v.is_array()) fail(where, "expected an array");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) out.push_back(string(v[i], fmt::format("{}[{}]", where, i)));
    return out;
  }

 private:
  std::string source_;
};

}  // namespace

std::string serialize_mlp(const MlpModel& m) {
  json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["model"] = {{"kind", "mlp"},
                  {"widths", m.widths},
                  {"activation", to_string(m.activation)},
                  {"precision", to_string(m.precision)}};
  doc["inputs"] = m.inputs;
  doc["response"] = m.response;
  doc["standardization"] = {{"input_mean", m.input_mean},
                            {"input_scale", m.input_scale},
                            {"y_mean", m.y_mean},
                            {"y_scale", m.y_scale}};
  doc["weights"] = m.parameters;  // 17 significant digits: read back to the same bits
  return doc.dump(1) + "\n";
}

void save_mlp_file(const std::string& path, const MlpModel& model) {
  detail::write_file_atomically(path, serialize_mlp(model), "model file");
}

MlpModel parse_mlp(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: invalid model file: not valid JSON (truncated or damaged?) at byte {}", source, e.byte));
  } catch (const json::exception& e) {
    // Valid JSON syntax nlohmann cannot hold, such as a number beyond double's range (1e999).
    throw Error(fmt::format("{}: invalid model file: not valid JSON (damaged?): {}", source, e.what()));
  }
  const Reader r(source);
  if (r.string(r.field(doc, "format", ""), "format") != kFormat) r.fail("format", fmt::format("expected \"{}\"", kFormat));
  const json& version = r.field(doc, "version", "");
  if (!version.is_number_integer() || version.get<int>() != kVersion)
    r.fail("version", fmt::format("this parafit reads version {}", kVersion));
  const json& model = r.field(doc, "model", "");
  if (r.string(r.field(model, "kind", "model"), "model.kind") != "mlp") r.fail("model.kind", "expected \"mlp\"");
  MlpModel m;
  const json& widths = r.field(model, "widths", "model");
  if (!widths.is_array()) r.fail("model.widths", "expected an array");
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (!widths[i].is_number_unsigned() || widths[i].get<std::size_t>() == 0 || widths[i].get<std::size_t>() > 65536)
      r.fail(fmt::format("model.widths[{}]", i), "expected a whole number from 1 to 65536");
    m.widths.push_back(widths[i].get<std::size_t>());
  }
  try {
    m.activation = parse_activation(r.string(r.field(model, "activation", "model"), "model.activation"));
    m.precision = parse_precision(r.string(r.field(model, "precision", "model"), "model.precision"));
  } catch (const Error& e) {
    if (std::string(e.what()).find("invalid model file") != std::string::npos) throw;
    r.fail("model", e.what());
  }
  m.inputs = r.strings(r.field(doc, "inputs", ""), "inputs");
  m.response = r.string(r.field(doc, "response", ""), "response");
  const json& st = r.field(doc, "standardization", "");
  m.input_mean = r.numbers(r.field(st, "input_mean", "standardization"), "standardization.input_mean");
  m.input_scale = r.numbers(r.field(st, "input_scale", "standardization"), "standardization.input_scale");
  m.y_mean = r.finite(r.field(st, "y_mean", "standardization"), "standardization.y_mean");
  m.y_scale = r.finite(r.field(st, "y_scale", "standardization"), "standardization.y_scale");
  m.parameters = r.numbers(r.field(doc, "weights", ""), "weights");
  try {
    m.validate();
  } catch (const Error& e) {
    throw Error(fmt::format("{}: invalid model file: {}", source, e.what()));
  }
  return m;
}

MlpModel load_mlp_file(const std::string& path) { return parse_mlp(read_all(path), path); }

bool is_mlp_model_file(const std::string& path) {
  try {
    const json doc = json::parse(read_all(path));
    return doc.is_object() && doc.contains("model") && doc["model"].is_object() &&
           doc["model"].value("kind", "") == "mlp";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace parafit
