// The rank test behind "singular gradient": exact and near rank deficiency of J^T W J, the
// parameters its null space names, and well-conditioned matrices left alone.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "parafit/fit.h"
#include "solve/rank_deficiency.h"
#include "support/synthetic.h"

namespace parafit {
namespace {

// J^T J of a Jacobian whose columns are given.
Eigen::MatrixXd gram(const Eigen::MatrixXd& J) { return J.transpose() * J; }

Eigen::MatrixXd columns_with_angle(double sin_angle, double scale_b) {
  // Three columns over 50 rows: c0 and c1 nearly parallel (angle asin(sin_angle)), c2 unrelated,
  // with wildly different scales so that only a scaled test judges them fairly.
  Eigen::MatrixXd J(50, 3);
  for (Eigen::Index i = 0; i < 50; ++i) {
    const double t = double(i) / 49.0;
    const double u = std::cos(7.0 * t);
    J(i, 0) = 1e3 * std::exp(-t);
    J(i, 1) = scale_b * (std::exp(-t) + sin_angle * u);
    J(i, 2) = t * t;
  }
  return J;
}

TEST(RankDeficiency, FullRankIsLeftAlone) {
  const detail::RankDeficiency rd = detail::rank_deficiency(gram(columns_with_angle(1e-3, 1e-6)));
  EXPECT_FALSE(rd.deficient());
  EXPECT_EQ(rd.rank, 3u);
  EXPECT_TRUE(rd.involved.empty());
  EXPECT_GT(rd.reciprocal_condition, 1e-5);
}

TEST(RankDeficiency, ExactlyParallelColumnsAreNamed) {
  const detail::RankDeficiency rd = detail::rank_deficiency(gram(columns_with_angle(0.0, 1e-6)));
  EXPECT_TRUE(rd.deficient());
  EXPECT_EQ(rd.rank, 2u);
  EXPECT_EQ(rd.involved, (std::vector<std::size_t>{0, 1}));
}

TEST(RankDeficiency, TheToleranceIsOnTheScaledSingularValues) {
  // sigma_min / sigma_max of the scaled Jacobian is about the columns' sine, times a constant of
  // order one: 1e-5 is well-posed (as bad as NIST's worst), 1e-9 is singular.
  EXPECT_FALSE(detail::rank_deficiency(gram(columns_with_angle(1e-5, 1e8))).deficient());
  EXPECT_TRUE(detail::rank_deficiency(gram(columns_with_angle(1e-9, 1e8))).deficient());
}

TEST(RankDeficiency, AColumnWithoutEffectIsItsOwnNullDirection) {
  Eigen::MatrixXd H = gram(columns_with_angle(1e-2, 1.0));
  H.row(2).setZero();
  H.col(2).setZero();
  const detail::RankDeficiency rd = detail::rank_deficiency(H);
  EXPECT_EQ(rd.rank, 2u);
  EXPECT_EQ(rd.involved, (std::vector<std::size_t>{2}));
}

// a*b*exp(-k x): only the product a*b is identifiable. R's nls stops with "singular gradient";
// parafit used to print "Converged" and a tolerance of 0.
TEST(LevenbergMarquardt, UnidentifiableProductIsASingularGradientNotConvergence) {
  const auto model = make_builtin_model("exp-decay");
  const auto s = testing::make_synthetic(*model, {2.5, 1.3, 0.0}, 2000, 0.0, 5.0, 0.05);
  FitSpec spec;
  spec.model = "a*b*exp(-k*x)";
  spec.start = {{"a", 1}, {"b", 1}, {"k", 1}};
  const FitResult r = fit(testing::to_dataset(s), spec, Context{});
  EXPECT_EQ(r.summary.termination, Termination::kSingularGradient) << r.summary.FullReport();
  EXPECT_FALSE(r.summary.IsSolutionUsable());
  EXPECT_NE(r.summary.message.find("'a', 'b' cannot be told apart"), std::string::npos) << r.summary.message;
  EXPECT_EQ(r.summary.message.find("'k'"), std::string::npos) << r.summary.message;
  EXPECT_TRUE(r.statistics.singular);
  for (const auto& pe : r.statistics.parameters) EXPECT_TRUE(std::isnan(pe.std_error)) << pe.name;
  EXPECT_TRUE(std::isnan(r.statistics.relative_offset));
}

TEST(LevenbergMarquardt, IdentifiableVersionOfTheSameModelConverges) {
  const auto model = make_builtin_model("exp-decay");
  const auto s = testing::make_synthetic(*model, {2.5, 1.3, 0.0}, 2000, 0.0, 5.0, 0.05);
  FitSpec spec;
  spec.model = "a*exp(-k*x)";
  spec.start = {{"a", 1}, {"k", 1}};
  const FitResult r = fit(testing::to_dataset(s), spec, Context{});
  EXPECT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  EXPECT_FALSE(r.statistics.singular);
}


// c + sqrt(a*x) on exponential-decay data: LM drives a to the edge of sqrt's domain (a -> 0+, where
// d/da grows without bound) and stops on the parameter tolerance with the residual still along
// a's column (gradient cosine 0.18). parafit used to print "Converged" there.
TEST(LevenbergMarquardt, AStopAtTheEdgeOfTheDomainIsNotAMinimum) {
  const auto model = make_builtin_model("exp-decay");
  const auto s = testing::make_synthetic(*model, {2.5, 1.3, 0.5}, 2000, 0.0, 5.0, 0.05);
  FitSpec spec;
  spec.model = "c + sqrt(a*x)";
  spec.start = {{"a", 1}, {"c", 1}};
  const FitResult r = fit(testing::to_dataset(s), spec, Context{});
  EXPECT_EQ(r.summary.termination, Termination::kNotAMinimum) << r.summary.FullReport();
  EXPECT_FALSE(r.summary.IsSolutionUsable());
  EXPECT_GT(r.summary.max_gradient_cosine, 0.1);
  EXPECT_NE(r.summary.message.find("not a minimum of the RSS"), std::string::npos) << r.summary.message;
}

// Noise-free data: the fit explains all but rounding, whose gradient cosines are large and
// meaningless; such a fit stays converged.
TEST(LevenbergMarquardt, APerfectFitStaysConvergedWhateverItsRoundingCosines) {
  const auto model = make_builtin_model("gauss");
  const auto s = testing::make_synthetic(*model, {3.0, 5.0, 1.2, 0.4}, 1000, 0.1, 10.0, 0.0);
  FitSpec spec;
  spec.model = "gauss";
  const FitResult r = fit(testing::to_dataset(s), spec, Context{});
  EXPECT_TRUE(r.summary.IsSolutionUsable()) << r.summary.FullReport();
  EXPECT_GT(r.summary.max_gradient_cosine, 1e-2);  // what the exemption is for
  EXPECT_LT(r.statistics.rss, 1e-12 * r.statistics.tss);
}

}  // namespace
}  // namespace parafit
