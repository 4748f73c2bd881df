// MlpCompute (src/model/mlp_compute.h): the loss and predictions against a naive forward pass
// written here with std:: functions, the gradient against central finite differences of that
// reference loss, and the determinism promises: the same bits for any tile_rows, for rows split
// over several calls, and on every SIMD target; and the network cut into DenseLayers
// (src/model/mlp_layer.h) and run micro-batch by micro-batch, which gives the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

#include "model/mlp_compute.h"
#include "simd/target.h"

namespace parafit::detail {
namespace {

// The SIMD targets this machine runs (forced in turn with simd::ScopedTarget), best first.
std::vector<simd::TargetInfo> paths() { return simd::available_targets(); }

const char* name(const simd::TargetInfo& t) { return t.name.c_str(); }

const Activation kAllActivations[] = {Activation::kIdentity, Activation::kTanh, Activation::kRelu,
                                      Activation::kSigmoid, Activation::kGelu};

double act_ref(Activation act, double z) {
  switch (act) {
    case Activation::kIdentity: return z;
    case Activation::kTanh: return std::tanh(z);
    case Activation::kRelu: return z > 0 ? z : 0.0;
    case Activation::kSigmoid: return 1.0 / (1.0 + std::exp(-z));
    case Activation::kGelu: {
      const double u = std::sqrt(2.0 / std::numbers::pi) * (z + 0.044715 * z * z * z);
      return 0.5 * z * (1.0 + std::tanh(u));
    }
  }
  return z;
}

// f(x) by the definition: layer by layer, h_{l+1} = act(h_l W_l + b_l), identity output.
double forward_ref(const MlpShape& shape, const std::vector<double>& p, const double* x) {
  std::vector<double> h(x, x + shape.widths[0]);
  const std::size_t layers = shape.widths.size() - 1;
  std::size_t offset = 0;
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t K = shape.widths[l], N = shape.widths[l + 1];
    std::vector<double> next(N);
    for (std::size_t c = 0; c < N; ++c) {
      double s = p[offset + K * N + c];
      for (std::size_t k = 0; k < K; ++k) s += h[k] * p[offset + k * N + c];
      next[c] = l + 1 < layers ? act_ref(shape.activation, s) : s;
    }
    offset += (K + 1) * N;
    h = std::move(next);
  }
  return h[0];
}

double loss_ref(const MlpShape& shape, const std::vector<double>& p, const std::vector<double>& X,
                const std::vector<double>& y) {
  double s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double r = forward_ref(shape, p, X.data() + i * shape.widths[0]) - y[i];
    s += r * r;
  }
  return s;
}

template <class T>
std::vector<T> random_vector(std::size_t n, std::mt19937_64& rng, double sd) {
  std::normal_distribution<double> dist(0.0, sd);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](T x, T y) {
           return std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(x) ==
                  std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(y);
         });
}

TEST(MlpCompute, ShapeAndParameterLayout) {
  const MlpShape shape{{3, 5, 4, 1}, Activation::kTanh};
  EXPECT_EQ(shape.num_parameters(), 3u * 5 + 5 + 5 * 4 + 4 + 4 * 1 + 1);
  EXPECT_EQ(shape.num_layers(), 3u);
  EXPECT_EQ(shape.weight_offset(0), 0u);
  EXPECT_EQ(shape.bias_offset(0), 15u);
  EXPECT_EQ(shape.weight_offset(1), 20u);
  EXPECT_EQ(shape.bias_offset(1), 40u);
  EXPECT_EQ(shape.weight_offset(2), 44u);
  EXPECT_EQ(shape.bias_offset(2), 48u);
  EXPECT_EQ((MlpShape{{16, 64, 64, 1}, Activation::kTanh}.num_parameters()), 5313u);
}

TEST(MlpCompute, RejectsBadShapes) {
  EXPECT_THROW(MlpCompute<float>(MlpShape{{3}, Activation::kTanh}), std::invalid_argument);
  EXPECT_THROW(MlpCompute<float>(MlpShape{{3, 0, 1}, Activation::kTanh}), std::invalid_argument);
  EXPECT_THROW(MlpCompute<float>(MlpShape{{3, 4, 2}, Activation::kTanh}), std::invalid_argument);
  EXPECT_THROW(MlpCompute<float>(MlpShape{{3, 4, 1}, Activation::kTanh}, 0), std::invalid_argument);
  EXPECT_NO_THROW(MlpCompute<float>(MlpShape{{3, 1}, Activation::kTanh}));
}

