// batch_test_data.h — the batch tests' data: jittered curves of each built-in family.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "parafit/batch.h"
#include "parafit/model.h"

namespace parafit::testing_batch {

struct Family {
  std::string model;
  std::vector<double> theta;  // a typical truth; each fit jitters it
  double lo, hi;              // x range
  double noise;               // sd relative to the curve's range
};

inline std::vector<Family> families() {
  return {
      {"exp-decay", {5.0, 0.7, 1.5}, 0.0, 8.0, 0.02},
      {"exp-growth", {2.0, 0.3}, 0.0, 10.0, 0.02},
      {"log", {1.0, 2.0}, 0.5, 50.0, 0.02},
      {"power", {3.0, 0.6}, 0.1, 100.0, 0.02},
      {"logistic4", {100.0, 2.0, 10.0, 5.0}, 0.5, 60.0, 0.02},
      {"gauss", {5.0, 3.0, 0.8, 1.0}, -1.0, 7.0, 0.02},
      {"michaelis-menten", {10.0, 2.0}, 0.0, 20.0, 0.02},
      {"gompertz", {50.0, 8.0, 0.5}, 0.0, 15.0, 0.02},
      {"asymptotic", {10.0, 2.0, std::log(0.5)}, 0.0, 10.0, 0.02},
      {"poly:2", {1.0, -2.0, 0.5}, -3.0, 3.0, 0.02},
  };
}

// `fits` curves of `n` points of one family, each with its own jittered truth and noise.
inline BatchData make_batch(const Model& model, const Family& fam, std::size_t fits, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> jitter(0.8, 1.2), ux(fam.lo, fam.hi);
  std::normal_distribution<double> noise(0.0, 1.0);
  BatchData d;
  d.inputs.resize(1);
  for (std::size_t k = 0; k < fits; ++k) {
    std::vector<double> theta = fam.theta;
    for (double& t : theta) t *= jitter(rng);
    std::vector<double> x(n), f(n);
    for (double& v : x) v = ux(rng);
    const double* in[] = {x.data()};
    model.evaluate(theta.data(), RowBlock{n, in}, f.data(), nullptr, 0);
    const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
    const double sd = fam.noise * std::max(*hi - *lo, 1e-3);
    for (std::size_t i = 0; i < n; ++i) {
      d.inputs[0].push_back(x[i]);
      d.y.push_back(f[i] + sd * noise(rng));
    }
    d.offsets.push_back(d.y.size());
  }
  return d;
}

// `a` with the fits of `b` inserted before fit `at` of `a` (a batch whose point counts differ).
inline BatchData insert_fits(const BatchData& a, const BatchData& b, std::size_t at) {
  BatchData mixed = a;
  const std::size_t row = a.offsets[at], rows = b.y.size();
  mixed.y.insert(mixed.y.begin() + std::ptrdiff_t(row), b.y.begin(), b.y.end());
  mixed.inputs[0].insert(mixed.inputs[0].begin() + std::ptrdiff_t(row), b.inputs[0].begin(), b.inputs[0].end());
  std::vector<std::size_t> offsets(a.offsets.begin(), a.offsets.begin() + std::ptrdiff_t(at) + 1);
  for (std::size_t k = 1; k < b.offsets.size(); ++k) offsets.push_back(row + b.offsets[k]);
  for (std::size_t k = at + 1; k < a.offsets.size(); ++k) offsets.push_back(a.offsets[k] + rows);
  mixed.offsets = offsets;
  return mixed;
}

}  // namespace parafit::testing_batch
