// The normal-equations kernel (solve/normal_equations.cpp, solve/gram_block.cpp): RSS,
// g = J^T W r and H = J^T W J against a long double reference, and its promise of the same bits
// whichever SIMD target runs it (each available one forced with simd::ScopedTarget, against the
// SCALAR target and against a plain scalar rendering of the summation order), however many
// threads run it, and whether the sums are taken in one pass (up to 3 free parameters) or in
// tiles (more).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "parafit/fit.h"
#include "parafit/model.h"
#include "parafit/problem.h"
#include "simd/target.h"
#include "solve/normal_equations.h"
#include "support/synthetic.h"

namespace parafit::detail {
namespace {

// A model that hands the kernel arbitrary data: input 0 is f, input 1 + j is column j of J.
class ColumnsModel final : public Model {
 public:
  explicit ColumnsModel(std::size_t p) : names_(p) {
    for (std::size_t j = 0; j < p; ++j) names_[j] = "t" + std::to_string(j);
  }
  std::string name() const override { return "columns"; }
  std::string formula() const override { return "input 0"; }
  const std::vector<std::string>& parameter_names() const override { return names_; }
  std::size_t num_inputs() const override { return names_.size() + 1; }
  void evaluate(const double*, const RowBlock& block, double* f, double* J,
                std::size_t ldj) const override {
    std::memcpy(f, block.inputs[0], block.size * sizeof(double));
    if (J == nullptr) return;
    for (std::size_t j = 0; j < names_.size(); ++j)
      std::memcpy(J + j * ldj, block.inputs[1 + j], block.size * sizeof(double));
  }
  std::vector<double> initial_values(std::span<const std::span<const double>>,
                                     std::span<const double>) const override {
    return std::vector<double>(names_.size(), 0.0);
  }

 private:
  std::vector<std::string> names_;
};

// Rows of y, f, J columns of different scales and signs, and weights; r = y - f is small next to
// f, as near a solution.
struct Data {
  std::size_t p;
  std::vector<std::vector<double>> in;  // f, then the p columns of J
  std::vector<double> y, w;
  ColumnsModel model;

  Data(std::size_t p_, std::size_t rows, std::uint64_t seed) : p(p_), in(p_ + 1), model(p_) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> z;
    std::uniform_real_distribution<double> uw(0.1, 4.0);
    for (std::size_t k = 0; k <= p; ++k) {
      const double scale = std::ldexp(1.0, int(k % 5) * 3 - 6);
      const double offset = k % 3 == 1 ? 2.0 * scale : 0.0;
      in[k].resize(rows);
      for (auto& v : in[k]) v = offset + scale * z(rng);
    }
    y.resize(rows);
    w.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      y[i] = in[0][i] + 0.01 * z(rng);
      w[i] = uw(rng);
    }
  }

  Problem problem(bool weighted) const {
    Problem pr;
    pr.model = &model;
    for (const auto& c : in) pr.inputs.emplace_back(c);
    pr.y = y;
    if (weighted) pr.weights = w;
    return pr;
  }
};

Context context(int threads, std::size_t chunk_rows = Context{}.chunk_rows) {
  Context ctx;
  ctx.threads = threads;
  ctx.chunk_rows = chunk_rows;
  return ctx;
}

// All sums in the kernel's layout: rss, g, H's upper triangle.
std::vector<double> flatten(const NormalEquations& ne) {
  std::vector<double> out{ne.rss};
  for (Eigen::Index a = 0; a < ne.g.size(); ++a) out.push_back(ne.g(a));
  for (Eigen::Index a = 0; a < ne.H.rows(); ++a)
    for (Eigen::Index c = a; c < ne.H.cols(); ++c) {
      EXPECT_EQ(std::bit_cast<std::uint64_t>(ne.H(a, c)), std::bit_cast<std::uint64_t>(ne.H(c, a)));
      out.push_back(ne.H(a, c));
    }
  return out;
}

NormalEquations run(const Problem& pr, const Context& ctx, const std::vector<std::size_t>& columns,
                    const simd::TargetInfo& target = simd::active_target()) {
  const simd::ScopedTarget force(target);
  const std::vector<double> theta(pr.model->num_parameters(), 0.0);
  return accumulate_normal_equations(pr, ctx, theta, columns);
}

