#include "solve/normal_equations.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace parafit::detail {
namespace {

// A fixed-order SIMD dot product; `omp simd` lets the compiler reassociate this one loop (without
// -ffast-math elsewhere), and the order it picks is fixed for a build, so results stay reproducible.
inline double dot(const double* a, const double* b, std::size_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Pointers to the inputs of rows [begin, begin+n) for a model call.
struct BlockInputs {
  std::array<const double*, 8> small{};
  std::vector<const double*> large;
  const double* const* bind(const Problem& problem, std::size_t begin) {
    const std::size_t k = problem.inputs.size();
    const double** out = small.data();
    if (k > small.size()) {
      large.resize(k);
      out = large.data();
    }
    for (std::size_t c = 0; c < k; ++c) out[c] = problem.inputs[c].data() + begin;
    return out;
  }
};

// r = y - f and wr = w * r for rows [b, b+n); returns sum w r^2 for the block.
inline double residuals(const Problem& problem, std::size_t b, std::size_t n, const double* f, double* r,
                        double* wr) {
  const double* y = problem.y.data() + b;
  for (std::size_t i = 0; i < n; ++i) r[i] = y[i] - f[i];
  if (!problem.weights.empty()) {
    const double* w = problem.weights.data() + b;
    for (std::size_t i = 0; i < n; ++i) wr[i] = w[i] * r[i];
  } else {
    std::copy_n(r, n, wr);
  }
  return dot(r, wr, n);
}

}  // namespace

NormalEquations accumulate_normal_equations(const Problem& problem, const Context& ctx,
                                            std::span<const double> theta,
                                            std::span<const std::size_t> columns) {
  const Model& model = *problem.model;
  const std::size_t p = model.num_parameters();
  const std::size_t q = columns.size();
  // Layout of the sums: [rss, g_0..g_{q-1}, H upper triangle row by row].
  const std::size_t width = 1 + q + q * (q + 1) / 2;
  const bool weighted = !problem.weights.empty();

  auto chunk = [&](std::size_t begin, std::size_t end, std::span<double> partial) {
    std::vector<double> f(kBlockRows), r(kBlockRows), wr(kBlockRows), wj(kBlockRows);
    std::vector<double> J(kBlockRows * p);
    BlockInputs inputs;
    for (std::size_t b = begin; b < end; b += kBlockRows) {
      const std::size_t n = std::min(kBlockRows, end - b);
      model.evaluate(theta.data(), RowBlock{n, inputs.bind(problem, b)}, f.data(), J.data(),
                     kBlockRows);
      partial[0] += residuals(problem, b, n, f.data(), r.data(), wr.data());
      std::size_t h = 1 + q;
      for (std::size_t a = 0; a < q; ++a) {
        const double* ja = J.data() + columns[a] * kBlockRows;
        partial[1 + a] += dot(ja, wr.data(), n);
        const double* wja = ja;
        if (weighted) {
          const double* w = problem.weights.data() + b;
          for (std::size_t i = 0; i < n; ++i) wj[i] = w[i] * ja[i];
          wja = wj.data();
        }
        for (std::size_t c = a; c < q; ++c)
          partial[h++] += dot(wja, J.data() + columns[c] * kBlockRows, n);
      }
    }
  };
  const std::vector<double> sums = chunked_sum(ctx, problem.rows(), width, chunk);

  NormalEquations ne;
  ne.rss = sums[0];
  ne.g = Eigen::Map<const Eigen::VectorXd>(sums.data() + 1, static_cast<Eigen::Index>(q));
  ne.H.resize(static_cast<Eigen::Index>(q), static_cast<Eigen::Index>(q));
  std::size_t h = 1 + q;
  for (std::size_t a = 0; a < q; ++a)
    for (std::size_t c = a; c < q; ++c) {
      ne.H(Eigen::Index(a), Eigen::Index(c)) = sums[h];
      ne.H(Eigen::Index(c), Eigen::Index(a)) = sums[h];
      ++h;
    }
  return ne;
}

double residual_sum_of_squares(const Problem& problem, const Context& ctx,
                               std::span<const double> theta) {
  const Model& model = *problem.model;
  auto chunk = [&](std::size_t begin, std::size_t end, std::span<double> partial) {
    std::vector<double> f(kBlockRows), r(kBlockRows), wr(kBlockRows);
    BlockInputs inputs;
    for (std::size_t b = begin; b < end; b += kBlockRows) {
      const std::size_t n = std::min(kBlockRows, end - b);
      model.evaluate(theta.data(), RowBlock{n, inputs.bind(problem, b)}, f.data(), nullptr, 0);
      partial[0] += residuals(problem, b, n, f.data(), r.data(), wr.data());
    }
  };
  return chunked_sum(ctx, problem.rows(), 1, chunk)[0];
}

std::size_t first_nonfinite_row(const Problem& problem, std::span<const double> theta) {
  std::vector<double> f(kBlockRows);
  BlockInputs inputs;
  for (std::size_t b = 0; b < problem.rows(); b += kBlockRows) {
    const std::size_t n = std::min(kBlockRows, problem.rows() - b);
    problem.model->evaluate(theta.data(), RowBlock{n, inputs.bind(problem, b)}, f.data(), nullptr, 0);
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(f[i])) return b + i;
  }
  return problem.rows();
}

}  // namespace parafit::detail
