// fit_batch against `fit` on each fit alone, the Poisson MLE against closed forms and an
// independent Fisher scoring, bad fits that leave the others alone, and bits across thread counts.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <limits>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "parafit/batch.h"
#include "parafit/dataset.h"
#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/model.h"
#include "simd/target.h"
#include "batch_test_data.h"

namespace parafit {
namespace {

using testing_batch::Family;
using testing_batch::families;
using testing_batch::make_batch;

BatchStatus status_of(const FitResult& r) {
  const Termination t = r.summary.termination;
  if (converged(t)) return BatchStatus::kConverged;
  if (t == Termination::kSingularGradient) return BatchStatus::kSingular;
  if (t == Termination::kNonFiniteStart) return BatchStatus::kNonFinite;
  return BatchStatus::kNotConverged;
}

// Fit k of `d` alone through `fit`, as `parafit fit` would.
FitResult fit_alone(const BatchData& d, std::size_t k, const std::string& model, const FitSpec& base = {}) {
  Dataset data;
  const auto b = std::ptrdiff_t(d.offsets[k]), e = std::ptrdiff_t(d.offsets[k + 1]);
  data.add_column("x", std::vector<double>(d.inputs[0].begin() + b, d.inputs[0].begin() + e));
  data.add_column("y", std::vector<double>(d.y.begin() + b, d.y.begin() + e));
  if (!d.weights.empty()) data.add_column("w", std::vector<double>(d.weights.begin() + b, d.weights.begin() + e));
  FitSpec spec = base;
  spec.model = model;
  if (!d.weights.empty()) spec.weights = "w";
  Context one;
  one.threads = 1;
  return fit(data, spec, one);
}

TEST(Batch, EveryFitHasFitAlonesBitsForEveryFamily) {
  for (const Family& fam : families()) {
    SCOPED_TRACE(fam.model);
    const auto model = make_builtin_model(fam.model);
    const BatchData d = make_batch(*model, fam, 1000, 30, 11);
    Context ctx;
    ctx.threads = 2;
    const BatchResult r = fit_batch(*model, d, {}, ctx);
    const std::size_t p = model->num_parameters();
    std::size_t converged = 0, mismatched = 0;
    for (std::size_t k = 0; k < d.fits(); ++k) {
      const FitResult alone = fit_alone(d, k, fam.model);
      ASSERT_EQ(to_string(r.status[k]), to_string(status_of(alone))) << "fit " << k;
      if (r.status[k] != BatchStatus::kConverged) continue;
      ++converged;
      for (std::size_t j = 0; j < p; ++j) {
        const double a = r.estimates[k * p + j], b = alone.summary.parameters[j];
        // The issue asks for 1e-10; a batch fit takes fit's path exactly (the same sums, in the same
        // order, and the same LM arithmetic), so it gives fit's bits.
        if (a != b) ++mismatched;
        EXPECT_EQ(a, b) << "fit " << k << " parameter " << j;
        const double sa = r.std_errors[k * p + j], sb = alone.statistics.parameters[j].std_error;
        EXPECT_NEAR(sa, sb, 1e-8 * std::abs(sb)) << "fit " << k << " parameter " << j;
      }
      EXPECT_NEAR(r.cost[k], alone.statistics.rss, 1e-9 * alone.statistics.rss);
      EXPECT_EQ(r.points[k], 30u);
      if (mismatched > 5) FAIL() << "too many mismatches";
    }
    // The families' jittered curves are ordinary fits: nearly all converge.
    EXPECT_GE(converged, 950u);
  }
}

TEST(Batch, WeightsBoundsAndFixedParametersFollowFit) {
  const Family fam{"exp-decay", {5.0, 0.7, 1.5}, 0.0, 8.0, 0.05};
  const auto model = make_builtin_model(fam.model);
  BatchData d = make_batch(*model, fam, 200, 25, 5);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uw(0.2, 3.0);
  for (std::size_t i = 0; i < d.y.size(); ++i) d.weights.push_back(uw(rng));
  BatchSpec spec;
  spec.fix = {{2, 1.5}};                                       // c = 1.5
  spec.bounds = {{0.0, 100.0}, {0.75, 10.0}, {-1e300, 1e300}};  // b >= 0.75 binds for many fits
  const BatchResult r = fit_batch(*model, d, spec);
  FitSpec base;
  base.fix = {{"c", 1.5}};
  base.bounds = {{"a", {0.0, 100.0}}, {"b", {0.75, 10.0}}};
  std::size_t at_bound = 0;
  for (std::size_t k = 0; k < d.fits(); ++k) {
    const FitResult alone = fit_alone(d, k, fam.model, base);
    ASSERT_EQ(to_string(r.status[k]), to_string(status_of(alone))) << "fit " << k;
    for (std::size_t j = 0; j < 3; ++j) {
      const double b = alone.summary.parameters[j];
      EXPECT_NEAR(r.estimates[k * 3 + j], b, 1e-10 * std::max(1.0, std::abs(b))) << "fit " << k;
      const double sb = alone.statistics.parameters[j].std_error;
      if (std::isnan(sb)) EXPECT_TRUE(std::isnan(r.std_errors[k * 3 + j]));
      else EXPECT_NEAR(r.std_errors[k * 3 + j], sb, 1e-8 * sb);
    }
    if (alone.summary.at_bound[1]) ++at_bound;
  }
  EXPECT_GT(at_bound, 10u);  // the bound is exercised
  EXPECT_EQ(r.estimates[2], 1.5);
  EXPECT_TRUE(std::isnan(r.std_errors[2]));
}

TEST(Batch, BitsDoNotDependOnThreads) {
  const Family fam{"gauss", {5.0, 3.0, 0.8, 1.0}, -1.0, 7.0, 0.05};
  const auto model = make_builtin_model(fam.model);
  const BatchData d = make_batch(*model, fam, 3001, 32, 9);
  std::vector<BatchResult> runs;
  for (const int threads : {1, 2, 7}) {
    Context ctx;
    ctx.threads = threads;
    runs.push_back(fit_batch(*model, d, {}, ctx));
  }
  for (std::size_t t = 1; t < runs.size(); ++t) {
    EXPECT_EQ(0, std::memcmp(runs[0].estimates.data(), runs[t].estimates.data(), runs[0].estimates.size() * 8));
    EXPECT_EQ(0, std::memcmp(runs[0].std_errors.data(), runs[t].std_errors.data(), runs[0].std_errors.size() * 8));
    EXPECT_EQ(0, std::memcmp(runs[0].cost.data(), runs[t].cost.data(), runs[0].cost.size() * 8));
    EXPECT_EQ(runs[0].iterations, runs[t].iterations);
    EXPECT_EQ(runs[0].status, runs[t].status);
  }
}

TEST(Batch, LanesGiveTheSameBitsOnEverySimdTarget) {
  // Every built-in family runs in SIMD lanes (poly up to degree 5); every target (AVX-512: one register of 8 fits, AVX2: two,
  // scalar: eight scalars) must give the bits of the scalar one, for both estimators.
  for (const Family& fam : {Family{"gauss", {500.0, 15.0, 3.0, 30.0}, 0.0, 31.0, 0.02},
                            Family{"exp-decay", {500.0, 0.2, 30.0}, 0.0, 31.0, 0.02},
                            Family{"exp-growth", {20.0, 0.1}, 0.0, 31.0, 0.02},
                            Family{"asymptotic", {300.0, 20.0, std::log(0.2)}, 0.0, 31.0, 0.02},
                            Family{"michaelis-menten", {200.0, 2.0}, 0.5, 20.0, 0.02},
                            Family{"gompertz", {500.0, 8.0, 0.5}, 0.0, 15.0, 0.02},
                            Family{"logistic4", {100.0, 2.0, 10.0, 5.0}, 0.5, 60.0, 0.02},
                            Family{"log", {100.0, 20.0}, 0.5, 50.0, 0.02},
                            Family{"power", {30.0, 0.6}, 0.1, 100.0, 0.02},
                            Family{"poly:2", {50.0, -2.0, 0.5}, -3.0, 3.0, 0.02}})
  for (const Estimator estimator : {Estimator::kLeastSquares, Estimator::kPoissonMle}) {
    SCOPED_TRACE(fam.model);
    const auto model = make_builtin_model(fam.model);
    BatchData d = make_batch(*model, fam, 203, 32, 17);
    for (double& y : d.y) y = std::max(0.0, std::round(y));  // counts, for the Poisson MLE
    BatchSpec spec;
    spec.estimator = estimator;
    std::vector<BatchResult> runs;
    for (const simd::TargetInfo& target : simd::available_targets()) {
      const simd::ScopedTarget scoped(target);
      runs.push_back(fit_batch(*model, d, spec));
    }
    ASSERT_GE(runs.size(), 1u);
    for (std::size_t t = 1; t < runs.size(); ++t) {
      EXPECT_EQ(0, std::memcmp(runs[0].estimates.data(), runs[t].estimates.data(), runs[0].estimates.size() * 8));
      EXPECT_EQ(0, std::memcmp(runs[0].cost.data(), runs[t].cost.data(), runs[0].cost.size() * 8));
      EXPECT_EQ(runs[0].status, runs[t].status);
    }
    EXPECT_GE(runs[0].counts()[0], 200u);
  }
}

TEST(Batch, WeightedLanesHaveFitAlonesBits) {
  const Family fam{"gauss", {5.0, 3.0, 0.8, 1.0}, -1.0, 7.0, 0.03};
  const auto model = make_builtin_model(fam.model);
  BatchData d = make_batch(*model, fam, 60, 30, 8);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uw(0.2, 3.0);
  for (std::size_t i = 0; i < d.y.size(); ++i) d.weights.push_back(i % 7 == 3 ? 0.0 : uw(rng));
  const BatchResult r = fit_batch(*model, d, {});
  for (std::size_t k = 0; k < d.fits(); ++k) {
    const FitResult alone = fit_alone(d, k, fam.model);
    ASSERT_EQ(to_string(r.status[k]), to_string(status_of(alone))) << "fit " << k;
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(r.estimates[k * 4 + j], alone.summary.parameters[j]) << k;
    EXPECT_LT(r.points[k], 30u);  // zero weights do not count
  }
}

TEST(Batch, PointCountsMayDifferBetweenFits) {
  // Fits of another point count than their block's first run outside the lanes: same bits as a
  // batch of that fit alone.
  const Family fam{"gauss", {5.0, 3.0, 0.8, 1.0}, -1.0, 7.0, 0.02};
  const auto model = make_builtin_model(fam.model);
  BatchData a = make_batch(*model, fam, 20, 30, 3), b = make_batch(*model, fam, 1, 41, 4);
  const BatchData mixed = testing_batch::insert_fits(a, b, 10);
  // Both estimators: the scalar sums (batch_sums.cpp) and the lanes' must agree to the bit. The
  // Poisson fits get counts (8 y rounded: the small ones take the deviance's direct branch, the
  // large ones its series).
  const auto counts = [](BatchData d) {
    for (double& v : d.y) v = std::round(8.0 * v);
    return d;
  };
  const BatchData plain[] = {mixed, a, b}, counted[] = {counts(mixed), counts(a), counts(b)};
  for (const Estimator estimator : {Estimator::kLeastSquares, Estimator::kPoissonMle}) {
    BatchSpec spec;
    spec.estimator = estimator;
    const BatchData* sets = estimator == Estimator::kPoissonMle ? counted : plain;
    const BatchData &mixed = sets[0], &a = sets[1], &b = sets[2];
    const BatchResult rm = fit_batch(*model, mixed, spec), ra = fit_batch(*model, a, spec),
                      rb = fit_batch(*model, b, spec);
    EXPECT_EQ(0, std::memcmp(&rm.estimates[10 * 4], &rb.estimates[0], 4 * 8)) << to_string(estimator);
    EXPECT_EQ(0, std::memcmp(&rm.cost[10], &rb.cost[0], 8)) << to_string(estimator);
    EXPECT_EQ(0, std::memcmp(&rm.estimates[0], &ra.estimates[0], 10 * 4 * 8));
    EXPECT_EQ(0, std::memcmp(&rm.estimates[11 * 4], &ra.estimates[10 * 4], 10 * 4 * 8));
    EXPECT_EQ(rm.points[10], 41u);
    EXPECT_EQ(rb.status[0], BatchStatus::kConverged) << to_string(estimator);
  }
}

TEST(Batch, BadFitsGetTheirStatusAndTheOthersGoOn) {
  const Family fam{"exp-decay", {5.0, 0.7, 1.5}, 0.0, 8.0, 0.02};
  const auto model = make_builtin_model(fam.model);
  const BatchData good = make_batch(*model, fam, 6, 20, 2);
  const BatchResult clean = fit_batch(*model, good, {});
  // Insert: an empty group after fit 1, a NaN in fit 3, fit 4 cut to 2 points, a negative weight
  // nowhere (weights absent), and a flat response in fit 5 that no start rule can use.
  BatchData bad;
  bad.inputs.resize(1);
  const auto append = [&](std::size_t k, std::size_t keep) {
    for (std::size_t i = good.offsets[k]; i < good.offsets[k] + keep; ++i) {
      bad.inputs[0].push_back(good.inputs[0][i]);
      bad.y.push_back(good.y[i]);
    }
    bad.offsets.push_back(bad.y.size());
  };
  append(0, 20);
  append(1, 20);
  bad.offsets.push_back(bad.y.size());  // empty
  append(2, 20);
  append(3, 20);
  bad.y[bad.offsets[4] + 7] = std::nan("");
  append(4, 2);
  append(5, 20);
  const BatchResult r = fit_batch(*model, bad, {});
  ASSERT_EQ(r.fits(), 7u);
  EXPECT_EQ(r.status[2], BatchStatus::kTooFewPoints);
  EXPECT_EQ(r.status[4], BatchStatus::kNonFinite);
  EXPECT_TRUE(std::isnan(r.estimates[4 * 3]));  // it ended before a start was known
  EXPECT_EQ(r.status[5], BatchStatus::kTooFewPoints);
  EXPECT_EQ(r.points[5], 2u);
  for (const auto& [b, g] : {std::pair{0, 0}, {1, 1}, {3, 2}, {6, 5}}) {
    EXPECT_EQ(r.status[std::size_t(b)], clean.status[std::size_t(g)]);
    EXPECT_EQ(0, std::memcmp(&r.estimates[std::size_t(b) * 3], &clean.estimates[std::size_t(g) * 3], 3 * 8));
  }
  EXPECT_NE(r.summary_line().find("7 fits: 4 converged, 1 non-finite, 2 too-few-points"), std::string::npos)
      << r.summary_line();
}

TEST(Batch, SelfStartFailureIsPerFit) {
  // A power law needs positive x: the fit whose x are all negative cannot self-start.
  const auto model = make_builtin_model("power");
  BatchData d;
  d.inputs.resize(1);
  for (const double sign : {1.0, -1.0}) {
    for (int i = 1; i <= 10; ++i) {
      d.inputs[0].push_back(sign * i);
      d.y.push_back(2.0 * std::pow(double(i), 0.5) + 0.01 * (i % 3));
    }
    d.offsets.push_back(d.y.size());
  }
  const BatchResult r = fit_batch(*model, d, {});
  EXPECT_EQ(r.status[0], BatchStatus::kConverged);
  EXPECT_EQ(r.status[1], BatchStatus::kNoStart);
}

TEST(Batch, AnEmptyFitFirstInItsBlockChangesNoOtherFit) {
  const Family fam{"gauss", {5.0, 3.0, 0.8, 1.0}, -1.0, 7.0, 0.02};
  const auto model = make_builtin_model(fam.model);
  const BatchData d = make_batch(*model, fam, 30, 30, 6);
  BatchData e = d;
  e.offsets.insert(e.offsets.begin(), 0);  // an empty first fit
  const BatchResult rd = fit_batch(*model, d, {}), re = fit_batch(*model, e, {});
  EXPECT_EQ(re.status[0], BatchStatus::kTooFewPoints);
  EXPECT_EQ(0, std::memcmp(&re.estimates[4], &rd.estimates[0], 30 * 4 * 8));
}

TEST(Batch, BadSpecsAreErrors) {
  const auto model = make_builtin_model("exp-decay");
  const BatchData d = make_batch(*model, families()[0], 3, 10, 1);
  BatchSpec spec;
  spec.start = {1.0, 2.0};
  EXPECT_THROW(fit_batch(*model, d, spec), Error);
  spec.start = {1.0, 2.0, 3.0};
  spec.bounds = {{0, 1}, {0, 1}, {0, 1}};
  EXPECT_THROW(fit_batch(*model, d, spec), Error);  // start a = 1 in [0,1], b = 2 outside
  BatchData broken = d;
  broken.offsets.back() += 1;
  EXPECT_THROW(fit_batch(*model, broken, {}), Error);
}

// --- the Poisson MLE ---

TEST(BatchPoisson, ConstantModelsEstimateIsTheMean) {
  const auto model = make_builtin_model("poly:0");
  BatchData d;
  d.inputs.resize(1);
  std::mt19937_64 rng(4);
  std::vector<double> means;
  for (int k = 0; k < 50; ++k) {
    std::poisson_distribution<int> counts(1.0 + 10.0 * k);
    double sum = 0;
    for (int i = 0; i < 17; ++i) {
      d.inputs[0].push_back(i);
      d.y.push_back(counts(rng));
      sum += d.y.back();
    }
    d.offsets.push_back(d.y.size());
    means.push_back(sum / 17.0);
  }
  BatchSpec spec;
  spec.estimator = Estimator::kPoissonMle;
  spec.start = {5.0};
  const BatchResult r = fit_batch(*model, d, spec);
  for (std::size_t k = 0; k < means.size(); ++k) {
    ASSERT_EQ(r.status[k], BatchStatus::kConverged) << k;
    EXPECT_NEAR(r.estimates[k], means[k], 1e-9 * means[k]) << k;
    // The Fisher information of a Poisson mean over n counts is n / mu: se = sqrt(mu / n).
    EXPECT_NEAR(r.std_errors[k], std::sqrt(means[k] / 17.0), 1e-7 * std::sqrt(means[k] / 17.0)) << k;
    // The deviance at the mean, written out.
    double dev = 0;
    for (std::size_t i = d.offsets[k]; i < d.offsets[k + 1]; ++i)
      dev += 2.0 * (means[k] - d.y[i] + (d.y[i] > 0 ? d.y[i] * std::log(d.y[i] / means[k]) : 0.0));
    EXPECT_NEAR(r.cost[k], dev, 1e-9 * std::max(1.0, dev)) << k;
  }
}

// Poisson maximum likelihood by Fisher scoring with step halving on the log-likelihood itself,
// written here independently of the batch solver.
std::vector<double> poisson_scoring(const Model& model, const std::vector<double>& x, const std::vector<double>& y,
                                    std::vector<double> theta) {
  const std::size_t n = x.size(), p = theta.size();
  const double* in[] = {x.data()};
  std::vector<double> f(n), J(n * p);
  const auto loglik = [&](const std::vector<double>& t) {
    std::vector<double> m(n);
    model.evaluate(t.data(), RowBlock{n, in}, m.data(), nullptr, 0);
    double l = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(m[i] > 0)) return -std::numeric_limits<double>::infinity();
      l += y[i] * std::log(m[i]) - m[i];
    }
    return l;
  };
  for (int it = 0; it < 200; ++it) {
    model.evaluate(theta.data(), RowBlock{n, in}, f.data(), J.data(), n);
    Eigen::MatrixXd I = Eigen::MatrixXd::Zero(Eigen::Index(p), Eigen::Index(p));
    Eigen::VectorXd s = Eigen::VectorXd::Zero(Eigen::Index(p));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t a = 0; a < p; ++a) {
        s(Eigen::Index(a)) += (y[i] / f[i] - 1.0) * J[a * n + i];
        for (std::size_t b = 0; b < p; ++b) I(Eigen::Index(a), Eigen::Index(b)) += J[a * n + i] * J[b * n + i] / f[i];
      }
    const Eigen::VectorXd step = I.ldlt().solve(s);
    const double before = loglik(theta);
    double scale = 1.0;
    std::vector<double> next(p);
    for (; scale > 1e-10; scale *= 0.5) {
      for (std::size_t a = 0; a < p; ++a) next[a] = theta[a] + scale * step(Eigen::Index(a));
      if (loglik(next) >= before) break;
    }
    theta = next;
    if (step.norm() * scale < 1e-13 * (1.0 + Eigen::Map<Eigen::VectorXd>(theta.data(), Eigen::Index(p)).norm())) break;
  }
  return theta;
}