::testing::AssertionResult same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (std::size_t k = 0; k < a.size(); ++k)
    if (std::bit_cast<std::uint64_t>(a[k]) != std::bit_cast<std::uint64_t>(b[k]))
      return ::testing::AssertionFailure()
             << "sum " << k << ": " << std::hexfloat << a[k] << " vs " << b[k];
  return ::testing::AssertionSuccess();
}

// Row counts that are not multiples of the lanes (4), the block (256) or the chunk (8192).
const std::size_t kRows[] = {1, 3, 6, 255, 257, 1029, 8195, 20011};

// The chosen columns: all, or every one but the second (fixed parameters), in order.
std::vector<std::vector<std::size_t>> column_sets(std::size_t p) {
  std::vector<std::size_t> all(p), most;
  for (std::size_t j = 0; j < p; ++j) {
    all[j] = j;
    if (j != 1) most.push_back(j);
  }
  std::vector<std::vector<std::size_t>> sets{all};
  if (p > 1) sets.push_back(most);
  return sets;
}

// The summation order the kernel promises, written out in scalar code for one chunk: per block of
// kBlockRows rows, row i of the block adds (w v_k) v_l (v_k v_l unweighted) into lane i mod 4 of
// the block's lanes, which start at zero and are added into the chunk's lanes at the block's end;
// the chunk's lanes are combined as (l0 + l1) + (l2 + l3). Sums in the kernel's layout.
std::vector<double> reference_sums(const Data& d, bool weighted, const std::vector<std::size_t>& cols) {
  const std::size_t rows = d.y.size();
  std::vector<double> r(rows);
  for (std::size_t i = 0; i < rows; ++i) r[i] = d.y[i] - d.in[0][i];
  std::vector<const double*> v{r.data()};
  for (const std::size_t j : cols) v.push_back(d.in[1 + j].data());
  std::vector<double> out;
  for (std::size_t a = 0; a < v.size(); ++a)
    for (std::size_t c = a; c < v.size(); ++c) {
      double chunk[4] = {0, 0, 0, 0};
      for (std::size_t b = 0; b < rows; b += kBlockRows) {
        double block[4] = {0, 0, 0, 0};
        for (std::size_t i = b; i < std::min(rows, b + kBlockRows); ++i) {
          const double u = weighted ? d.w[i] * v[a][i] : v[a][i];
          block[(i - b) % 4] = block[(i - b) % 4] + u * v[c][i];
        }
        for (int l = 0; l < 4; ++l) chunk[l] = chunk[l] + block[l];
      }
      out.push_back((chunk[0] + chunk[1]) + (chunk[2] + chunk[3]));
    }
  return out;
}

const simd::TargetInfo& scalar_target() {
  static const simd::TargetInfo t = simd::find_target("scalar");
  return t;
}

// Every target, in one chunk, has the bits of the scalar rendering of the summation order: odd
// row counts (tails of 1..3 rows), weights, 1..3 chosen columns (one pass) and more (tiles).
TEST(NormalEquations, EveryTargetGivesTheBitsOfTheScalarSummationOrder) {
  std::uint64_t seed = 700;
  for (const std::size_t p : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4},
                              std::size_t{5}, std::size_t{7}, std::size_t{10}}) {
    for (const std::size_t rows : kRows) {
      const Data d(p, rows, ++seed);
      for (const bool weighted : {false, true}) {
        const Problem pr = d.problem(weighted);
        for (const auto& cols : column_sets(p)) {
          const auto want = reference_sums(d, weighted, cols);
          for (const simd::TargetInfo& t : simd::available_targets()) {
            SCOPED_TRACE(t.name + " p=" + std::to_string(p) + " rows=" + std::to_string(rows) +
                         " weighted=" + std::to_string(weighted) + " q=" + std::to_string(cols.size()));
            EXPECT_TRUE(same_bits(want, flatten(run(pr, context(1, 1 << 20), cols, t))));
          }
        }
      }
    }
  }
}

