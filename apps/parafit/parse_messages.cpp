#include "parse_messages.h"

#include <fast_float/fast_float.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "util/edit_distance.h"

namespace parafit::cli {
namespace {

constexpr const char* kExitCodes =
    "Exit codes: 0 success, 1 failed fit or bad data, 2 bad usage (an unknown flag, a bad value).";

// One example per command: commands a new user can paste (outputs go to /tmp, not the checkout).
constexpr std::pair<std::string_view, std::string_view> kExamples[] = {
    {"parafit", "parafit fit --data examples/data/decay.csv --model exp-decay"},
    {"fit", "parafit fit --data examples/data/decay.csv --model exp-decay --json /tmp/fit.json --save /tmp/decay.model"},
    {"batch", "parafit batch --data examples/data/peaks.csv --y-columns y0..y31 --model gauss --estimator poisson-mle --out /tmp/peaks_fits.csv"},
    {"train", "parafit train --data /tmp/decay.csv --model mlp:32,32 --optimizer adam --epochs 20 --save /tmp/mlp.model"},
    {"predict", "parafit predict --model-file /tmp/decay.model --data examples/data/decay.csv --out /tmp/pred.csv"},
    {"gen", "parafit gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows 1000 --noise 0.05 --out /tmp/decay.csv"},
    {"models", "parafit models"},
    {"convert", "parafit convert --data examples/data/decay.csv --out /tmp/decay_npy"},
};

std::string shortest(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

bool is_integer_text(std::string_view s, bool allow_sign) {
  if (!s.empty() && (s[0] == '+' || (allow_sign && s[0] == '-'))) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Whether integer text (checked by is_integer_text) fits a 64-bit integer; CLI11 would otherwise
// wrap or saturate it silently.
bool fits_64_bits(std::string_view s, bool is_unsigned) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const char* end = s.data() + s.size();
  if (is_unsigned) {
    std::uint64_t v = 0;
    const auto res = std::from_chars(s.data(), end, v);
    return res.ec == std::errc() && res.ptr == end;
  }
  std::int64_t v = 0;
  const auto res = std::from_chars(s.data(), end, v);
  return res.ec == std::errc() && res.ptr == end;
}

bool is_number_text(const std::string& s) {
  double v = 0;
  const char* end = s.data() + s.size();
  const auto res = fast_float::from_chars(s.data(), end, v);
  return !s.empty() && res.ec == std::errc() && res.ptr == end;
}

// The subcommand names of `app` nearest to `word`: within 2 edits.
std::string nearest(std::string_view word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& n : names) {
    const std::size_t d = detail::edit_distance(word, n);
    if (d < best_distance) best = n, best_distance = d;
  }
  return best;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

}  // namespace

CLI::Validator in_range(double lo, double hi) {
  const std::string description = std::isinf(hi) ? fmt::format("in [{}, inf)", shortest(lo))
                                                  : fmt::format("in [{} - {}]", shortest(lo), shortest(hi));
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        double v = 0;
        const char* end = text.data() + text.size();
        const auto res = fast_float::from_chars(text.data(), end, v);
        if (text.empty() || res.ec != std::errc() || res.ptr != end) return fmt::format("'{}' is not a number", text);
        if (v < lo || v > hi || std::isnan(v))
          return std::isinf(hi) ? fmt::format("{} is not in [{}, inf)", text, shortest(lo))
                                : fmt::format("{} is not in [{}, {}]", text, shortest(lo), shortest(hi));
        return "";
      },
      description);
}

void add_number_checks(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    const std::string type = opt->get_type_name();
    const bool is_int = type.starts_with("INT"), is_uint = type.starts_with("UINT"), is_float = type.starts_with("FLOAT");
    if (!is_int && !is_uint && !is_float) continue;
    opt->transform(CLI::Validator(
        [is_int, is_uint](std::string& text) -> std::string {
          if (is_uint && !is_integer_text(text, false))
            return is_integer_text(text, true) ? fmt::format("'{}' is not a non-negative integer", text)
                                               : fmt::format("'{}' is not an integer", text);
          if (is_int && !is_integer_text(text, true)) return fmt::format("'{}' is not an integer", text);
          if ((is_int || is_uint) && !fits_64_bits(text, is_uint))
            return fmt::format("{} is too large (more than 64 bits)", text);
          if (!is_number_text(text)) return fmt::format("'{}' is not a number", text);
          return "";
        },
        ""));
  }
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) add_number_checks(*sub);
}

void add_help_footers(CLI::App& app) {
  const auto footer = [](std::string_view name) {
    for (const auto& [command, example] : kExamples)
      if (command == name) return fmt::format("Example:\n  {}\n\n{}\n", example, kExitCodes);
    return fmt::format("{}\n", kExitCodes);
  };
  app.footer(footer("parafit"));
  for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) sub->footer(footer(sub->get_name()));
}

std::string unknown_subcommand(const CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2) return "";
  const std::string_view word = argv[1];
  if (word.empty() || word[0] == '-') return "";
  const std::vector<std::string> names = subcommand_names(app);
  for (const auto& n : names)
    if (n == word) return "";
  const std::string best = nearest(word, names);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return fmt::format("unknown command '{}'{}; the commands are: {}", word,
                     best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best), list);
}

std::string parse_error_message(const CLI::ParseError& e, const CLI::App& app, int argc, const char* const* argv) {
  std::string message = e.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return message;
  // The chosen subcommand's flags, and the first argument that looks like a flag it does not know.
  const CLI::App* shown = &app;
  for (const CLI::App* sub : app.get_subcommands()) shown = sub;
  std::vector<std::string> flags;
  for (const CLI::Option* opt : shown->get_options())
    for (const auto& name : opt->get_lnames()) flags.push_back("--" + name);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) continue;
    arg = arg.substr(0, arg.find('='));
    if (std::find(flags.begin(), flags.end(), arg) != flags.end()) continue;
    const std::string best = nearest(arg, flags);
    return fmt::format("unknown option '{}'{}", arg, best.empty() ? "" : fmt::format("; did you mean '{}'?", best));
  }
  return message;
}

}  // namespace parafit::cli
