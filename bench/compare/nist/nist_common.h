// nist_common.h — shared by nist_ceres and nist_gsl (bench-only, see README.md in this folder):
// a small reader for the NIST StRD nonlinear-regression .dat files, the LRE metric, the model
// check at the certified values, and the per-fit table and summary every program prints.
// Standalone: needs only the C++ standard library (no parafit, no fmt).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace nistbench {

struct Problem {
  std::string name;
  std::vector<double> start1, start2, certified;  // b1..bp in the file's order
  double certified_rss = 0;
  std::vector<double> y;   // the fitted response (Nelson: log(y), as its model is written for log[y])
  std::vector<double> x1;  // first predictor
  std::vector<double> x2;  // second predictor (Nelson only; zeros otherwise)
  std::size_t n() const { return y.size(); }
  std::size_t p() const { return certified.size(); }
  const std::vector<double>& start(int s) const { return s == 1 ? start1 : start2; }
};

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "error: %s\n", what.c_str());
  std::exit(2);
}

inline std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

inline double to_number(const std::string& s, const std::string& where) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || !std::isfinite(v)) die(where + ": '" + s + "' is not a number");
  return v;
}

// "Starting Values   (lines 41 to 42)" -> {41, 42}
inline std::pair<int, int> line_range(const std::vector<std::string>& lines, const std::string& label,
                                      const std::string& path) {
  for (std::size_t k = 0; k < lines.size() && k < 12; ++k) {
    const std::size_t at = lines[k].find(label);
    const std::size_t open = lines[k].find("(lines");
    if (at == std::string::npos || open == std::string::npos || at > open) continue;
    int a = 0, b = 0;
    if (std::sscanf(lines[k].c_str() + open, "(lines %d to %d)", &a, &b) == 2 && a >= 1 && b >= a)
      return {a, b};
  }
  die(path + ": no '" + label + " (lines A to B)' in the File Format block");
}

// Reads `dir/name.dat`. Layout (see the README.md next to the data): the File Format block gives
// the line ranges; parameter lines are "bK = start1 start2 certified sd"; then the certified RSS;
// the data lines hold the response first, then the predictor(s). CRLF line ends.
inline Problem read_problem(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name + ".dat";
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot open " + path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  const auto [s_first, s_last] = line_range(lines, "Starting Values", path);
  const auto [c_first, c_last] = line_range(lines, "Certified Values", path);
  const auto [d_first, d_last] = line_range(lines, "Data ", path);
  if (int(lines.size()) < d_last) die(path + ": shorter than its Data line range");
  Problem p;
  p.name = name;
  for (int k = s_first; k <= s_last; ++k) {
    const auto w = words_of(lines[k - 1]);
    const std::string where = path + ":" + std::to_string(k);
    if (w.size() != 6 || w[1] != "=" || w[0] != "b" + std::to_string(k - s_first + 1))
      die(where + ": expected 'bK = start1 start2 certified sd'");
    p.start1.push_back(to_number(w[2], where));
    p.start2.push_back(to_number(w[3], where));
    p.certified.push_back(to_number(w[4], where));
  }
  for (int k = s_last + 1; k <= c_last; ++k) {
    const std::string& l = lines[k - 1];
    if (l.find("Residual Sum of Squares:") != std::string::npos)
      p.certified_rss = to_number(words_of(l.substr(l.find(':') + 1)).at(0), path + ":" + std::to_string(k));
  }
  if (!(p.certified_rss > 0)) die(path + ": no certified residual sum of squares");
  (void)c_first;
  const auto header = words_of(lines[d_first - 2]);  // "Data:   y   x" (Nelson: y x1 x2)
  const std::size_t cols = header.size() - 1;
  if (header.empty() || header[0] != "Data:" || cols < 2 || cols > 3) die(path + ": bad data header");
  for (int k = d_first; k <= d_last; ++k) {
    const auto w = words_of(lines[k - 1]);
    const std::string where = path + ":" + std::to_string(k);
    if (w.size() != cols) die(where + ": expected " + std::to_string(cols) + " numbers");
    p.y.push_back(to_number(w[0], where));
    p.x1.push_back(to_number(w[1], where));
    p.x2.push_back(cols == 3 ? to_number(w[2], where) : 0.0);
  }
  if (name == "Nelson")  // log[y] = b1 - b2*x1 * exp[-b3*x2] + e: the response is log(y)
    for (double& v : p.y) v = std::log(v);
  return p;
}