// The loss and the predictions against the reference forward pass, and the gradient against
// central differences of the reference loss: a 3-5-4-1 network, every activation, double.
TEST(MlpCompute, GradientMatchesFiniteDifferencesOfTheReferenceLoss) {
  const std::size_t rows = 23;
  for (const Activation act : kAllActivations) {
    SCOPED_TRACE(static_cast<int>(act));
    const MlpShape shape{{3, 5, 4, 1}, act};
    std::mt19937_64 rng(101 + static_cast<int>(act));
    const auto params = random_vector<double>(shape.num_parameters(), rng, 0.7);
    const auto X = random_vector<double>(rows * 3, rng, 1.0);
    const auto y = random_vector<double>(rows, rng, 1.0);
    for (const simd::TargetInfo& path : paths()) {
      simd::ScopedTarget scoped(path);
      SCOPED_TRACE(name(path));
      MlpCompute<double> mlp(shape, 7);
      std::vector<double> grad(shape.num_parameters(), 0.0);
      const double loss = mlp.accumulate_gradient(params.data(), rows, X.data(), 3, y.data(),
                                                  grad.data());
      EXPECT_NEAR(loss, loss_ref(shape, params, X, y), 1e-12 * loss);
      std::vector<double> f(rows);
      mlp.predict(params.data(), rows, X.data(), 3, f.data());
      for (std::size_t i = 0; i < rows; ++i) {
        EXPECT_NEAR(f[i], forward_ref(shape, params, X.data() + 3 * i), 1e-13);
      }
      // d/dtheta (1/2) sum r^2 by central differences of the reference loss.
      for (std::size_t j = 0; j < params.size(); ++j) {
        auto p = params;
        const double h = 1e-6;
        p[j] = params[j] + h;
        const double up = loss_ref(shape, p, X, y);
        p[j] = params[j] - h;
        const double down = loss_ref(shape, p, X, y);
        const double fd = 0.5 * (up - down) / (2 * h);
        EXPECT_NEAR(grad[j], fd, 2e-7 * (1 + std::fabs(fd))) << "parameter " << j;
      }
    }
  }
}

// The gradient accumulates: a second call adds the same amount again (from a non-zero start).
TEST(MlpCompute, GradientAccumulatesIntoTheCallersBuffer) {
  const MlpShape shape{{2, 3, 1}, Activation::kTanh};
  std::mt19937_64 rng(7);
  const auto params = random_vector<double>(shape.num_parameters(), rng, 0.5);
  const auto X = random_vector<double>(10, rng, 1.0);
  const auto y = random_vector<double>(5, rng, 1.0);
  MlpCompute<double> mlp(shape);
  std::vector<double> once(shape.num_parameters(), 0.0);
  mlp.accumulate_gradient(params.data(), 5, X.data(), 2, y.data(), once.data());
  std::vector<double> twice(shape.num_parameters(), 0.0);
  mlp.accumulate_gradient(params.data(), 5, X.data(), 2, y.data(), twice.data());
  mlp.accumulate_gradient(params.data(), 5, X.data(), 2, y.data(), twice.data());
  for (std::size_t j = 0; j < once.size(); ++j) EXPECT_NEAR(twice[j], 2 * once[j], 1e-14);
  EXPECT_EQ(mlp.accumulate_gradient(params.data(), 0, X.data(), 2, y.data(), twice.data()), 0.0);
}

// grad_is_zero: the buffer's contents are ignored, as if zeroed — the same bits, also when the
// rows span several tiles (only the first tile starts the fold) and for no rows at all.
TEST(MlpCompute, GradientFromZeroIgnoresTheBuffer) {
  const MlpShape shape{{3, 5, 4, 1}, Activation::kTanh};
  std::mt19937_64 rng(8);
  const auto params = random_vector<float>(shape.num_parameters(), rng, 0.5f);
  const auto X = random_vector<float>(3 * 20, rng, 1.0f);
  const auto y = random_vector<float>(20, rng, 1.0f);
  MlpCompute<float> mlp(shape, 7);
  std::vector<float> zeroed(shape.num_parameters(), 0.0f);
  const double loss = mlp.accumulate_gradient(params.data(), 20, X.data(), 3, y.data(), zeroed.data(), 0.5);
  std::vector<float> stale = random_vector<float>(shape.num_parameters(), rng, 100.0f);
  EXPECT_EQ(mlp.accumulate_gradient(params.data(), 20, X.data(), 3, y.data(), stale.data(), 0.5, true), loss);
  for (std::size_t j = 0; j < zeroed.size(); ++j)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(stale[j]), std::bit_cast<std::uint32_t>(zeroed[j])) << j;
  EXPECT_EQ(mlp.accumulate_gradient(params.data(), 0, X.data(), 3, y.data(), stale.data(), 0.25, true), 0.25);
  for (const float g : stale) EXPECT_EQ(std::bit_cast<std::uint32_t>(g), 0u);
}