TEST(BatchPoisson, GaussianPeaksMatchAnIndependentFisherScoring) {
  const auto model = make_builtin_model("gauss");  // a*exp(-(x-mu)^2/(2 s^2)) + c
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> amp(500, 1500), mu(12, 20), width(2, 5), off(10, 50);
  BatchData d;
  d.inputs.resize(1);
  std::vector<std::vector<double>> starts;
  for (int k = 0; k < 100; ++k) {
    const std::vector<double> truth = {amp(rng), mu(rng), width(rng), off(rng)};
    std::vector<double> x(32), f(32);
    for (int i = 0; i < 32; ++i) x[std::size_t(i)] = i;
    const double* in[] = {x.data()};
    model->evaluate(truth.data(), RowBlock{32, in}, f.data(), nullptr, 0);
    for (int i = 0; i < 32; ++i) {
      d.inputs[0].push_back(x[std::size_t(i)]);
      d.y.push_back(std::poisson_distribution<int>(f[std::size_t(i)])(rng));
    }
    d.offsets.push_back(d.y.size());
  }
  BatchSpec spec;
  spec.estimator = Estimator::kPoissonMle;
  const BatchResult r = fit_batch(*model, d, spec);
  std::size_t converged = 0;
  for (std::size_t k = 0; k < d.fits(); ++k) {
    if (r.status[k] != BatchStatus::kConverged) continue;
    ++converged;
    const std::vector<double> x(d.inputs[0].begin() + std::ptrdiff_t(d.offsets[k]),
                                d.inputs[0].begin() + std::ptrdiff_t(d.offsets[k + 1]));
    const std::vector<double> y(d.y.begin() + std::ptrdiff_t(d.offsets[k]), d.y.begin() + std::ptrdiff_t(d.offsets[k + 1]));
    // Started where the batch ended, nudged: scoring must come back to the same maximum.
    std::vector<double> start(r.estimates.begin() + std::ptrdiff_t(k * 4), r.estimates.begin() + std::ptrdiff_t(k * 4 + 4));
    for (double& v : start) v *= 1.02;
    const std::vector<double> mle = poisson_scoring(*model, x, y, start);
    for (std::size_t j = 0; j < 4; ++j)
      EXPECT_NEAR(r.estimates[k * 4 + j], mle[j], 1e-6 * std::max(1.0, std::abs(mle[j]))) << "fit " << k << " j " << j;
  }
  EXPECT_GE(converged, 98u);
}

}  // namespace
}  // namespace parafit