// Every target against the SCALAR target, however many threads and whatever the chunks.
TEST(NormalEquations, EveryTargetAndAnyThreadCountGiveTheBitsOfTheScalarTarget) {
  std::uint64_t seed = 100;
  for (std::size_t p = 1; p <= 10; ++p) {
    for (const std::size_t rows : kRows) {
      const Data d(p, rows, ++seed);
      for (const bool weighted : {false, true}) {
        const Problem pr = d.problem(weighted);
        for (const auto& cols : column_sets(p)) {
          SCOPED_TRACE("p=" + std::to_string(p) + " rows=" + std::to_string(rows) +
                       " weighted=" + std::to_string(weighted) + " q=" + std::to_string(cols.size()));
          const auto base = flatten(run(pr, context(1), cols, scalar_target()));
          // Small chunks that end mid-group of 4 rows: more chunks than threads.
          const auto small = flatten(run(pr, context(1, 103), cols, scalar_target()));
          for (const simd::TargetInfo& t : simd::available_targets()) {
            SCOPED_TRACE(t.name);
            EXPECT_TRUE(same_bits(base, flatten(run(pr, context(1), cols, t))));
            EXPECT_TRUE(same_bits(base, flatten(run(pr, context(3), cols, t))));
            EXPECT_TRUE(same_bits(small, flatten(run(pr, context(2, 103), cols, t))));
          }
        }
      }
    }
  }
}

// residual_sum_of_squares on every target: the bits of the SCALAR target.
TEST(NormalEquations, ResidualSumOfSquaresIsTheSameOnEveryTarget) {
  for (const std::size_t rows : {std::size_t{1}, std::size_t{7}, std::size_t{1029}, std::size_t{20011}}) {
    const Data d(2, rows, rows + 1);
    for (const bool weighted : {false, true}) {
      const Problem pr = d.problem(weighted);
      const std::vector<double> theta(2, 0.0);
      const auto rss_on = [&](const simd::TargetInfo& t) {
        const simd::ScopedTarget force(t);
        return residual_sum_of_squares(pr, context(2), theta);
      };
      const double want = rss_on(scalar_target());
      for (const simd::TargetInfo& t : simd::available_targets())
        EXPECT_EQ(std::bit_cast<std::uint64_t>(want), std::bit_cast<std::uint64_t>(rss_on(t)))
            << t.name << " rows=" << rows << " weighted=" << weighted;
    }
  }
}

// Each sum against long double accumulation of the same double products' exact values. The bound
// is rigorous: a term sees at most 2 roundings in its product, 64 in its block's lane, 32 in its
// chunk's lane, 2 combining the lanes (chunks add exactly) and 1 at the end; 128 eps of the sum of
// the terms' magnitudes covers them.
TEST(NormalEquations, MatchLongDoubleReference) {
  constexpr double kTolerance = 128 * std::numeric_limits<double>::epsilon();
  std::uint64_t seed = 500;
  for (std::size_t p = 1; p <= 10; ++p) {
    for (const std::size_t rows : kRows) {
      const Data d(p, rows, ++seed);
      for (const bool weighted : {false, true}) {
        const Problem pr = d.problem(weighted);
        for (const auto& cols : column_sets(p)) {
          SCOPED_TRACE("p=" + std::to_string(p) + " rows=" + std::to_string(rows) +
                       " weighted=" + std::to_string(weighted) + " q=" + std::to_string(cols.size()));
          const auto got = flatten(run(pr, context(2), cols));
          // Columns of the Gram matrix: r, then the chosen J columns.
          std::vector<const double*> v{nullptr};
          for (const std::size_t j : cols) v.push_back(d.in[1 + j].data());
          std::vector<double> r(rows);
          for (std::size_t i = 0; i < rows; ++i) r[i] = d.y[i] - d.in[0][i];
          v[0] = r.data();
          std::size_t k = 0;
          for (std::size_t a = 0; a < v.size(); ++a)
            for (std::size_t c = a; c < v.size(); ++c, ++k) {
              long double sum = 0, magnitude = 0;
              for (std::size_t i = 0; i < rows; ++i) {
                const long double term = (weighted ? static_cast<long double>(d.w[i]) : 1.0L) *
                                         v[a][i] * v[c][i];
                sum += term;
                magnitude += std::fabs(term);
              }
              ASSERT_LT(k, got.size());
              EXPECT_LE(std::fabs(static_cast<long double>(got[k]) - sum),
                        kTolerance * magnitude)
                  << "S(" << a << ", " << c << ") = " << got[k] << ", reference "
                  << static_cast<double>(sum);
            }
          EXPECT_EQ(k, got.size());
        }
      }
    }
  }
}

