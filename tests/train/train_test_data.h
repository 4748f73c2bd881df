// Synthetic data for the training tests.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/error.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "parallel/strata.h"

namespace parafit::test {

// y = 2.5 exp(-1.3 x) + 0.5 + N(0, sd^2), x ~ U[0, 5].
inline Dataset exp_decay_data(std::size_t rows, double sd = 0.05, std::uint64_t seed = 42) {
  detail::Rng rng(seed);
  std::vector<double> x(rows), y(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    x[i] = 5.0 * rng.uniform();
    y[i] = 2.5 * std::exp(-1.3 * x[i]) + 0.5 + sd * rng.normal();
  }
  Dataset d;
  d.add_column("x", std::move(x));
  d.add_column("y", std::move(y));
  return d;
}

// Rows [first, last) of `data`: one rank's shard.
inline Dataset rows_of(const Dataset& data, std::size_t first, std::size_t last) {
  Dataset out;
  for (std::size_t c = 0; c < data.num_columns(); ++c) {
    const auto col = data.column(c);
    out.add_column(data.names()[c], std::vector<double>(col.begin() + std::ptrdiff_t(first),
                                                        col.begin() + std::ptrdiff_t(last)));
  }
  return out;
}

// y = sin(3 x0) + x1 x2 + 0.5 x3^2 - x4 (+ noise), inputs ~ U[-1, 1]: a small W3.
inline Dataset w3_data(std::size_t rows, std::size_t inputs = 5, std::uint64_t seed = 9) {
  detail::Rng rng(seed);
  std::vector<std::vector<double>> x(inputs, std::vector<double>(rows));
  std::vector<double> y(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t k = 0; k < inputs; ++k) x[k][i] = 2.0 * rng.uniform() - 1.0;
    y[i] = std::sin(3 * x[0][i]) + x[1][i] * x[2][i] + 0.5 * x[3][i] * x[3][i] - x[4][i] + 0.01 * rng.normal();
  }
  Dataset d;
  for (std::size_t k = 0; k < inputs; ++k) d.add_column("x" + std::to_string(k), std::move(x[k]));
  d.add_column("y", std::move(y));
  return d;
}

// Every rank's result of training on `ranks` in-process ranks (parafit/thread_communicator.h),
// `threads` each, rank r given an uneven share of the rows (train() moves them into strata).
inline std::vector<TrainResult> train_on_ranks(const Dataset& data, const TrainSpec& spec, int ranks, int threads = 1,
                                              const TrainCallback& callback = {}) {
  std::vector<TrainResult> out(static_cast<std::size_t>(ranks));
  run_ranks(ranks, [&](Communicator& comm) {
    const std::size_t r = std::size_t(comm.rank()), k = std::size_t(ranks);
    const std::size_t first = data.rows() * r / k + (r > 0 ? 7 : 0);
    const std::size_t last = r + 1 == k ? data.rows() : data.rows() * (r + 1) / k + 7;
    out[r] = train(rows_of(data, first, last), spec, Context{.threads = threads, .communicator = &comm}, callback);
  });
  return out;
}

// The message validate() refuses `spec` with, or "(accepted)".
inline std::string refusal(const TrainSpec& spec) {
  try {
    validate(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace parafit::test
