// Tensor-parallel slices of the MLP (src/model/mlp_tensor.h): the plan's slices put back together
// are the whole network; one slice is MlpCompute bit for bit; T slices on in-process ranks give
// MlpCompute's outputs and gradient to rounding (the partial sums round differently), the same
// bits on every slice, and a gradient cut into pieces equals the pieces' separate folds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "model/mlp_compute.h"
#include "model/mlp_tensor.h"
#include "parafit/thread_communicator.h"

namespace parafit::detail {
namespace {

std::vector<double> random_values(std::size_t n, unsigned seed, double scale = 0.5) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

template <class T>
std::vector<T> narrow(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

TEST(TensorPlan, SlicesPutTogetherAreTheWholeNetwork) {
  for (const auto& widths : std::vector<std::vector<std::size_t>>{
           {5, 16, 12, 1}, {3, 7, 1}, {4, 9, 9, 9, 1}, {6, 1}, {2, 11, 5, 8, 7, 1}}) {
    const MlpShape shape{widths, Activation::kTanh};
    const std::vector<double> whole = random_values(shape.num_parameters(), 3);
    for (std::size_t slices = 1; slices <= std::min<std::size_t>(4, TensorPlan::max_slices(shape)); ++slices) {
      std::vector<double> back(whole.size(), std::nan(""));
      std::size_t total = 0, replicated = 0;
      for (std::size_t t = 0; t < slices; ++t) {
        const TensorPlan plan(shape, slices, t);
        const std::vector<double> mine = plan.take(whole);
        ASSERT_EQ(mine.size(), plan.num_parameters());
        plan.put(mine, back);
        total += mine.size();
        replicated = 0;
        for (const TensorLayer& l : plan.layers())
          if (l.split == TensorSplit::kReplicated) replicated += l.count();
      }
      EXPECT_EQ(back, whole) << widths.size() << " widths, " << slices << " slices";
      // Every parameter on one slice, but a whole (replicated) layer's on each.
      EXPECT_EQ(total, whole.size() + (slices - 1) * replicated);
    }
  }
  // Pairs from the output back; an odd count leaves the first layer whole.
  const TensorPlan odd(MlpShape{{5, 16, 12, 1}, Activation::kTanh}, 2, 1);
  EXPECT_EQ(odd.layers()[0].split, TensorSplit::kReplicated);
  EXPECT_EQ(odd.layers()[1].split, TensorSplit::kColumns);
  EXPECT_EQ(odd.layers()[2].split, TensorSplit::kRows);
  EXPECT_EQ(odd.layers()[1].lo, 6u);
  EXPECT_EQ(odd.layers()[1].hi, 12u);
  EXPECT_FALSE(odd.layers()[2].has_bias);  // a row layer's bias lives on slice 0
  EXPECT_EQ(TensorPlan::max_slices(MlpShape{{5, 16, 12, 1}, Activation::kTanh}), 12u);
  // One layer is never split: any number of slices hold it whole.
  EXPECT_EQ(TensorPlan::max_slices(MlpShape{{5, 1}, Activation::kTanh}), std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(TensorPlan(MlpShape{{5, 1}, Activation::kTanh}, 3, 2).num_parameters(), 6u);
  EXPECT_THROW(TensorPlan(MlpShape{{5, 16, 12, 1}, Activation::kTanh}, 13, 0), std::invalid_argument);
  EXPECT_THROW(TensorPlan(MlpShape{{5, 16, 12, 1}, Activation::kTanh}, 2, 2), std::invalid_argument);
}

// Every slice's outputs and its gradient put into the whole layout, with `slices` ranks as threads.
template <class T>
struct SlicedRun {
  std::vector<std::vector<T>> f;       // per slice
  std::vector<std::vector<double>> g;  // per slice, the whole layout (other slices' entries 0)
};

template <class T>
SlicedRun<T> run_slices(const MlpShape& shape, std::size_t slices, const std::vector<double>& whole,
                        const std::vector<T>& X, const std::vector<T>& y, std::size_t rows, std::size_t cut) {
  SlicedRun<T> out;
  out.f.resize(slices);
  out.g.resize(slices);
  ThreadGroup(int(slices)).run([&](Communicator& comm) {
    const auto t = std::size_t(comm.rank());
    const TensorPlan plan(shape, slices, t);
    std::vector<T> gathered;
    TensorMlpCompute<T> compute(plan, [&](std::span<T> partial) {
      gathered.resize(slices * partial.size());
      comm.allgather<T>(partial, gathered);
      for (std::size_t i = 0; i < partial.size(); ++i) {
        T acc = gathered[i];
        for (std::size_t s = 1; s < slices; ++s) acc = acc + gathered[s * partial.size() + i];
        partial[i] = acc;
      }
    });
    const std::vector<T> params = narrow<T>(plan.take(whole));
    compute.prepare(params.data());
    std::vector<T> f(rows), g1(plan.num_parameters()), g2(plan.num_parameters());
    LayerActivations<T> acts;
    const T* out_f = compute.forward(params.data(), rows, X.data(), shape.widths[0], acts);
    f.assign(out_f, out_f + rows);
    out.f[t] = f;
    for (std::size_t i = 0; i < rows; ++i) f[i] = f[i] - y[i];
    // Two pieces into two accumulators; rows past `cut` fold into the second.
    const typename TensorMlpCompute<T>::Piece pieces[] = {{0, cut, g1.data(), true}, {cut, rows, g2.data(), true}};
    compute.backward(rows, X.data(), shape.widths[0], acts, f.data(), pieces);
    std::vector<double> sum(plan.num_parameters());
    for (std::size_t k = 0; k < sum.size(); ++k) sum[k] = double(g1[k]) + double(g2[k]);
    out.g[t].assign(shape.num_parameters(), 0.0);
    plan.put(sum, out.g[t]);
  });
  return out;
}

template <class T>
void check_against_mlp_compute(double tolerance) {
  for (const Activation act : {Activation::kTanh, Activation::kGelu, Activation::kRelu}) {
    for (const auto& widths : std::vector<std::vector<std::size_t>>{{5, 16, 12, 1}, {4, 9, 10, 7, 1}}) {
      const MlpShape shape{widths, act};
      const std::size_t rows = 37, cut = 15;
      const std::vector<double> whole = random_values(shape.num_parameters(), 11);
      const std::vector<T> X = narrow<T>(random_values(rows * widths[0], 12, 1.0));
      const std::vector<T> y = narrow<T>(random_values(rows, 13, 1.0));
      const std::vector<T> params = narrow<T>(whole);
      MlpCompute<T> ref(shape);
      std::vector<T> f(rows), g1(shape.num_parameters()), g2(shape.num_parameters());
      ref.predict(params.data(), rows, X.data(), widths[0], f.data());
      ref.accumulate_gradient(params.data(), cut, X.data(), widths[0], y.data(), g1.data(), 0.0, true);
      ref.accumulate_gradient(params.data(), rows - cut, X.data() + cut * widths[0], widths[0], y.data() + cut,
                              g2.data(), 0.0, true);
      std::vector<double> g(shape.num_parameters());
      for (std::size_t k = 0; k < g.size(); ++k) g[k] = double(g1[k]) + double(g2[k]);
      double gscale = 0;
      for (double v : g) gscale = std::max(gscale, std::abs(v));
      for (std::size_t slices : {std::size_t(1), std::size_t(2), std::size_t(3)}) {
        const SlicedRun<T> run = run_slices<T>(shape, slices, whole, X, y, rows, cut);
        for (std::size_t t = 0; t < slices; ++t) {
          EXPECT_EQ(run.f[t], run.f[0]) << "slice " << t;  // the same bits on every slice
          for (std::size_t i = 0; i < rows; ++i) {
            if (slices == 1)
              EXPECT_EQ(run.f[t][i], f[i]);
            else
              EXPECT_NEAR(double(run.f[t][i]), double(f[i]), tolerance * (1 + std::abs(double(f[i]))));
          }
        }
        // Each slice's gradient entries (a whole layer's: on each slice, equal).
        for (std::size_t t = 0; t < slices; ++t) {
          const TensorPlan plan(shape, slices, t);
          const std::vector<double> mine_ref = plan.take(g);
          const std::vector<double> got = plan.take(run.g[t]);
          for (std::size_t k = 0; k < got.size(); ++k) {
            if (slices == 1)
              EXPECT_EQ(got[k], mine_ref[k]) << k;
            else
              EXPECT_NEAR(got[k], mine_ref[k], tolerance * gscale) << "slice " << t << " of " << slices << ", " << k;
          }
        }
      }
    }
  }
}

TEST(TensorMlpCompute, OneSliceIsMlpComputeAndMoreAgreeToRoundingDouble) { check_against_mlp_compute<double>(1e-13); }
TEST(TensorMlpCompute, OneSliceIsMlpComputeAndMoreAgreeToRoundingFloat) { check_against_mlp_compute<float>(2e-5); }

}  // namespace
}  // namespace parafit::detail
