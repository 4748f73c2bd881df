// W2's data (issue 13): Gaussian peaks a*exp(-(x-mu)^2/(2 s^2)) + c on x = 0..31 with Poisson
// noise, one curve per fit, seeded. Shared by bench_w2 and the Cpufit anchor
// (bench/compare/cpufit_w2.cpp), so both fit the same counts: the same generator and the same
// libstdc++ distributions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace parafit::bench {

struct W2Data {
  std::size_t fits = 0, points = 32;
  std::vector<double> y;      // fits x points, row by row
  std::vector<double> truth;  // fits x 4: a, mu, s, c
  std::vector<double> start;  // fits x 4: max(y), argmax, 3, min(y)
};

inline W2Data make_w2(std::size_t fits, std::uint64_t seed = 2026) {
  W2Data d;
  d.fits = fits;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> amp(500, 1500), mu(12, 20), width(2, 5), off(10, 50);
  d.y.resize(fits * d.points);
  d.truth.resize(fits * 4);
  d.start.resize(fits * 4);
  for (std::size_t k = 0; k < fits; ++k) {
    const double a = amp(rng), m = mu(rng), s = width(rng), c = off(rng);
    double* t = &d.truth[k * 4];
    t[0] = a, t[1] = m, t[2] = s, t[3] = c;
    double* y = &d.y[k * d.points];
    for (std::size_t i = 0; i < d.points; ++i) {
      const double x = double(i), z = (x - m) / s;
      y[i] = double(std::poisson_distribution<long>(a * std::exp(-0.5 * z * z) + c)(rng));
    }
    const auto top = std::max_element(y, y + d.points);
    double* st = &d.start[k * 4];
    st[0] = *top, st[1] = double(top - y), st[2] = 3.0, st[3] = *std::min_element(y, y + d.points);
  }
  return d;
}

// The median over fits of |estimate - truth| / |truth| per parameter, over the fits `ok` marks.
inline std::vector<double> median_relative_errors(const W2Data& d, const std::vector<double>& estimates,
                                                  const std::vector<bool>& ok) {
  std::vector<double> med(4);
  for (std::size_t j = 0; j < 4; ++j) {
    std::vector<double> e;
    for (std::size_t k = 0; k < d.fits; ++k)
      if (ok[k]) e.push_back(std::abs(estimates[k * 4 + j] - d.truth[k * 4 + j]) / std::abs(d.truth[k * 4 + j]));
    if (e.empty()) continue;
    std::nth_element(e.begin(), e.begin() + std::ptrdiff_t(e.size() / 2), e.end());
    med[j] = e[e.size() / 2];
  }
  return med;
}

}  // namespace parafit::bench
