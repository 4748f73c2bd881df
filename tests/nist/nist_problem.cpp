#include "nist_problem.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "parafit/error.h"

namespace nist {
namespace {

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) { return trim(s).empty(); }

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t begin = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > begin) words.push_back(s.substr(begin, i - begin));
  }
  return words;
}

// Collapses runs of blanks into one blank and trims.
std::string collapse_blanks(std::string_view s) {
  std::string out;
  for (const std::string_view w : split_words(s)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// The file as numbered lines, CR removed from each line end.
class Lines {
 public:
  Lines(std::string_view text, std::string source) : source_(std::move(source)) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      pos = end + 1;
    }
  }

  std::size_t size() const { return lines_.size(); }
  // Line n, counted from 1 as in the File Format block.
  std::string_view operator[](std::size_t n) const {
    if (n < 1 || n > lines_.size())
      fail(lines_.size(), fmt::format("line {} is past the end of the file ({} lines)", n, lines_.size()));
    return lines_[n - 1];
  }

  [[noreturn]] void fail(std::size_t line, const std::string& what) const {
    throw parafit::Error(fmt::format("{}:{}: {}", source_, line, what));
  }

  // The first line (from 1) that starts with `prefix` after leading blanks, or 0.
  std::size_t find(std::string_view prefix, std::size_t from = 1, std::size_t to = 0) const {
    if (to == 0 || to > lines_.size()) to = lines_.size();
    for (std::size_t n = from; n <= to; ++n)
      if (starts_with(trim(lines_[n - 1]), prefix)) return n;
    return 0;
  }

  double number(std::size_t line, std::string_view word, const char* what) const {
    std::string_view s = word;
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);  // from_chars takes no '+'
    double value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value))
      fail(line, fmt::format("{}: '{}' is not a number", what, word));
    return value;
  }

  long integer(std::size_t line, std::string_view word, const char* what) const {
    long value = 0;
    const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (word.empty() || ec != std::errc() || ptr != word.data() + word.size())
      fail(line, fmt::format("{}: '{}' is not an integer", what, word));
    return value;
  }

 private:
  std::string source_;
  std::vector<std::string_view> lines_;
};

struct LineRange {
  std::size_t first = 0, last = 0;
};

// "Starting Values   (lines 41 to  43)" in the File Format block.
LineRange file_format_range(const Lines& lines, std::string_view label, std::size_t block_end) {
  std::size_t n = 0;
  for (std::size_t k = 1; k < block_end && n == 0; ++k) {
    const std::string_view line = trim(lines[k]);
    if (starts_with(line, label) && line.size() > label.size() &&
        (line[label.size()] == ' ' || line[label.size()] == '('))
      n = k;  // "Data  (lines", not "Dataset Name:"
  }
  if (n == 0)
    lines.fail(1, fmt::format("no '{}' line range in the File Format block", label));
  const std::string_view line = lines[n];
  const std::size_t open = line.find("(lines");
  const std::size_t close = line.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos)
    lines.fail(n, fmt::format("expected '{} (lines A to B)'", label));
  const auto words = split_words(line.substr(open + 6, close - open - 6));
  if (words.size() != 3 || words[1] != "to")
    lines.fail(n, fmt::format("expected '{} (lines A to B)'", label));
  LineRange r;
  r.first = std::size_t(lines.integer(n, words[0], "line range"));
  r.last = std::size_t(lines.integer(n, words[2], "line range"));
  if (r.first < 1 || r.last < r.first)
    lines.fail(n, fmt::format("bad line range {} to {}", r.first, r.last));
  return r;
}

// "Residual Sum of Squares:    1.2455138894E-01" somewhere in [first, last].
std::pair<std::size_t, std::string_view> summary_value(const Lines& lines, std::string_view label,
                                                       LineRange range) {
  const std::size_t n = lines.find(label, range.first, range.last);
  if (n == 0)
    lines.fail(range.first, fmt::format("no '{}' line in lines {} to {}", label, range.first,
                                        range.last));
  const auto words = split_words(lines[n].substr(lines[n].find(':') + 1));
  if (words.size() != 1) lines.fail(n, fmt::format("expected one value after '{}'", label));
  return {n, words[0]};
}

}  // namespace

std::vector<std::string> NistProblem::predictors() const {
  if (columns.empty()) return {};
  return {columns.begin() + 1, columns.end()};
}

std::vector<std::pair<std::string, double>> NistProblem::start_values(int start) const {
  std::vector<std::pair<std::string, double>> out;
  for (const NistParameter& p : parameters) {
    const double v = start == 1 ? p.start1 : start == 2 ? p.start2 : p.certified;
    out.emplace_back(p.name, v);
  }
  return out;
}

std::vector<double> NistProblem::certified_values() const {
  std::vector<double> out;
  for (const NistParameter& p : parameters) out.push_back(p.certified);
  return out;
}

parafit::Dataset NistProblem::dataset() const {
  parafit::Dataset d;
  for (std::size_t c = 0; c < columns.size(); ++c) d.add_column(columns[c], data[c]);
  d.set_source(source);
  return d;
}

