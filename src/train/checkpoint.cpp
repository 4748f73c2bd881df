#include "train/checkpoint.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/atomic_file.h"
#include "parafit/error.h"

namespace parafit::detail {
namespace {

using json = nlohmann::ordered_json;
constexpr const char* kFormat = "parafit-checkpoint";
constexpr int kVersion = 1;

// JSON has no NaN or infinity; these travel as strings. nlohmann writes finite doubles with 17
// significant digits, which read back to the same bits.
json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double number_from(const json& j, const std::string& what) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  throw Error(fmt::format("'{}' is not a number", what));
}

json vector_json(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}

std::vector<double> vector_from(const json& j, const std::string& what) {
  if (!j.is_array()) throw Error(fmt::format("'{}' is not an array", what));
  std::vector<double> v;
  v.reserve(j.size());
  for (const auto& x : j) v.push_back(number_from(x, what));
  return v;
}

const json& field(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) throw Error(fmt::format("missing field '{}'", name));
  return *it;
}

std::size_t count_from(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_unsigned()) throw Error(fmt::format("'{}' is not a non-negative integer", name));
  return v.get<std::size_t>();
}

}  // namespace

void write_checkpoint(const std::string& path, const std::string& fingerprint, const TrainState& s) {
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["settings"] = json::parse(fingerprint);
  j["epoch"] = s.epoch;
  j["step_in_epoch"] = s.step_in_epoch;
  j["global_step"] = s.global_step;
  j["epoch_loss_sum"] = number(s.epoch_loss_sum);
  j["epoch_rows"] = s.epoch_rows;
  j["reference_loss"] = number(s.reference_loss);
  j["samples"] = s.samples;
  j["best_validation"] = number(s.best_validation);
  j["best_epoch"] = s.best_epoch;
  j["epochs_without_improvement"] = s.epochs_without_improvement;
  json history = json::array();
  for (const auto& e : s.history)
    history.push_back({{"epoch", e.epoch}, {"steps", e.steps}, {"train_loss", number(e.train_loss)},
                       {"validation_loss", number(e.validation_loss)}, {"learning_rate", number(e.learning_rate)},
                       {"seconds", number(e.seconds)}});
  j["history"] = history;
  j["theta"] = vector_json(s.theta);
  j["previous_theta"] = vector_json(s.previous_theta);
  j["best_theta"] = vector_json(s.best_theta);
  json opt = json::object();
  for (const auto& [name, values] : s.optimizer_state) opt[name] = vector_json(values);
  j["optimizer_state"] = opt;
  write_file_atomically(path, j.dump() + "\n", "checkpoint");
}

TrainState read_checkpoint(const std::string& path, const std::string& fingerprint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open checkpoint '{}': {}", path, std::strerror(errno)));
  std::stringstream buffer;
  buffer << in.rdbuf();
  json j;
  try {
    j = json::parse(buffer.str());
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("checkpoint '{}' is damaged or truncated (not valid JSON: {})", path, printable(e.what())));
  } catch (const json::exception& e) {
    // Valid JSON syntax nlohmann cannot hold, such as a number beyond double's range (1e999).
    throw Error(fmt::format("checkpoint '{}' is damaged (not valid JSON: {})", path, printable(e.what())));
  }
  try {
    if (!j.is_object() || j.value("format", "") != kFormat)
      throw Error(fmt::format("not a parafit checkpoint (format is not '{}')", kFormat));
    if (field(j, "version") != kVersion)
      throw Error(fmt::format("unsupported version {} (this parafit reads version {})", field(j, "version").dump(), kVersion));
    const json want = json::parse(fingerprint);
    const json& have = field(j, "settings");
    std::vector<std::string> differ;
    for (const auto& [key, value] : want.items()) {
      const auto it = have.find(key);
      if (it == have.end()) differ.push_back(fmt::format("{} (missing in the checkpoint)", key));
      else if (*it != value)
        differ.push_back(fmt::format("{}: checkpoint {} vs now {}{}", key, it->dump(), value.dump(),
                                     key == "epochs" ? " (a cosine schedule spans the run's epochs, so a run with it "
                                                       "cannot be extended)"
                                                     : ""));
    }
    // A setting only some runs have (a fine-tuned MLP's init_from) must not be missing now either.
    // (epochs: checkpoints written before runs could be extended hold it for every schedule.)
    for (const auto& [key, value] : have.items())
      if (key != "epochs" && !want.contains(key)) differ.push_back(fmt::format("{} (in the checkpoint, not now)", key));
    if (!differ.empty())
      throw Error(fmt::format("was written by a run with other settings; resume with the same ones ({})",
                              fmt::join(differ, "; ")));
    TrainState s;
    s.epoch = count_from(j, "epoch");
    s.step_in_epoch = count_from(j, "step_in_epoch");
    s.global_step = count_from(j, "global_step");
    s.epoch_loss_sum = number_from(field(j, "epoch_loss_sum"), "epoch_loss_sum");
    s.epoch_rows = count_from(j, "epoch_rows");
    s.reference_loss = number_from(field(j, "reference_loss"), "reference_loss");
    s.samples = count_from(j, "samples");
    s.best_validation = number_from(field(j, "best_validation"), "best_validation");
    s.best_epoch = count_from(j, "best_epoch");
    s.epochs_without_improvement = count_from(j, "epochs_without_improvement");
    const json& history = field(j, "history");
    if (!history.is_array()) throw Error("'history' is not an array");
    for (const auto& e : history) {
      EpochRecord r;
      r.epoch = count_from(e, "epoch");
      r.steps = count_from(e, "steps");
      r.train_loss = number_from(field(e, "train_loss"), "train_loss");
      r.validation_loss = number_from(field(e, "validation_loss"), "validation_loss");
      r.learning_rate = number_from(field(e, "learning_rate"), "learning_rate");
      r.seconds = number_from(field(e, "seconds"), "seconds");
      s.history.push_back(r);
    }
    s.theta = vector_from(field(j, "theta"), "theta");
    s.previous_theta = vector_from(field(j, "previous_theta"), "previous_theta");
    s.best_theta = vector_from(field(j, "best_theta"), "best_theta");
    const json& opt = field(j, "optimizer_state");
    if (!opt.is_object()) throw Error("'optimizer_state' is not an object");
    for (const auto& [name, values] : opt.items()) s.optimizer_state.emplace_back(name, vector_from(values, name));
    return s;
  } catch (const Error& e) {
    throw Error(fmt::format("checkpoint '{}': {}", path, e.what()));
  } catch (const json::exception& e) {
    throw Error(fmt::format("checkpoint '{}' is damaged: {}", path, e.what()));
  }
}

}  // namespace parafit::detail
