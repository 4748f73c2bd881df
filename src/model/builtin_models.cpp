// The registry of built-in model families: listing, creation by name, and "did you mean".
#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "util/edit_distance.h"
#include "model/family.h"
#include "parafit/error.h"
#include "parafit/model.h"

namespace parafit {

namespace {

struct Family {
  std::string_view name;
  std::string_view description;
  std::unique_ptr<Model> (*make)();
};

// Display order; poly:k comes first and is handled apart because its name carries the degree.
constexpr Family kFamilies[] = {
    {"exp-decay", "exponential decay from a + c at x = 0 towards the asymptote c",
     detail::make_exp_decay},
    {"exp-growth", "exponential growth (decay for b < 0) through the origin",
     detail::make_exp_growth},
    {"log", "logarithmic curve; defined for x > 0", detail::make_log},
    {"power", "power law; defined for x > 0", detail::make_power},
    {"logistic4",
     "four-parameter log-logistic dose-response curve from a at x = 0 to d, midpoint c, slope b",
     detail::make_logistic4},
    {"gauss", "Gaussian peak of height a at mu, width s, on a baseline c", detail::make_gauss},
    {"michaelis-menten", "saturation curve with maximum vmax, half-saturated at x = km",
     detail::make_michaelis_menten},
    {"gompertz", "Gompertz growth curve rising to the asymptote a", detail::make_gompertz},
    {"asymptotic", "asymptotic regression from R0 at x = 0 to Asym at rate exp(lrc) (R's SSasymp)",
     detail::make_asymptotic},
};

constexpr std::string_view kPolyPrefix = "poly:";
// A function, not a global string: another translation unit's static initialiser may create a
// model before this one's globals are constructed.
std::string degree_range() { return "from 0 to " + std::to_string(detail::kMaxPolyDegree); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}


// The degree of "poly:k", or -1 when the text after "poly:" is not a valid degree.
int parse_degree(std::string_view digits) {
  int degree = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), degree);
  if (ec != std::errc() || end != digits.data() + digits.size()) return -1;
  return degree >= 0 && degree <= detail::kMaxPolyDegree ? degree : -1;
}

std::unique_ptr<Model> make_poly_by_name(std::string_view name) {
  const std::string_view digits = name.substr(kPolyPrefix.size());
  if (digits.empty()) {
    throw Error(fmt::format("model '{}' lacks its degree: write poly:k with k {}, e.g. poly:2",
                            name, degree_range()));
  }
  int degree = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), degree);
  if (ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    throw Error(fmt::format("bad polynomial degree '{}' in model '{}': expected a whole number {}",
                            digits, name, degree_range()));
  }
  if (ec != std::errc() || degree < 0 || degree > detail::kMaxPolyDegree) {
    throw Error(fmt::format("polynomial degree {} in model '{}' is out of range: it must be {}",
                            digits, name, degree_range()));
  }
  return detail::make_poly(degree);
}

// poly is suggested with a degree: the user's own if it is valid ("Poly:3"), else poly:2.
[[noreturn]] void throw_unknown(std::string_view name) {
  const std::string key = lower(name);
  std::string best = "poly:2";
  std::size_t best_distance = detail::edit_distance(key, "poly");
  if (key.starts_with(kPolyPrefix)) {
    best_distance = 0;
    if (parse_degree(std::string_view(key).substr(kPolyPrefix.size())) >= 0) best = key;
  }
  for (const Family& f : kFamilies) {
    const std::size_t d = detail::edit_distance(key, f.name);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(f.name);
    }
  }
  throw usage_error(fmt::format("unknown model '{}'; did you mean '{}'? (parafit models lists them)",
                                printable(name, 60), best));
}

}  // namespace

const std::vector<ModelInfo>& builtin_models() {
  static const std::vector<ModelInfo> infos = [] {
    std::vector<ModelInfo> list;
    list.push_back({"poly:k", "b0 + b1*x + ... + bk*x^k", {"b0", "...", "bk"},
                    "polynomial of degree k " + degree_range() + "; linear in its parameters"});
    // Built from the models themselves so that the listing cannot drift from what they do.
    for (const Family& f : kFamilies) {
      const std::unique_ptr<Model> m = f.make();
      list.push_back({m->name(), m->formula(), m->parameter_names(), std::string(f.description)});
    }
    return list;
  }();
  return infos;
}

std::unique_ptr<Model> make_builtin_model(std::string_view name) {
  if (name.starts_with(kPolyPrefix)) return make_poly_by_name(name);
  if (name == "poly") {
    throw usage_error(
        fmt::format("model 'poly' needs a degree: write poly:k with k {}, e.g. poly:2",
                    degree_range()));
  }
  for (const Family& f : kFamilies) {
    if (f.name == name) return f.make();
  }
  throw_unknown(name);
}

}  // namespace parafit
