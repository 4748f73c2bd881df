#include "cli_common.h"

#include "io/atomic_file.h"
#include "parafit/error.h"

#include <fast_float/fast_float.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <string_view>

namespace parafit::cli {

std::vector<std::string> split_list(const std::vector<std::string>& occurrences) {
  std::vector<std::string> out;
  for (const auto& occ : occurrences) {
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = occ.find(',', start);
      out.push_back(occ.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

double parse_number(const std::string& text, const std::string& flag) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto res = fast_float::from_chars(text.data(), end, v);
  if (text.empty() || res.ec != std::errc() || res.ptr != end || !std::isfinite(v))
    throw UsageError(fmt::format("{}: '{}' is not a finite number", flag, text));
  return v;
}

namespace {

std::pair<std::string, std::string> split_assignment(const std::string& token, const std::string& flag,
                                                     const char* form) {
  const std::size_t eq = token.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError(fmt::format("{}: '{}' is not of the form {}", flag, token, form));
  return {token.substr(0, eq), token.substr(eq + 1)};
}

}  // namespace

std::vector<std::pair<std::string, double>> parse_assignments(const std::vector<std::string>& occurrences,
                                                              const std::string& flag) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& token : split_list(occurrences)) {
    auto [name, value] = split_assignment(token, flag, "name=number");
    out.emplace_back(name, parse_number(value, fmt::format("{} {}", flag, name)));
  }
  return out;
}

std::vector<std::pair<std::string, ParameterBounds>> parse_bounds(const std::vector<std::string>& occurrences,
                                                                  const std::string& flag) {
  std::vector<std::pair<std::string, ParameterBounds>> out;
  for (const auto& token : split_list(occurrences)) {
    auto [name, range] = split_assignment(token, flag, "name=lower:upper");
    const std::size_t colon = range.find(':');
    if (colon == std::string::npos)
      throw UsageError(fmt::format("{}: '{}' is not of the form name=lower:upper", flag, token));
    ParameterBounds b;
    const std::string lo = range.substr(0, colon), hi = range.substr(colon + 1);
    const std::string where = fmt::format("{} {}", flag, name);
    if (!lo.empty()) b.lower = parse_number(lo, where);
    if (!hi.empty()) b.upper = parse_number(hi, where);
    if (b.lower > b.upper)
      throw UsageError(fmt::format("{}: '{}' has lower bound above upper bound", flag, token));
    out.emplace_back(name, b);
  }
  return out;
}

std::pair<double, double> parse_range(const std::string& text, const std::string& flag) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos)
    throw UsageError(fmt::format("{}: '{}' is not of the form lo:hi", flag, text));
  const double lo = parse_number(text.substr(0, colon), flag);
  const double hi = parse_number(text.substr(colon + 1), flag);
  if (!(lo < hi)) throw UsageError(fmt::format("{}: '{}' needs lo < hi", flag, text));
  return {lo, hi};
}

CLI::Option* add_list_option(CLI::App& app, const std::string& name, std::vector<std::string>& target,
                             const std::string& help) {
  return app.add_option(name, target, help)
      ->type_size(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

char parse_delimiter(const std::string& text) {
  if (text.empty()) return 0;
  if (text == "\\t" || text == "tab") return '\t';
  if (text.size() != 1) throw UsageError(fmt::format("--delimiter: '{}' is not a single character", text));
  return text[0];
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::size_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      std::size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

void write_text_file(const std::string& path, const std::string& text, const char* what) {
  detail::write_file_atomically(path, text, what);
}

std::string place_data_row(const std::string& message, const std::string& path, const TableOptions& options,
                           std::size_t dropped) {
  static constexpr std::string_view kRow = "data row ";
  const std::size_t at = message.find(kRow);
  if (at == std::string::npos) return message;
  std::size_t end = at + kRow.size();
  std::size_t row = 0;
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end])) != 0)
    row = row * 10 + std::size_t(message[end++] - '0');
  if (end == at + kRow.size() || row == 0) return message;
  std::string place;
  try {
    place = table_row_place(path, options, row - 1);
  } catch (const std::exception&) {
    // The file cannot be read again (it changed or went away): the row number alone must do.
  }
  std::string note;
  if (!place.empty()) note = place;
  if (dropped > 0) note += fmt::format("{}counting only the rows kept by --drop-missing", note.empty() ? "" : "; ");
  if (note.empty()) return message;
  return message.substr(0, end) + " (" + note + ")" + message.substr(end);
}

}  // namespace parafit::cli