// residual_sum_of_squares takes the same sums as the normal equations' rss: the same bits.
TEST(NormalEquations, ResidualSumOfSquaresIsTheNormalEquationsRss) {
  for (const std::size_t rows : {std::size_t{5}, std::size_t{1029}, std::size_t{20011}}) {
    const Data d(3, rows, rows);
    for (const bool weighted : {false, true}) {
      const Problem pr = d.problem(weighted);
      const std::vector<double> theta(3, 0.0);
      for (const std::size_t q : {std::size_t{3}, std::size_t{0}}) {
        std::vector<std::size_t> cols;
        for (std::size_t j = 0; j < q; ++j) cols.push_back(j);
        const double rss = residual_sum_of_squares(pr, context(2), theta);
        const NormalEquations ne = accumulate_normal_equations(pr, context(2), theta, cols);
        EXPECT_EQ(std::bit_cast<std::uint64_t>(rss), std::bit_cast<std::uint64_t>(ne.rss));
      }
    }
  }
  // Ten parameters take the tiled kernel; its rss is the one-pass kernel's.
  const Data d(10, 1029, 9);
  const Problem pr = d.problem(true);
  const std::vector<double> theta(10, 0.0);
  const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(std::bit_cast<std::uint64_t>(residual_sum_of_squares(pr, context(1), theta)),
            std::bit_cast<std::uint64_t>(accumulate_normal_equations(pr, context(1), theta, all).rss));
}

TEST(NormalEquations, NonFiniteValuesPropagate) {
  Data d(2, 300, 3);
  d.in[0][258] = std::numeric_limits<double>::quiet_NaN();  // f at one row of the second block
  d.in[2][7] = std::numeric_limits<double>::infinity();     // J column 1 at one row
  const Problem pr = d.problem(false);
  const NormalEquations ne = run(pr, context(1), {0, 1});
  EXPECT_TRUE(std::isnan(ne.rss));
  EXPECT_TRUE(std::isnan(ne.g(0)));
  EXPECT_TRUE(std::isinf(ne.H(1, 1)));
  EXPECT_TRUE(std::isfinite(ne.H(0, 0)));
}

// A whole fit gives the same result on every target (the kernels and the model loops), through
// the one-pass kernel (exp-decay) and the tiled one (poly:5, six parameters).
TEST(NormalEquations, FitsAreIdenticalOnEveryTarget) {
  struct Case {
    const char* model;
    std::vector<double> theta;
    double lo, hi;
  };
  const Case cases[] = {{"exp-decay", {2.5, 1.3, 0.5}, 0.0, 5.0},
                        {"poly:5", {0.5, -1.0, 0.3, 0.2, -0.05, 0.01}, -2.0, 2.0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.model);
    const auto m = make_builtin_model(c.model);
    const auto s = parafit::testing::make_synthetic(*m, c.theta, 5003, c.lo, c.hi, 0.05);
    FitSpec spec;
    spec.model = c.model;
    spec.weights = "w";
    std::vector<std::vector<double>> estimates;
    for (const simd::TargetInfo& t : simd::available_targets()) {
      const simd::ScopedTarget force(t);
      const FitResult r = fit(parafit::testing::to_dataset(s, true), spec, context(2));
      ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
      std::vector<double> e = r.summary.parameters;
      e.push_back(r.summary.final_rss);
      estimates.push_back(e);
    }
    for (std::size_t k = 1; k < estimates.size(); ++k)
      EXPECT_TRUE(same_bits(estimates[0], estimates[k])) << simd::available_targets()[k].name;
  }
}

}  // namespace
}  // namespace parafit::detail
