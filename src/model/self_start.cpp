#include "model/self_start.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/core.h>

#include "parafit/error.h"

namespace parafit::detail {

namespace {

bool finite_row(double x, double y) { return std::isfinite(x) && std::isfinite(y); }

}  // namespace

void throw_no_start(std::string_view model, std::string_view why) {
  throw Error(fmt::format(
      "cannot compute starting values for model '{}': {}; give them with {}", model, why, option_name("start")));
}

std::span<const double> single_input(std::string_view model,
                                     std::span<const std::span<const double>> inputs,
                                     std::span<const double> y) {
  if (inputs.size() != 1) {
    throw_no_start(model, fmt::format("it takes one input column, got {}", inputs.size()));
  }
  if (inputs[0].size() != y.size()) {
    throw_no_start(model, fmt::format("the input has {} rows but the response has {}",
                                      inputs[0].size(), y.size()));
  }
  return inputs[0];
}

Sample sorted_subsample(std::string_view model, std::span<const double> x,
                        std::span<const double> y, std::size_t min_rows, std::size_t max_rows) {
  const std::size_t n = y.size();
  std::vector<std::pair<double, double>> rows;
  rows.reserve(std::min(n, max_rows));
  if (n <= max_rows) {
    for (std::size_t i = 0; i < n; ++i) {
      if (finite_row(x[i], y[i])) rows.emplace_back(x[i], y[i]);
    }
  } else {
    // Evenly spaced rows: O(max_rows) work however large the data set.
    for (std::size_t k = 0; k < max_rows; ++k) {
      const std::size_t i = k * n / max_rows;
      if (finite_row(x[i], y[i])) rows.emplace_back(x[i], y[i]);
    }
    if (rows.size() < max_rows / 2) {
      // Mostly missing values: space the picks evenly over the finite rows instead, at the cost
      // of two full passes.
      std::size_t finite = 0;
      for (std::size_t i = 0; i < n; ++i) finite += finite_row(x[i], y[i]) ? 1 : 0;
      const std::size_t m = std::min(finite, max_rows);
      rows.clear();
      std::size_t rank = 0;
      std::size_t k = 0;
      for (std::size_t i = 0; i < n && k < m; ++i) {
        if (!finite_row(x[i], y[i])) continue;
        if (rank == k * finite / m) {
          rows.emplace_back(x[i], y[i]);
          ++k;
        }
        ++rank;
      }
    }
  }
  if (rows.size() < min_rows) {
    throw_no_start(model,
                   fmt::format("it needs at least {} rows with finite values, the data have {}",
                               min_rows, rows.size()));
  }
  std::sort(rows.begin(), rows.end());
  Sample s;
  s.x.reserve(rows.size());
  s.y.reserve(rows.size());
  for (const auto& [xv, yv] : rows) {
    s.x.push_back(xv);
    s.y.push_back(yv);
  }
  return s;
}

Sample quantile_bins(const Sample& sample, std::size_t bins) {
  const std::size_t n = sample.size();
  bins = std::min(bins, n);
  Sample out;
  out.x.reserve(bins);
  out.y.reserve(bins);
  for (std::size_t b = 0; b < bins; ++b) {
    const std::size_t lo = b * n / bins;
    const std::size_t hi = (b + 1) * n / bins;
    double sx = 0.0;
    double sy = 0.0;
    for (std::size_t i = lo; i < hi; ++i) {
      sx += sample.x[i];
      sy += sample.y[i];
    }
    const double count = static_cast<double>(hi - lo);
    out.x.push_back(sx / count);
    out.y.push_back(sy / count);
  }
  return out;
}

double mean(std::span<const double> v) {
  double s = 0.0;
  for (double e : v) s += e;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

LineFit fit_line(std::span<const double> x, std::span<const double> y) {
  LineFit fit;
  if (x.size() < 2) return fit;
  const double mx = mean(x);
  const double my = mean(y);
  double sxx = 0.0;
  double sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 0.0)) return fit;
  fit.slope = sxy / sxx;
  fit.intercept = my - fit.slope * mx;
  fit.ok = std::isfinite(fit.slope) && std::isfinite(fit.intercept);
  return fit;
}

LinearFit fit_affine(std::span<const double> g, std::span<const double> y) { return AffineFit(y)(g); }

AffineFit::AffineFit(std::span<const double> y) : my_(mean(y)), dy_(y.size()) {
  for (std::size_t i = 0; i < y.size(); ++i) dy_[i] = y[i] - my_;
}

LinearFit AffineFit::operator()(std::span<const double> g) const {
  LinearFit fit;
  const std::size_t n = g.size();
  if (n < 2) return fit;
  const double mg = mean(g);
  if (!std::isfinite(mg)) return fit;
  double sgg = 0.0;
  double sgy = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dg = g[i] - mg;
    sgg += dg * dg;
    sgy += dg * dy_[i];
  }
  // A basis column that is constant to rounding makes the offset and scale inseparable.
  if (!(sgg > 1e-24 * (mg * mg) * static_cast<double>(n)) || !std::isfinite(sgg)) return fit;
  fit.scale = sgy / sgg;
  fit.offset = my_ - fit.scale * mg;
  // From residuals: the shortcut sum(dy^2) - scale*sgy cancels badly near a good fit, exactly
  // where the searches need resolution.
  double rss = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = dy_[i] - fit.scale * (g[i] - mg);
    rss += r * r;
  }
  fit.rss = rss;
  return fit;
}

LinearFit fit_scale(std::span<const double> g, std::span<const double> y) {
  LinearFit fit;
  double sgg = 0.0;
  double sgy = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    sgg += g[i] * g[i];
    sgy += g[i] * y[i];
  }
  if (!(sgg > 0.0) || !std::isfinite(sgg)) return fit;
  fit.scale = sgy / sgg;
  double rss = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double r = y[i] - fit.scale * g[i];
    rss += r * r;
  }
  fit.rss = rss;
  return fit;
}

double first_crossing(std::span<const double> x, std::span<const double> y, double level) {
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double a = y[i] - level;
    const double b = y[i + 1] - level;
    if (a == 0.0) return x[i];
    if ((a < 0.0) != (b < 0.0)) return x[i] + (x[i + 1] - x[i]) * a / (a - b);
  }
  if (!x.empty() && y.back() == level) return x.back();
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace parafit::detail
