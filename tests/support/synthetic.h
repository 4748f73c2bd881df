// Synthetic data for tests: y = f(x; theta) + N(0, sd^2), deterministic for a seed.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "parafit/dataset.h"
#include "parafit/model.h"

namespace parafit::testing {

struct Synthetic {
  std::vector<double> x, y, w;
};

inline Synthetic make_synthetic(const Model& model, const std::vector<double>& theta, std::size_t n,
                                double lo, double hi, double sd, std::uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ux(lo, hi);
  std::normal_distribution<double> noise(0.0, sd);
  std::uniform_real_distribution<double> uw(0.2, 3.0);
  Synthetic s;
  s.x.resize(n);
  s.y.resize(n);
  s.w.resize(n);
  for (auto& v : s.x) v = ux(rng);
  const double* in[] = {s.x.data()};
  model.evaluate(theta.data(), RowBlock{n, in}, s.y.data(), nullptr, 0);
  for (std::size_t i = 0; i < n; ++i) {
    s.w[i] = uw(rng);
    s.y[i] += sd > 0 ? noise(rng) : 0.0;
  }
  return s;
}

inline Dataset to_dataset(const Synthetic& s, bool with_weights = false) {
  Dataset d;
  d.add_column("x", s.x);
  d.add_column("y", s.y);
  if (with_weights) d.add_column("w", s.w);
  return d;
}

}  // namespace parafit::testing