NistProblem parse_nist_problem(std::string_view text, const std::string& source) {
  const Lines lines(text, source);
  NistProblem p;
  p.source = source;

  // File Format block (before "Procedure:"): the line ranges of the tables.
  const std::size_t format_end = lines.find("Procedure:");
  if (format_end == 0) lines.fail(1, "no 'Procedure:' line after the File Format block");
  const LineRange starting = file_format_range(lines, "Starting Values", format_end);
  const LineRange certified = file_format_range(lines, "Certified Values", format_end);
  const LineRange data = file_format_range(lines, "Data", format_end);
  if (certified.first != starting.first || certified.last <= starting.last)
    lines.fail(1, fmt::format("the Certified Values lines ({} to {}) do not extend the Starting "
                              "Values lines ({} to {})", certified.first, certified.last,
                              starting.first, starting.last));
  if (data.first <= certified.last + 1)
    lines.fail(1, "the Data lines overlap the certified values");
  if (data.last > lines.size())
    lines.fail(lines.size(), fmt::format("the file ends at line {}, before the last data line {}",
                                         lines.size(), data.last));
  if (starting.first <= format_end)
    lines.fail(starting.first, "the parameter table starts inside the File Format block");
  // The header is everything before the parameter table.
  const std::size_t header_end = starting.first;

  // Dataset Name:  Misra1a           (Misra1a.dat)
  {
    const std::size_t n = lines.find("Dataset Name:", 1, header_end);
    if (n == 0) lines.fail(1, "no 'Dataset Name:' line");
    const auto words = split_words(lines[n].substr(lines[n].find(':') + 1));
    if (words.empty()) lines.fail(n, "empty dataset name");
    p.name = std::string(words[0]);
  }

  // Data description: "14 Observations", "Lower Level of Difficulty", "Observed Data".
  std::optional<long> header_observations;
  std::size_t header_observations_line = 0;
  for (std::size_t n = 1; n < header_end; ++n) {
    const std::string_view line = trim(lines[n]);
    const auto words = split_words(line);
    if (words.size() == 2 && words[1] == "Observations") {
      header_observations = lines.integer(n, words[0], "number of observations");
      header_observations_line = n;
    } else if (words.size() == 4 && words[1] == "Level" && words[2] == "of" &&
               words[3] == "Difficulty") {
      p.difficulty = std::string(words[0]);
    } else if (words.size() == 2 && words[1] == "Data" &&
               (words[0] == "Observed" || words[0] == "Generated")) {
      p.data_kind = std::string(words[0]);
    }
  }
  if (p.difficulty.empty()) lines.fail(1, "no '... Level of Difficulty' line in the header");
  if (!header_observations) lines.fail(1, "no 'N Observations' line in the header");

  // Model:         Exponential Class
  //                2 Parameters (b1 and b2)
  //
  //                y = b1*(1-exp[-b2*x])  +  e
  const std::size_t model = lines.find("Model:", 1, header_end);
  if (model == 0) lines.fail(1, "no 'Model:' block in the header");
  p.model_class = collapse_blanks(lines[model].substr(lines[model].find(':') + 1));
  const std::size_t count_line = model + 1;
  const auto count_words = split_words(lines[count_line]);
  if (count_words.size() < 2 || count_words[1] != "Parameters")
    lines.fail(count_line, "expected 'N Parameters (...)' after the Model line");
  const long declared_parameters = lines.integer(count_line, count_words[0], "number of parameters");
  std::size_t n = count_line + 1;
  while (n < header_end && is_blank(lines[n])) ++n;
  const std::size_t formula_first = n;
  // Equations: a line with '=' starts one, lines without continue it.
  std::vector<std::pair<std::string, std::string>> equations;
  std::vector<std::size_t> equation_lines;
  for (; n < header_end && !is_blank(lines[n]); ++n) {
    const std::string_view line = lines[n];
    const std::size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      equations.emplace_back(collapse_blanks(line.substr(0, eq)), collapse_blanks(line.substr(eq + 1)));
      equation_lines.push_back(n);
    } else {
      if (equations.empty()) lines.fail(n, "expected the model formula 'y = ...'");
      equations.back().second += ' ' + collapse_blanks(line);
    }
  }
  if (equations.empty()) lines.fail(formula_first, "no model formula after the Parameters line");
  for (std::size_t k = 0; k + 1 < equations.size(); ++k) {
    const auto words = split_words(equations[k].second);
    if (words.size() != 1)
      lines.fail(equation_lines[k], fmt::format("expected a constant 'name = value', got '{} = {}'",
                                                equations[k].first, equations[k].second));
    p.constants.emplace_back(equations[k].first,
                             lines.number(equation_lines[k], words[0], "constant"));
  }
  p.model_response = equations.back().first;
  std::string rhs = equations.back().second;
  // Drop the error term: the formula ends in "+ e".
  {
    std::string squeezed;
    for (char c : rhs)
      if (c != ' ') squeezed += c;
    if (squeezed.size() < 3 || squeezed.substr(squeezed.size() - 2) != "+e")
      lines.fail(equation_lines.back(), "the model formula does not end in the error term '+ e'");
    const std::size_t plus = rhs.rfind('+');
    p.model_rhs = std::string(trim(std::string_view(rhs).substr(0, plus)));
  }

  // Parameter table: "b1 =   500   250   2.3894212918E+02  2.7070075241E+00".
  for (std::size_t k = starting.first; k <= starting.last; ++k) {
    const auto words = split_words(lines[k]);
    if (words.size() != 6 || words[1] != "=")
      lines.fail(k, fmt::format("expected 'name = start1 start2 certified sd', found {} fields",
                                words.size()));
    NistParameter param;
    param.name = std::string(words[0]);
    param.start1 = lines.number(k, words[2], "Start 1");
    param.start2 = lines.number(k, words[3], "Start 2");
    param.certified = lines.number(k, words[4], "certified value");
    param.certified_sd = lines.number(k, words[5], "certified standard deviation");
    for (const NistParameter& other : p.parameters)
      if (other.name == param.name) lines.fail(k, fmt::format("parameter '{}' listed twice", param.name));
    p.parameters.push_back(std::move(param));
  }
  if (long(p.parameters.size()) != declared_parameters)
    lines.fail(starting.last, fmt::format("the table lists {} parameters, the Model block says {}",
                                          p.parameters.size(), declared_parameters));

  // Summary lines after the table.
  const LineRange summary{starting.last + 1, certified.last};
  const auto [rss_line, rss_word] = summary_value(lines, "Residual Sum of Squares:", summary);
  const auto [sd_line, sd_word] = summary_value(lines, "Residual Standard Deviation:", summary);
  const auto [df_line, df_word] = summary_value(lines, "Degrees of Freedom:", summary);
  const auto [obs_line, obs_word] = summary_value(lines, "Number of Observations:", summary);
  p.certified_rss = lines.number(rss_line, rss_word, "residual sum of squares");
  p.certified_residual_sd = lines.number(sd_line, sd_word, "residual standard deviation");
  p.degrees_of_freedom = int(lines.integer(df_line, df_word, "degrees of freedom"));
  const long observations = lines.integer(obs_line, obs_word, "number of observations");
  if (observations < 1) lines.fail(obs_line, "the number of observations must be positive");
  p.observations = std::size_t(observations);
  for (std::size_t k = summary.first; k <= summary.last; ++k)
    if (!is_blank(lines[k]) && k != rss_line && k != sd_line && k != df_line && k != obs_line)
      lines.fail(k, "unexpected line among the certified values");

  // Data: header "Data:   y   x" on the line before the first data line, then the rows.
  const std::size_t header = data.first - 1;
  if (!starts_with(lines[header], "Data:"))
    lines.fail(header, "expected the data header 'Data:  y  x' on the line before the data");
  for (const std::string_view w : split_words(lines[header].substr(5))) p.columns.emplace_back(w);
  if (p.columns.size() < 2)
    lines.fail(header, "the data header names fewer than two columns (response and predictor)");
  for (std::size_t c = 0; c < p.columns.size(); ++c)
    for (std::size_t d = 0; d < c; ++d)
      if (p.columns[c] == p.columns[d])
        lines.fail(header, fmt::format("column '{}' named twice", p.columns[c]));
  p.data.assign(p.columns.size(), {});
  for (std::size_t k = data.first; k <= data.last; ++k) {
    const auto words = split_words(lines[k]);
    if (words.size() != p.columns.size())
      lines.fail(k, fmt::format("expected {} numbers ({}), found {} fields", p.columns.size(),
                                collapse_blanks(lines[header].substr(5)), words.size()));
    for (std::size_t c = 0; c < words.size(); ++c)
      p.data[c].push_back(lines.number(k, words[c], p.columns[c].c_str()));
  }
  for (std::size_t k = data.last + 1; k <= lines.size(); ++k)
    if (!is_blank(lines[k])) lines.fail(k, fmt::format("text after the last data line {}", data.last));

  // Cross-checks of the counts.
  if (p.rows() != p.observations)
    lines.fail(obs_line, fmt::format("{} observations certified, but the data has {} rows",
                                     p.observations, p.rows()));
  if (std::size_t(*header_observations) != p.rows())
    lines.fail(header_observations_line,
               fmt::format("the header says {} observations, but the data has {} rows",
                           *header_observations, p.rows()));
  // Degrees of freedom are not checked against rows - parameters: Rat43.dat says 9 where
  // 15 - 4 = 11 (its residual standard deviation uses 11). The tests check the others.
  return p;
}

NistProblem read_nist_problem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw parafit::Error(fmt::format("{}: cannot open the NIST problem file", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw parafit::Error(fmt::format("{}: read error", path));
  return parse_nist_problem(text.str(), path);
}

double lre(double estimate, double certified, double digits) {
  if (!std::isfinite(estimate)) return 0;
  if (estimate == certified) return digits;
  const double error = certified == 0 ? std::fabs(estimate) : std::fabs(estimate - certified) /
                                                                   std::fabs(certified);
  const double value = -std::log10(error);
  if (!(value > 0)) return 0;  // also catches NaN
  return std::min(value, digits);
}

}  // namespace nist
