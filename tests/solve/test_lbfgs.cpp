// L-BFGS: exact minima of quadratics, Rosenbrock, non-finite regions, honest termination,
// option checking and determinism.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/lbfgs.h"
#include "solve/lbfgs_line_search.h"

namespace parafit {
namespace {

// A = Q diag(lambda) Q' (Q a product of Givens rotations, eigenvalues 1..kappa spread
// geometrically), x* a chosen point and b = A x*. Two forms with the same minimizer:
//   expanded  0.5 x'Ax - b'x        minimum -0.5 b'x* (about -484 here), located by an LLT solve
//   centered  0.5 (x-x*)'A(x-x*)    minimum 0 at x*
// The expanded cost cannot resolve a distance below ~sqrt(eps |cost|) ~ 3e-7 from the minimum:
// there only the gradient tells where to go, and the line search's sufficient-decrease test
// compares costs that differ by less than their rounding.
struct QuadraticProblem {
  Eigen::MatrixXd A;
  Eigen::VectorXd b, truth, solution;
  QuadraticProblem(int n, double kappa) {
    Eigen::MatrixXd Q = Eigen::MatrixXd::Identity(n, n);
    for (int k = 0; k + 1 < n; ++k) {
      const double angle = 0.3 + 0.7 * k;
      Eigen::MatrixXd G = Eigen::MatrixXd::Identity(n, n);
      G(k, k) = G(k + 1, k + 1) = std::cos(angle);
      G(k, k + 1) = -std::sin(angle);
      G(k + 1, k) = std::sin(angle);
      Q = Q * G;
    }
    Eigen::VectorXd lambda(n);
    for (int i = 0; i < n; ++i) lambda(i) = std::pow(kappa, double(i) / (n - 1));
    A = Q * lambda.asDiagonal() * Q.transpose();
    A = 0.5 * (A + A.transpose());
    truth.resize(n);
    for (int i = 0; i < n; ++i) truth(i) = std::cos(1.0 + i) * 2.0;
    b = A * truth;
    solution = A.llt().solve(b);
  }
  Objective expanded() const {
    return [this](std::span<const double> x, std::span<double> g) {
      const Eigen::Map<const Eigen::VectorXd> xv(x.data(), Eigen::Index(x.size()));
      const Eigen::VectorXd Ax = A * xv;
      Eigen::Map<Eigen::VectorXd>(g.data(), Eigen::Index(g.size())) = Ax - b;
      return 0.5 * xv.dot(Ax) - b.dot(xv);
    };
  }
  Objective centered() const {
    return [this](std::span<const double> x, std::span<double> g) {
      const Eigen::VectorXd r = Eigen::Map<const Eigen::VectorXd>(x.data(), Eigen::Index(x.size())) - truth;
      const Eigen::VectorXd Ar = A * r;
      Eigen::Map<Eigen::VectorXd>(g.data(), Eigen::Index(g.size())) = Ar;
      return 0.5 * r.dot(Ar);
    };
  }
};

TEST(Lbfgs, FindsTheExactMinimumOfAQuadraticInAtMostNPlusOneIterations) {
  const int n = 10;
  const QuadraticProblem q(n, 100.0);
  // Near-exact line searches: L-BFGS with m >= n is then conjugate gradients, exact in n steps,
  // even on the expanded form. Only the gradient rule may stop it here.
  LbfgsOptions o;
  o.curvature = 1e-3;
  o.gradient_tolerance = 1e-12;
  o.function_tolerance = 0;
  o.parameter_tolerance = 0;
  std::vector<double> x(n, 0.0);
  const LbfgsSummary s = lbfgs_minimize(q.expanded(), x, o);
  ASSERT_TRUE(s.IsSolutionUsable()) << s.FullReport();
  EXPECT_EQ(s.termination, Termination::kGradientTolerance);
  EXPECT_LE(s.iterations, n + 1) << s.FullReport();
  for (int i = 0; i < n; ++i) EXPECT_NEAR(x[i], q.solution(i), 1e-9 * (1 + std::abs(q.solution(i))));

  // The default (inexact) line search converges too, in a few times n iterations (here ~45, on
  // the parameter tolerance ~1e-9 from x*), to the accuracy the cost can resolve: closely on the
  // centered form ...
  std::vector<double> y(n, 0.0);
  const LbfgsSummary d = lbfgs_minimize(q.centered(), y);
  ASSERT_TRUE(d.IsSolutionUsable()) << d.FullReport();
  EXPECT_LE(d.iterations, 6 * n) << d.FullReport();
  for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], q.truth(i), 1e-8);
  for (std::size_t k = 1; k < d.cost_history.size(); ++k) EXPECT_LT(d.cost_history[k], d.cost_history[k - 1]);
  // ... and on the expanded form the function tolerance (1e-12 of |cost| ~ 484) stops it within
  // about sqrt(2 * 1e-12 * 484 / smallest curvature 1) = 3e-5 of the minimum.
  std::vector<double> z(n, 0.0);
  const LbfgsSummary e = lbfgs_minimize(q.expanded(), z);
  ASSERT_TRUE(e.IsSolutionUsable()) << e.FullReport();
  EXPECT_EQ(e.termination, Termination::kFunctionTolerance) << e.FullReport();
  for (int i = 0; i < n; ++i) EXPECT_NEAR(z[i], q.solution(i), 5e-5);
}