// The determinism contract on a training-sized network: the gradient, the loss and the predictions
// are the same bits for tile_rows 1, 7, 64 and 256, for the rows cut into several calls, and on
// every SIMD target; predict gives the f that the loss used.
template <class T>
void check_bitwise_determinism(Activation act) {
  const MlpShape shape{{16, 64, 64, 1}, act};
  const std::size_t rows = 300, ldx = 19;  // 19: X has 3 extra columns the network ignores
  std::mt19937_64 rng(202 + static_cast<int>(act));
  const auto params = random_vector<T>(shape.num_parameters(), rng, 0.25);
  const auto X = random_vector<T>(rows * ldx, rng, 1.0);
  const auto y = random_vector<T>(rows, rng, 1.0);

  std::vector<T> grad_ref;
  double loss_ref_value = 0;
  std::vector<T> f_ref;
  bool first = true;
  for (const simd::TargetInfo& path : paths()) {
    simd::ScopedTarget scoped(path);
    for (const std::size_t tile : {1, 7, 64, 256}) {
      for (const std::size_t piece : {rows, std::size_t{37}, std::size_t{128}}) {
        SCOPED_TRACE(std::string(name(path)) + " tile " + std::to_string(tile) + " piece " +
                     std::to_string(piece));
        MlpCompute<T> mlp(shape, tile);
        std::vector<T> grad(shape.num_parameters(), T(0));
        double loss = 0;
        for (std::size_t r0 = 0; r0 < rows; r0 += piece) {
          const std::size_t n = std::min(piece, rows - r0);
          loss += mlp.accumulate_gradient(params.data(), n, X.data() + r0 * ldx, ldx,
                                          y.data() + r0, grad.data());
        }
        std::vector<T> f(rows);
        mlp.predict(params.data(), rows, X.data(), ldx, f.data());
        if (first) {
          grad_ref = grad;
          loss_ref_value = loss;
          f_ref = f;
          first = false;
          // predict's f is the one the loss used: the same fold gives the same bits.
          double s = 0;
          for (std::size_t i = 0; i < rows; ++i) {
            const T r = f[i] - y[i];
            s += static_cast<double>(r) * static_cast<double>(r);
          }
          EXPECT_EQ(std::bit_cast<std::uint64_t>(s), std::bit_cast<std::uint64_t>(loss));
          continue;
        }
        EXPECT_TRUE(same_bits(grad, grad_ref));
        // Pieces are summed here in double in another grouping, so compare loss only per row fold.
        if (piece == rows) {
          EXPECT_EQ(std::bit_cast<std::uint64_t>(loss), std::bit_cast<std::uint64_t>(loss_ref_value));
        }
        EXPECT_TRUE(same_bits(f, f_ref));
      }
    }
  }
}

TEST(MlpCompute, SameBitsForAnyTilingSplitAndPathFloat) {
  for (const Activation act : kAllActivations) {
    SCOPED_TRACE(static_cast<int>(act));
    check_bitwise_determinism<float>(act);
  }
}

TEST(MlpCompute, SameBitsForAnyTilingSplitAndPathDouble) {
  check_bitwise_determinism<double>(Activation::kTanh);
  check_bitwise_determinism<double>(Activation::kGelu);
}

// float against double on the same data: the float gradient is the double one to float accuracy.
TEST(MlpCompute, FloatGradientIsCloseToDouble) {
  const MlpShape shape{{16, 64, 64, 1}, Activation::kTanh};
  const std::size_t rows = 256;
  std::mt19937_64 rng(303);
  const auto pd = random_vector<double>(shape.num_parameters(), rng, 0.2);
  const auto Xd = random_vector<double>(rows * 16, rng, 1.0);
  const auto yd = random_vector<double>(rows, rng, 1.0);
  const std::vector<float> pf(pd.begin(), pd.end()), Xf(Xd.begin(), Xd.end()),
      yf(yd.begin(), yd.end());
  std::vector<double> gd(pd.size(), 0.0);
  std::vector<float> gf(pd.size(), 0.0f);
  MlpCompute<double> md(shape);
  MlpCompute<float> mf(shape);
  const double ld = md.accumulate_gradient(pd.data(), rows, Xd.data(), 16, yd.data(), gd.data());
  const double lf = mf.accumulate_gradient(pf.data(), rows, Xf.data(), 16, yf.data(), gf.data());
  EXPECT_NEAR(lf, ld, 1e-5 * ld);
  double diff2 = 0, norm2 = 0;
  for (std::size_t j = 0; j < gd.size(); ++j) {
    diff2 += (gf[j] - gd[j]) * (gf[j] - gd[j]);
    norm2 += gd[j] * gd[j];
  }
  EXPECT_LT(std::sqrt(diff2 / norm2), 1e-5);
}