// LRE = -log10(|est - cert| / |cert|), capped at 11 (the certified digits); below 0 and
// non-finite -> 0; an exact match -> the cap.
inline double lre(double est, double cert, double cap = 11) {
  if (!std::isfinite(est)) return 0;
  if (est == cert) return cap;
  const double rel = cert == 0 ? std::fabs(est) : std::fabs(est - cert) / std::fabs(cert);
  const double v = -std::log10(rel);
  if (!(v > 0)) return 0;
  return std::min(v, cap);
}

inline double min_lre(const std::vector<double>& est, const std::vector<double>& cert) {
  double m = 11;
  for (std::size_t j = 0; j < cert.size(); ++j) m = std::min(m, j < est.size() ? lre(est[j], cert[j]) : 0.0);
  return m;
}

// RSS of `f` (a callable b, x1, x2 -> model value) at parameters b.
template <class F>
double rss_at(const Problem& p, const std::vector<double>& b, F&& f) {
  double s = 0;
  for (std::size_t i = 0; i < p.n(); ++i) {
    const double r = p.y[i] - f(b.data(), p.x1[i], p.x2[i]);
    s += r * r;
  }
  return s;
}

// The model check: the RSS at the certified parameters must reproduce the certified RSS to 6 digits
// (Lanczos1 excepted: its certified RSS, ~1.4e-25, is below double resolution). Prints one line;
// returns false on a mismatch.
template <class F>
bool check_model(const Problem& p, F&& f) {
  const double rss = rss_at(p, p.certified, f);
  const double l = lre(rss, p.certified_rss);
  const bool exempt = p.name == "Lanczos1";
  const bool ok = exempt || l >= 6;
  std::printf("check %-9s RSS at certified b = %.10e  certified %.10e  LRE %4.1f  %s\n", p.name.c_str(),
              rss, p.certified_rss, l, ok ? (exempt ? "ok (exempt: below double resolution)" : "ok")
                                          : "FORMULA WRONG");
  return ok;
}

struct Outcome {
  std::string problem;
  int start = 0;
  std::vector<double> b;   // estimates (empty: no estimate)
  bool success = false;    // the tool reported convergence / success
  std::string status;      // the tool's own termination text
  int iterations = 0;
  double min_lre = 0;
  double rss_lre = 0;
};

class Report {
 public:
  explicit Report(std::string tool) : tool_(std::move(tool)) {
    std::printf("\n%s\n", tool_.c_str());
    std::printf("%-9s %5s %7s %7s %6s %-7s  %s\n", "problem", "start", "minLRE", "rssLRE", "iters",
                "success", "status");
  }
  void add(const Outcome& o) {
    ++total_;
    at4_ += o.min_lre >= 4;
    at6_ += o.min_lre >= 6;
    at8_ += o.min_lre >= 8;
    const bool false4 = o.success && o.min_lre < 4, false6 = o.success && o.min_lre < 6;
    false4_ += false4;
    false6_ += false6;
    // LREs are shown truncated to one decimal, so 3.99 reads 3.9, never 4.0.
    std::printf("%-9s %5d %7.1f %7.1f %6d %-7s  %s%s\n", o.problem.c_str(), o.start, shown(o.min_lre), shown(o.rss_lre),
                o.iterations, o.success ? "yes" : "no", o.status.c_str(),
                false4 ? "  <- FALSE CONVERGENCE (<4 digits)" : false6 ? "  <- reported success, <6 digits" : "");
  }
  // Counts, then one machine-readable line for run.sh.
  void finish() const {
    std::printf("%s: min LRE >= 4: %d/%d, >= 6: %d/%d, >= 8: %d/%d; reported success with < 4 digits "
                "(false convergence): %d, with < 6 digits: %d\n",
                tool_.c_str(), at4_, total_, at6_, total_, at8_, total_, false4_, false6_);
    std::printf("RESULT total=%d at4=%d at6=%d at8=%d false4=%d false6=%d tool=%s\n", total_, at4_, at6_,
                at8_, false4_, false6_, tool_.c_str());
    std::fflush(stdout);
  }

 private:
  static double shown(double v) { return std::floor(v * 10) / 10; }
  std::string tool_;
  int total_ = 0, at4_ = 0, at6_ = 0, at8_ = 0, false4_ = 0, false6_ = 0;
};

inline std::string data_dir(int argc, char** argv, int index) {
  return argc > index ? argv[index] : std::string(NIST_DATA_DIR);
}

}  // namespace nistbench