// The line search's interpolation is exact on polynomials of its own degree.
TEST(Lbfgs, InterpolationFindsTheMinimizersOfCubicsAndQuadratics) {
  // f = a^3 - 3a: local minimum at 1. From both sides and in either order.
  auto f = [](double a) { return a * a * a - 3 * a; };
  auto df = [](double a) { return 3 * a * a - 3; };
  EXPECT_NEAR(detail::cubic_minimizer(0, f(0), df(0), 2, f(2), df(2)), 1.0, 1e-15);
  EXPECT_NEAR(detail::cubic_minimizer(2, f(2), df(2), 0, f(0), df(0)), 1.0, 1e-15);
  EXPECT_NEAR(detail::cubic_minimizer(0.5, f(0.5), df(0.5), 1.5, f(1.5), df(1.5)), 1.0, 1e-15);
  // Beyond both points (extrapolation): from 0.2 and 0.5, still descending.
  EXPECT_NEAR(detail::cubic_minimizer(0.2, f(0.2), df(0.2), 0.5, f(0.5), df(0.5)), 1.0, 4e-15);
  // A cubic without a stationary point: -a^3 - a descends everywhere.
  EXPECT_TRUE(std::isnan(detail::cubic_minimizer(0, 0, -1, 1, -2, -4)));
  // (a - 0.7)^2.
  EXPECT_NEAR(detail::quadratic_minimizer(0, 0.49, -1.4, 2, 1.69), 0.7, 1e-15);
  EXPECT_NEAR(detail::cubic_minimizer(0, 0.49, -1.4, 2, 1.69, 2.6), 0.7, 1e-15);
  // Concave: no minimizer.
  EXPECT_TRUE(std::isnan(detail::quadratic_minimizer(0, 0, -1, 1, -2)));
  // The fixed-order dot product.
  const std::vector<double> a = {1, 2, 3, 4, 5}, b = {1e16, 1, -1e16, 1, 0.5};
  // Lanes: s0 = 1e16 + 5 * 0.5 (the tail joins lane 0), s1 = 2, s2 = -3e16, s3 = 4.
  EXPECT_EQ(detail::fixed_order_dot(a, b), ((1e16 + 2.5) + 2.0) + (-3e16 + 4.0));
}

// MGH's extended Rosenbrock: sum over pairs of 100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2;
// n = 2 is the classic function. Minimum 0 at (1, ..., 1).
double rosenbrock(std::span<const double> x, std::span<double> g) {
  double f = 0;
  for (std::size_t i = 0; i + 1 < x.size(); i += 2) {
    const double t1 = x[i + 1] - x[i] * x[i];
    const double t2 = 1 - x[i];
    f += 100 * t1 * t1 + t2 * t2;
    g[i] = -400 * x[i] * t1 - 2 * t2;
    g[i + 1] = 200 * t1;
  }
  return f;
}