// The network cut into its layers (DenseLayer), run the way a pipeline runs it: each micro-batch
// goes forward through every layer and back, and each layer folds its slice of the gradient over
// the micro-batches in order. The same bits as MlpCompute over all the rows at once.
template <class T>
void layers_give_the_same_bits(Activation act) {
  const MlpShape shape{{5, 7, 3, 6, 1}, act};
  const std::size_t rows = 50, d = 5, L = shape.num_layers();
  std::mt19937_64 rng(11);
  const auto X = random_vector<T>(rows * d, rng, 1.0);
  const auto y = random_vector<T>(rows, rng, 1.0);
  const auto p = random_vector<T>(shape.num_parameters(), rng, 0.5);
  MlpCompute<T> compute(shape, 8);
  std::vector<T> expected(shape.num_parameters());
  const double expected_loss = compute.accumulate_gradient(p.data(), rows, X.data(), d, y.data(), expected.data(), 0.0, true);

  std::vector<DenseLayer<T>> layers;
  std::vector<std::vector<T>> wt(L);  // W_l^T, for the deltas of the layer below
  for (std::size_t l = 0; l < L; ++l) {
    layers.push_back({shape.widths[l], shape.widths[l + 1], l + 1 == L ? Activation::kIdentity : act});
    EXPECT_EQ(layers[l].num_parameters(), shape.weight_offset(l + 1) - shape.weight_offset(l));
    wt[l].resize(layers[l].in * layers[l].out);
    transpose<T>(layers[l].in, layers[l].out, p.data() + shape.weight_offset(l), layers[l].out, wt[l].data(), layers[l].in);
  }
  std::vector<T> grad(shape.num_parameters(), T(7));  // not read: the first micro-batch starts the folds
  double loss = 0;
  const std::size_t cuts[] = {0, 13, 14, 40, 50};  // micro-batches of 13, 1, 26 and 10 rows
  for (std::size_t m = 0; m + 1 < std::size(cuts); ++m) {
    const std::size_t r0 = cuts[m], n = cuts[m + 1] - r0;
    std::vector<std::vector<T>> z(L), a(L);
    const T* in = X.data() + r0 * d;
    std::size_t ld = d;
    for (std::size_t l = 0; l < L; ++l) {
      z[l].resize(n * layers[l].out);
      a[l].resize(n * layers[l].out);
      layers[l].forward(p.data() + shape.weight_offset(l), n, in, ld, layers[l].keeps_z() ? z[l].data() : nullptr,
                        a[l].data());
      in = a[l].data();
      ld = layers[l].out;
    }
    std::vector<T> delta(n);
    for (std::size_t i = 0; i < n; ++i) {
      delta[i] = a[L - 1][i] - y[r0 + i];
      loss += static_cast<double>(delta[i]) * static_cast<double>(delta[i]);
    }
    for (std::size_t l = L; l-- > 0;) {
      std::vector<T> dx(l == 0 ? 0 : n * layers[l].in);
      layers[l].backward(n, l == 0 ? X.data() + r0 * d : a[l - 1].data(), l == 0 ? d : layers[l].in, z[l].data(),
                         a[l].data(), delta.data(), grad.data() + shape.weight_offset(l), m == 0,
                         l == 0 ? nullptr : wt[l].data(), l == 0 ? nullptr : dx.data());
      delta = std::move(dx);
    }
  }
  EXPECT_TRUE(same_bits(grad, expected)) << "activation " << int(act);
  EXPECT_EQ(loss, expected_loss);
}

TEST(DenseLayer, ALayerByLayerPassOverMicroBatchesGivesMlpComputesBits) {
  for (const Activation act : kAllActivations) {
    layers_give_the_same_bits<float>(act);
    layers_give_the_same_bits<double>(act);
  }
}

}  // namespace
}  // namespace parafit::detail
