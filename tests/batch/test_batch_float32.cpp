// float32 batch fits (BatchSpec::float32, `batch --float32`): the model and its sums in float lanes,
// the LM in double. Against the double batch (which has `fit`'s bits): the same verdicts and
// estimates within a small fraction of their standard errors for every family with a lane kernel,
// for both estimators; bits across threads, SIMD targets and neighbouring fits; the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "batch/lane_kernels.h"
#include "batch_test_data.h"
#include "parafit/batch.h"
#include "parafit/dataset.h"
#include "parafit/error.h"
#include "parafit/model.h"
#include "simd/target.h"
#include "solve/resolve_model.h"

namespace parafit {
namespace {

using testing_batch::Family;
using testing_batch::families;
using testing_batch::make_batch;

BatchSpec float_spec(Estimator estimator = Estimator::kLeastSquares) {
  BatchSpec spec;
  spec.estimator = estimator;
  spec.float32 = true;
  spec.solver.function_tolerance = kFloat32DefaultTolerance;
  return spec;
}

// float32 against the double fit's minimum: a fit stopped at a relative decrease of 1e-4 lies
// within about sqrt(1e-4 * df) ~ 0.06 standard errors of it, plus float's rounding of the sums.
// Standard errors come from J^T W J summed in float: within 5% of double's except where it is ill
// conditioned (its condition number times float's 6e-8 is the relative error of its inverse): a
// few of logistic4's fits, whose standard errors are larger than their estimates.
void expect_close_to_double(const BatchResult& f, const BatchResult& d, std::size_t p, const std::string& what) {
  std::size_t both = 0, verdicts_differ = 0, se_off = 0;
  double worst = 0;
  for (std::size_t k = 0; k < d.fits(); ++k) {
    if (f.status[k] != d.status[k]) ++verdicts_differ;
    if (f.status[k] != BatchStatus::kConverged || d.status[k] != BatchStatus::kConverged) continue;
    ++both;
    for (std::size_t j = 0; j < p; ++j) {
      const double se = d.std_errors[k * p + j];
      const double off = std::abs(f.estimates[k * p + j] - d.estimates[k * p + j]) / se;
      worst = std::max(worst, off);
      EXPECT_LE(off, 0.25) << what << " fit " << k << " parameter " << j << ": " << f.estimates[k * p + j]
                           << " against " << d.estimates[k * p + j] << " +- " << se;
      if (!(std::abs(f.std_errors[k * p + j] - se) <= 0.05 * se)) ++se_off;
    }
    EXPECT_NEAR(f.cost[k], d.cost[k], 2e-3 * d.cost[k]) << what << " fit " << k;
  }
  EXPECT_LE(verdicts_differ, d.fits() / 100) << what;
  EXPECT_LE(se_off, d.fits() / 100) << what;
  EXPECT_GE(both, d.fits() * 95 / 100) << what;
  ::testing::Test::RecordProperty(what + "_worst_se_fraction", std::to_string(worst));
}

TEST(BatchFloat32, EveryFamilyAgreesWithTheDoubleFit) {
  for (const Family& fam : families()) {
    SCOPED_TRACE(fam.model);
    const auto model = make_builtin_model(fam.model);
    const BatchData d = make_batch(*model, fam, 1000, 30, 11);
    const BatchResult rd = fit_batch(*model, d, {}), rf = fit_batch(*model, d, float_spec());
    expect_close_to_double(rf, rd, model->num_parameters(), fam.model);
    // Changes of the cost within the tolerance end a float fit whatever rho says (SmallLmSetup::
    // rounded_cost): float takes the iterations double takes at the same tolerance, not 1.4x.
    BatchSpec same_tolerance;
    same_tolerance.solver.function_tolerance = kFloat32DefaultTolerance;
    const BatchResult rt = fit_batch(*model, d, same_tolerance);
    double float_iterations = 0, double_iterations = 0;
    for (std::size_t k = 0; k < d.fits(); ++k) {
      float_iterations += rf.iterations[k];
      double_iterations += rt.iterations[k];
    }
    // (A linear family's exact self-start passes double's gradient test before any step; float's
    // gradient is rounded, so it takes one step, refused or within the tolerance.)
    EXPECT_LE(float_iterations, std::max(1.05 * double_iterations, double(d.fits())));
  }
}

TEST(BatchFloat32, PoissonAgreesWithTheDoubleFit) {
  const Family fam{"gauss", {500.0, 15.0, 3.0, 30.0}, 0.0, 31.0, 0.0};
  const auto model = make_builtin_model(fam.model);
  BatchData d = make_batch(*model, fam, 1000, 32, 21);
  std::mt19937_64 rng(4);
  for (double& y : d.y) y = double(std::poisson_distribution<int>(y)(rng));
  BatchSpec spec;
  spec.estimator = Estimator::kPoissonMle;
  const BatchResult rd = fit_batch(*model, d, spec), rf = fit_batch(*model, d, float_spec(Estimator::kPoissonMle));
  expect_close_to_double(rf, rd, 4, "poisson");
}

TEST(BatchFloat32, BitsDoNotDependOnThreadsOrTargets) {
  const Family fam{"gauss", {500.0, 15.0, 3.0, 30.0}, 0.0, 31.0, 0.02};
  const auto model = make_builtin_model(fam.model);
  BatchData d = make_batch(*model, fam, 3001, 32, 9);
  for (double& y : d.y) y = std::max(0.0, std::round(y));
  for (const Estimator estimator : {Estimator::kLeastSquares, Estimator::kPoissonMle}) {
    std::vector<BatchResult> runs;
    for (const int threads : {1, 2, 7}) {
      Context ctx;
      ctx.threads = threads;
      runs.push_back(fit_batch(*model, d, float_spec(estimator), ctx));
    }
    for (const simd::TargetInfo& target : simd::available_targets()) {
      const simd::ScopedTarget scoped(target);
      runs.push_back(fit_batch(*model, d, float_spec(estimator)));
    }
    for (std::size_t t = 1; t < runs.size(); ++t) {
      SCOPED_TRACE(std::string(to_string(estimator)) + " run " + std::to_string(t));
      EXPECT_EQ(0, std::memcmp(runs[0].estimates.data(), runs[t].estimates.data(), runs[0].estimates.size() * 8));
      EXPECT_EQ(0, std::memcmp(runs[0].std_errors.data(), runs[t].std_errors.data(), runs[0].std_errors.size() * 8));
      EXPECT_EQ(0, std::memcmp(runs[0].cost.data(), runs[t].cost.data(), runs[0].cost.size() * 8));
      EXPECT_EQ(runs[0].iterations, runs[t].iterations);
      EXPECT_EQ(runs[0].status, runs[t].status);
    }
    EXPECT_GE(runs[0].counts()[0], 2990u);
  }
}

TEST(BatchFloat32, AFitOfAnotherPointCountHasTheBitsOfItsBatchAlone) {
  // Such a fit runs in float lanes of its own, not in double: its neighbours do not decide its
  // precision.
  const Family fam{"gauss", {5.0, 3.0, 0.8, 1.0}, -1.0, 7.0, 0.02};
  const auto model = make_builtin_model(fam.model);
  const BatchData a = make_batch(*model, fam, 20, 30, 3), b = make_batch(*model, fam, 1, 41, 4);
  const BatchData mixed = testing_batch::insert_fits(a, b, 10);
  const BatchResult rm = fit_batch(*model, mixed, float_spec()), ra = fit_batch(*model, a, float_spec()),
                    rb = fit_batch(*model, b, float_spec()), rd = fit_batch(*model, b, {});
  EXPECT_EQ(0, std::memcmp(&rm.estimates[10 * 4], &rb.estimates[0], 4 * 8));
  EXPECT_EQ(0, std::memcmp(&rm.cost[10], &rb.cost[0], 8));
  EXPECT_NE(0, std::memcmp(&rm.cost[10], &rd.cost[0], 8));  // float's cost, not double's
  EXPECT_EQ(0, std::memcmp(&rm.estimates[0], &ra.estimates[0], 10 * 4 * 8));
  EXPECT_EQ(0, std::memcmp(&rm.estimates[11 * 4], &ra.estimates[10 * 4], 10 * 4 * 8));
  EXPECT_EQ(rb.status[0], BatchStatus::kConverged);
}

TEST(BatchFloat32, ValuesBeyondFloatMakeOnlyTheirFitNonFinite) {
  const Family fam{"exp-decay", {5.0, 0.7, 1.5}, 0.0, 8.0, 0.02};
  const auto model = make_builtin_model(fam.model);
  BatchData d = make_batch(*model, fam, 40, 20, 2);
  const BatchResult clean = fit_batch(*model, d, float_spec());
  d.y[d.offsets[3] + 5] = 1e39;  // finite in double, inf in float
  d.inputs[0][d.offsets[7] + 2] = -1e300;
  const BatchResult r = fit_batch(*model, d, float_spec());
  EXPECT_EQ(r.status[3], BatchStatus::kNonFinite);
  EXPECT_EQ(r.status[7], BatchStatus::kNonFinite);
  EXPECT_EQ(fit_batch(*model, d, {}).status[3], BatchStatus::kConverged);  // double fits it
  for (std::size_t k = 0; k < d.fits(); ++k) {
    if (k == 3 || k == 7) continue;
    EXPECT_EQ(r.status[k], clean.status[k]);
    EXPECT_EQ(0, std::memcmp(&r.estimates[k * 3], &clean.estimates[k * 3], 3 * 8)) << k;
  }
}

TEST(BatchFloat32, FormulasAndTightTolerancesAreRefused) {
  const BatchData d = make_batch(*make_builtin_model("exp-decay"), families()[0], 3, 10, 1);
  Dataset columns;
  columns.add_column("x", d.inputs[0]);
  columns.add_column("y", d.y);
  const auto formula = detail::resolve_model(columns, "a*exp(-b*x)+c", {}, "y", {"a", "b", "c"}).model;
  try {
    fit_batch(*formula, d, float_spec());
    FAIL() << "a formula in float32 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), Error::Kind::kUsage);
  }
  BatchSpec tight = float_spec();
  tight.solver.function_tolerance = 1e-8;
  EXPECT_THROW(fit_batch(*make_builtin_model("exp-decay"), d, tight), Error);
  BatchSpec poly6 = float_spec();
  EXPECT_THROW(fit_batch(*make_builtin_model("poly:6"), make_batch(*make_builtin_model("poly:6"),
                                                                    Family{"poly:6", {1, 1, 1, 1, 1, 1, 1}, 0, 1, 0.1},
                                                                    2, 12, 1),
                         poly6),
               Error);
}

// Each family's float lane kernel against its double one: f and every Jacobian column to float's
// precision (relative to the column's largest value), for random parameters and inputs.
TEST(BatchFloat32, FloatLaneKernelsFollowTheDoubleOnes) {
  using detail::kFitLanes;
  using detail::kFitLanesFloat;
  constexpr std::size_t n = 19;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  for (Family fam : families()) {
    SCOPED_TRACE(fam.model);
    const auto model = make_builtin_model(fam.model);
    const auto kd = detail::lane_kernel(*model);
    const auto kf = detail::lane_kernel_float(*model);
    ASSERT_NE(kd, nullptr);
    ASSERT_NE(kf, nullptr);
    const std::size_t p = model->num_parameters();
    std::uniform_real_distribution<double> ux(fam.lo, fam.hi);
    // 16 float lanes = two double groups of 8.
    std::vector<float> tf(p * kFitLanesFloat), xf(n * kFitLanesFloat), ff(n * kFitLanesFloat),
        Jf(p * n * kFitLanesFloat);
    std::vector<double> td(p * kFitLanes), xd(n * kFitLanes), fd(n * kFitLanes), Jd(p * n * kFitLanes);
    for (std::size_t l = 0; l < kFitLanesFloat; ++l) {
      for (std::size_t j = 0; j < p; ++j) tf[j * kFitLanesFloat + l] = float(fam.theta[j] * jitter(rng));
      for (std::size_t i = 0; i < n; ++i) xf[i * kFitLanesFloat + l] = float(ux(rng));
    }
    kf(n, tf.data(), xf.data(), ff.data(), Jf.data());
    for (std::size_t half = 0; half < 2; ++half) {
      for (std::size_t l = 0; l < kFitLanes; ++l) {
        for (std::size_t j = 0; j < p; ++j) td[j * kFitLanes + l] = tf[j * kFitLanesFloat + half * kFitLanes + l];
        for (std::size_t i = 0; i < n; ++i) xd[i * kFitLanes + l] = xf[i * kFitLanesFloat + half * kFitLanes + l];
      }
      kd(n, td.data(), xd.data(), fd.data(), Jd.data());
      for (std::size_t c = 0; c <= p; ++c) {  // c = 0: f; then J's columns
        const double* vd = c == 0 ? fd.data() : Jd.data() + (c - 1) * n * kFitLanes;
        const float* vf = c == 0 ? ff.data() : Jf.data() + (c - 1) * n * kFitLanesFloat;
        for (std::size_t l = 0; l < kFitLanes; ++l) {
          double scale = 0;
          for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(vd[i * kFitLanes + l]));
          for (std::size_t i = 0; i < n; ++i)
            EXPECT_NEAR(vf[i * kFitLanesFloat + half * kFitLanes + l], vd[i * kFitLanes + l], 2e-6 * scale + 1e-30)
                << "column " << c << " lane " << half * kFitLanes + l << " point " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace parafit