std::vector<double> rosenbrock_start(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = i % 2 == 0 ? -1.2 : 1.0;
  return x;
}

TEST(Lbfgs, SolvesRosenbrockFromTheStandardStart) {
  for (const std::size_t n : {2u, 10u}) {
    std::vector<double> x = rosenbrock_start(n);
    const LbfgsSummary s = lbfgs_minimize(rosenbrock, x);
    ASSERT_TRUE(s.IsSolutionUsable()) << "n = " << n << "\n" << s.FullReport();
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(x[i], 1.0, 1e-8) << "n = " << n << ", i = " << i;
    EXPECT_LT(s.final_cost, 1e-16);
    EXPECT_DOUBLE_EQ(s.initial_cost, n == 2 ? 24.2 : 121.0);
    EXPECT_EQ(s.cost_history.size(), std::size_t(s.iterations) + 1);
    EXPECT_EQ(s.cost_history.back(), s.final_cost);
    EXPECT_LT(s.iterations, 100) << s.FullReport();
    EXPECT_LT(s.evaluations, 150) << s.FullReport();
    EXPECT_NE(s.BriefReport().find("L-BFGS: converged"), std::string::npos) << s.BriefReport();
  }
}

// sum_i (10 x_i - log x_i): NaN for x < 0, +inf at 0; the minimum is x_i = 0.1. From 0.5 the first
// trial step (length 1) lands at -0.5, so the line search must back out of the non-finite region.
TEST(Lbfgs, BacksOutOfANonFiniteRegion) {
  int nonfinite_calls = 0;
  const Objective f = [&](std::span<const double> x, std::span<double> g) {
    double cost = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      cost += 10 * x[i] - std::log(x[i]);
      g[i] = 10 - 1 / x[i];
    }
    if (!std::isfinite(cost)) ++nonfinite_calls;
    return cost;
  };
  std::vector<double> x = {0.5, 0.3, 0.8};
  const LbfgsSummary s = lbfgs_minimize(f, x);
  ASSERT_TRUE(s.IsSolutionUsable()) << s.FullReport();
  EXPECT_GT(nonfinite_calls, 0);
  // The default function tolerance (1e-12 of a cost of ~9.9) ends it about
  // sqrt(2e-12 * 9.9 / 100) / sqrt(3) ~ 3e-8 from the minimum at most, in practice closer.
  for (const double v : x) EXPECT_NEAR(v, 0.1, 1e-8);
  EXPECT_NEAR(s.final_cost, 3 * (1 - std::log(0.1)), 1e-12);
}

TEST(Lbfgs, NonFiniteStartIsReported) {
  const Objective f = [](std::span<const double> x, std::span<double> g) {
    g[0] = 1 / x[0];
    return std::log(x[0]);
  };
  std::vector<double> x = {-1.0};
  const LbfgsSummary s = lbfgs_minimize(f, x);
  EXPECT_EQ(s.termination, Termination::kNonFiniteStart);
  EXPECT_FALSE(s.IsSolutionUsable());
  EXPECT_EQ(s.evaluations, 1);
  EXPECT_EQ(s.iterations, 0);
  EXPECT_EQ(x[0], -1.0);
  EXPECT_NE(s.message.find("not finite at the starting point"), std::string::npos) << s.message;
  // A finite cost with a non-finite gradient is just as unusable.
  const Objective h = [](std::span<const double>, std::span<double> g) {
    g[0] = NAN;
    return 1.0;
  };
  x = {2.0};
  EXPECT_EQ(lbfgs_minimize(h, x).termination, Termination::kNonFiniteStart);
}

TEST(Lbfgs, MaxIterationsIsReportedHonestly) {
  std::vector<double> x = rosenbrock_start(2);
  LbfgsOptions o;
  o.max_iterations = 5;
  const LbfgsSummary s = lbfgs_minimize(rosenbrock, x, o);
  EXPECT_EQ(s.termination, Termination::kMaxIterations);
  EXPECT_FALSE(s.IsSolutionUsable());
  EXPECT_EQ(s.iterations, 5);
  EXPECT_EQ(s.cost_history.size(), 6u);
  EXPECT_GT(s.final_cost, 1e-3);  // far from the minimum still
  EXPECT_LT(s.final_cost, s.initial_cost);
  EXPECT_NE(s.message.find("reached max_iterations (5)"), std::string::npos) << s.message;
  EXPECT_NE(s.BriefReport().find("NOT converged"), std::string::npos) << s.BriefReport();
  EXPECT_NE(s.FullReport().find("maximum iterations"), std::string::npos) << s.FullReport();
  // x is the last iterate, whose cost is final_cost.
  std::vector<double> g(2);
  EXPECT_EQ(rosenbrock(x, g), s.final_cost);
}

TEST(Lbfgs, AnInconsistentGradientEndsInALineSearchFailure) {
  // The gradient of -f: every "descent" direction climbs.
  const Objective f = [](std::span<const double> x, std::span<double> g) {
    const double cost = rosenbrock(x, g);
    for (double& v : g) v = -v;
    return cost;
  };
  std::vector<double> x = rosenbrock_start(2);
  const std::vector<double> start = x;
  const LbfgsSummary s = lbfgs_minimize(f, x);
  EXPECT_EQ(s.termination, Termination::kLineSearchFailed) << s.FullReport();
  EXPECT_FALSE(s.IsSolutionUsable());
  EXPECT_EQ(x, start);  // no step was accepted
  EXPECT_EQ(s.final_cost, s.initial_cost);
  EXPECT_LE(s.evaluations, 1 + LbfgsOptions{}.max_line_search_evaluations);
}

TEST(Lbfgs, AGradientThatTurnsWrongMidwayIsCaughtAfterARestart) {
  // Correct for the first 8 calls, then the gradient of -f.
  int calls = 0;
  const Objective f = [&](std::span<const double> x, std::span<double> g) {
    const double cost = rosenbrock(x, g);
    if (++calls > 8)
      for (double& v : g) v = -v;
    return cost;
  };
  std::vector<double> x = rosenbrock_start(2);
  const LbfgsSummary s = lbfgs_minimize(f, x);
  EXPECT_EQ(s.termination, Termination::kLineSearchFailed) << s.FullReport();
  EXPECT_GE(s.restarts, 1) << s.FullReport();
  EXPECT_GT(s.iterations, 0);
  EXPECT_LT(s.final_cost, s.initial_cost);
  EXPECT_EQ(s.evaluations, calls);
  // x is the last accepted iterate.
  std::vector<double> g(2);
  EXPECT_EQ(rosenbrock(x, g), s.final_cost);
  EXPECT_NE(s.message.find("inconsistent"), std::string::npos) << s.message;
}

TEST(Lbfgs, ACallbackSeesEveryIterationAndCanStop) {
  std::vector<double> costs;
  const LbfgsCallback stop_at_3 = [&](int iteration, double cost, std::span<const double> x) {
    costs.push_back(cost);
    EXPECT_EQ(x.size(), 2u);
    EXPECT_EQ(iteration, int(costs.size()));
    return iteration < 3;
  };
  std::vector<double> x = rosenbrock_start(2);
  const LbfgsSummary s = lbfgs_minimize(rosenbrock, x, {}, stop_at_3);
  EXPECT_EQ(s.termination, Termination::kUserStopped);
  EXPECT_FALSE(s.IsSolutionUsable());
  EXPECT_EQ(s.iterations, 3);
  ASSERT_EQ(costs.size(), 3u);
  EXPECT_EQ(costs, std::vector<double>(s.cost_history.begin() + 1, s.cost_history.end()));
}

TEST(Lbfgs, StartingAtTheMinimumTakesNoStep) {
  std::vector<double> x = {1.0, 1.0};
  const LbfgsSummary s = lbfgs_minimize(rosenbrock, x);
  EXPECT_EQ(s.termination, Termination::kGradientTolerance);
  EXPECT_EQ(s.iterations, 0);
  EXPECT_EQ(s.evaluations, 1);
}

TEST(Lbfgs, OptionsAreValidated) {
  std::string why;
  EXPECT_TRUE(LbfgsOptions{}.IsValid(&why));
  auto expect_invalid = [](LbfgsOptions o, const std::string& field) {
    std::string why;
    EXPECT_FALSE(o.IsValid(&why)) << field;
    EXPECT_NE(why.find(field), std::string::npos) << why;
    std::vector<double> x = {0.0, 0.0};
    try {
      lbfgs_minimize(rosenbrock, x, o);
      ADD_FAILURE() << "expected an Error for " << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("invalid L-BFGS options: " + why), std::string::npos) << e.what();
    }
  };
  LbfgsOptions o;
  o.memory = 0;
  expect_invalid(o, "memory");
  o = {};
  o.max_iterations = 0;
  expect_invalid(o, "max_iterations");
  o = {};
  o.gradient_tolerance = -1e-10;
  expect_invalid(o, "gradient_tolerance");
  o = {};
  o.function_tolerance = NAN;
  expect_invalid(o, "function_tolerance");
  o = {};
  o.parameter_tolerance = INFINITY;
  expect_invalid(o, "parameter_tolerance");
  o = {};
  o.max_line_search_evaluations = 0;
  expect_invalid(o, "max_line_search_evaluations");
  o = {};
  o.sufficient_decrease = 0.95;  // above curvature
  expect_invalid(o, "0 < sufficient_decrease < curvature < 1");
  o = {};
  o.curvature = 1.0;
  expect_invalid(o, "0 < sufficient_decrease < curvature < 1");
  o = {};
  o.sufficient_decrease = 0.0;
  expect_invalid(o, "0 < sufficient_decrease < curvature < 1");
  std::vector<double> empty;
  EXPECT_THROW(lbfgs_minimize(rosenbrock, empty), Error);
}

// Two runs: the same points asked for in the same order, the same bits out.
TEST(Lbfgs, IsDeterministic) {
  auto run = [](std::vector<double>& x, std::vector<std::vector<double>>& calls) {
    const Objective f = [&](std::span<const double> p, std::span<double> g) {
      calls.emplace_back(p.begin(), p.end());
      return rosenbrock(p, g);
    };
    LbfgsOptions o;
    o.memory = 4;  // exercise the ring of pairs wrapping around
    return lbfgs_minimize(f, x, o);
  };
  std::vector<double> x1 = rosenbrock_start(10), x2 = rosenbrock_start(10);
  std::vector<std::vector<double>> calls1, calls2;
  const LbfgsSummary s1 = run(x1, calls1);
  const LbfgsSummary s2 = run(x2, calls2);
  ASSERT_TRUE(s1.IsSolutionUsable()) << s1.FullReport();
  EXPECT_EQ(s1.evaluations, s2.evaluations);
  EXPECT_EQ(std::size_t(s1.evaluations), calls1.size());
  ASSERT_EQ(calls1.size(), calls2.size());
  for (std::size_t k = 0; k < calls1.size(); ++k)
    ASSERT_EQ(std::memcmp(calls1[k].data(), calls2[k].data(), calls1[k].size() * sizeof(double)), 0) << k;
  EXPECT_EQ(std::memcmp(x1.data(), x2.data(), x1.size() * sizeof(double)), 0);
  EXPECT_EQ(s1.iterations, s2.iterations);
  EXPECT_EQ(s1.termination, s2.termination);
  ASSERT_EQ(s1.cost_history.size(), s2.cost_history.size());
  EXPECT_EQ(std::memcmp(s1.cost_history.data(), s2.cost_history.data(), s1.cost_history.size() * sizeof(double)), 0);
}

}  // namespace
}  // namespace parafit
