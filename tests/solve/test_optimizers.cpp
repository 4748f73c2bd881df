// SGD, Adam and AdamW against PyTorch's update rules written out in scalar code, closed forms,
// known properties, convergence, checkpoint state and argument checking.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/optimizer.h"

namespace parafit {
namespace {

void expect_relative(const std::vector<double>& actual, const std::vector<double>& expected,
                     double tolerance, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i)
    EXPECT_LE(std::abs(actual[i] - expected[i]), tolerance * std::abs(expected[i]))
        << what << " [" << i << "]: " << actual[i] << " vs " << expected[i];
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// The gradient of the quadratic 0.5 sum_i a_i (theta_i - c_i)^2 with a spread of curvatures.
struct Quadratic {
  std::vector<double> a, c;
  explicit Quadratic(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      a.push_back(0.5 + 1.5 * double(i) / double(n));    // curvatures in [0.5, 2)
      c.push_back(std::sin(1.0 + double(i)) * 3.0);      // the minimum
    }
  }
  std::vector<double> gradient(const std::vector<double>& theta) const {
    std::vector<double> g(theta.size());
    for (std::size_t i = 0; i < theta.size(); ++i) g[i] = a[i] * (theta[i] - c[i]);
    return g;
  }
};

std::vector<double> start_values(std::size_t n) {
  std::vector<double> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = 0.25 * double(i) - 1.0;
  return p;
}

// ---- SGD ------------------------------------------------------------------------------------

TEST(SgdOptimizer, PlainStepIsThetaMinusLrTimesGradient) {
  auto opt = make_sgd(2);
  EXPECT_EQ(opt->name(), "sgd");
  EXPECT_EQ(opt->num_parameters(), 2u);
  std::vector<double> p = {1.0, -2.0};
  const std::vector<double> g = {0.5, 4.0};
  opt->step(p, g, 0.1);
  EXPECT_EQ(p[0], 1.0 - 0.1 * 0.5);
  EXPECT_EQ(p[1], -2.0 - 0.1 * 4.0);
  EXPECT_EQ(opt->steps_taken(), 1u);
}

// torch.optim.SGD's recurrence, one scalar at a time, for every combination of the options.
TEST(SgdOptimizer, MomentumDampeningNesterovAndWeightDecayFollowTorchRecurrence) {
  struct Case { double momentum, dampening, weight_decay; bool nesterov; };
  const Case cases[] = {{0.0, 0.0, 0.0, false}, {0.0, 0.0, 0.01, false}, {0.9, 0.0, 0.0, false},
                        {0.9, 0.3, 0.0, false}, {0.8, 0.5, 0.05, false}, {0.9, 0.0, 0.0, true},
                        {0.7, 0.0, 0.02, true}};
  const std::size_t n = 7;
  const Quadratic q(n);
  for (const Case& cs : cases) {
    SgdOptions o;
    o.momentum = cs.momentum;
    o.dampening = cs.dampening;
    o.weight_decay = cs.weight_decay;
    o.nesterov = cs.nesterov;
    auto opt = make_sgd(n, o);
    std::vector<double> p = start_values(n);
    std::vector<double> ref = p, buf(n, 0.0);
    const double lrs[] = {0.1, 0.05, 0.2, 0.1, 0.01, 0.3};
    for (int t = 1; t <= 6; ++t) {
      const double lr = lrs[t - 1];
      const std::vector<double> g = q.gradient(p);
      const std::vector<double> g_ref = q.gradient(ref);
      opt->step(p, g, lr);
      for (std::size_t i = 0; i < n; ++i) {
        double d = g_ref[i];
        if (cs.weight_decay != 0) d = d + cs.weight_decay * ref[i];
        if (cs.momentum != 0) {
          buf[i] = t == 1 ? d : cs.momentum * buf[i] + (1 - cs.dampening) * d;
          d = cs.nesterov ? d + cs.momentum * buf[i] : buf[i];
        }
        ref[i] = ref[i] - lr * d;
      }
      expect_relative(p, ref, 1e-15,
                      "momentum " + std::to_string(cs.momentum) + " dampening " +
                          std::to_string(cs.dampening) + " step " + std::to_string(t));
    }
  }
}

// A constant gradient g: b_1 = g, b_t = mu b_{t-1} + (1 - tau) g, so
// b_t = g (mu^(t-1) + (1 - tau)(1 - mu^(t-1)) / (1 - mu)), and theta_T = theta_0 - lr sum_t u_t with
// u_t = b_t (heavy ball) or g + mu b_t (Nesterov).
TEST(SgdOptimizer, ConstantGradientMatchesTheClosedForm) {
  const double g = 0.7, lr = 0.05, mu = 0.9;
  for (const double tau : {0.0, 0.25}) {
    for (const bool nesterov : {false, true}) {
      if (nesterov && tau != 0) continue;
      SgdOptions o;
      o.momentum = mu;
      o.dampening = tau;
      o.nesterov = nesterov;
      auto opt = make_sgd(1, o);
      std::vector<double> p = {3.0};
      const std::vector<double> grad = {g};
      double sum_u = 0;
      for (int t = 1; t <= 25; ++t) {
        opt->step(p, grad, lr);
        const double b = g * (std::pow(mu, t - 1) + (1 - tau) * (1 - std::pow(mu, t - 1)) / (1 - mu));
        sum_u += nesterov ? g + mu * b : b;
        EXPECT_NEAR(p[0], 3.0 - lr * sum_u, 1e-13) << "tau " << tau << " nesterov " << nesterov << " t " << t;
      }
    }
  }
}

TEST(SgdOptimizer, ConvergesOnAQuadratic) {
  const std::size_t n = 50;
  const Quadratic q(n);
  for (const bool nesterov : {false, true}) {
    SgdOptions o;
    o.momentum = 0.9;
    o.nesterov = nesterov;
    auto opt = make_sgd(n, o);
    std::vector<double> p = start_values(n);
    for (int t = 0; t < 600; ++t) opt->step(p, q.gradient(p), 0.1);
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(p[i], q.c[i], 1e-10) << "nesterov " << nesterov;
  }
  // Weight decay moves the minimum of the penalized loss to a c / (a + lambda).
  SgdOptions o;
  o.weight_decay = 0.1;
  auto opt = make_sgd(n, o);
  std::vector<double> p = start_values(n);
  for (int t = 0; t < 2000; ++t) opt->step(p, q.gradient(p), 0.5);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(p[i], q.a[i] * q.c[i] / (q.a[i] + 0.1), 1e-12);
}

TEST(SgdOptimizer, OptionsAreValidated) {
  std::string why;
  EXPECT_TRUE(SgdOptions{}.IsValid(&why));
  SgdOptions o;
  o.momentum = 1.0;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("momentum"), std::string::npos) << why;
  o = {};
  o.momentum = -0.1;
  EXPECT_FALSE(o.IsValid());
  o = {};
  o.dampening = 1.5;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("dampening"), std::string::npos) << why;
  o = {};
  o.weight_decay = -1e-4;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("weight_decay"), std::string::npos) << why;
  o = {};
  o.weight_decay = NAN;
  EXPECT_FALSE(o.IsValid());
  o = {};
  o.nesterov = true;  // without momentum
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("Nesterov"), std::string::npos) << why;
  o.momentum = 0.9;
  EXPECT_TRUE(o.IsValid());
  o.dampening = 0.1;  // Nesterov with dampening
  EXPECT_FALSE(o.IsValid());
  try {
    make_sgd(3, o);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid SGD options"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_sgd(0, SgdOptions{}), Error);
}

// ---- Adam / AdamW ---------------------------------------------------------------------------

// The first step: m = (1 - b1) g, v = (1 - b2) g^2, so mhat = g, vhat = g^2 and the step is
// lr g / (|g| + eps): about lr sign(g) whatever the gradient's size.
TEST(AdamOptimizer, FirstStepMovesEveryParameterByAboutLrTimesSignOfGradient) {
  const std::vector<double> g = {1e-3, -1.0, 250.0, -4e4, 3e-2};
  for (const bool decoupled : {false, true}) {
    AdamOptions o;
    o.weight_decay = 0.0;
    auto opt = decoupled ? make_adamw(g.size(), o) : make_adam(g.size(), o);
    std::vector<double> p = {1.0, 2.0, -3.0, 0.5, 0.0};
    const std::vector<double> p0 = p;
    const double lr = 1e-3;
    opt->step(p, g, lr);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double moved = p[i] - p0[i];
      EXPECT_NEAR(moved, -lr * std::copysign(1.0, g[i]), lr * 1e-5) << i;
      // Exactly as computed by the rearranged formula, to rounding.
      EXPECT_NEAR(moved, -lr * g[i] / (std::abs(g[i]) + 1e-8), 1e-15) << i;
    }
  }
}

// Adam and AdamW, torch's formulas one scalar at a time, five steps, with and without decay.
TEST(AdamOptimizer, StepsFollowTorchFormulas) {
  const std::size_t n = 6;
  const Quadratic q(n);
  for (const bool decoupled : {false, true}) {
    for (const double lambda : {0.0, 0.05}) {
      AdamOptions o;
      o.beta1 = 0.8;
      o.beta2 = 0.99;
      o.epsilon = 1e-6;
      o.weight_decay = lambda;
      auto opt = decoupled ? make_adamw(n, o) : make_adam(n, o);
      EXPECT_EQ(opt->name(), decoupled ? "adamw" : "adam");
      std::vector<double> p = start_values(n), ref = p, m(n, 0.0), v(n, 0.0);
      const double lrs[] = {0.1, 0.05, 0.02, 0.2, 0.1};
      for (int t = 1; t <= 5; ++t) {
        const double lr = lrs[t - 1];
        const std::vector<double> g = q.gradient(p);
        const std::vector<double> g_ref = q.gradient(ref);
        opt->step(p, g, lr);
        for (std::size_t i = 0; i < n; ++i) {
          double gi = g_ref[i];
          if (decoupled)
            ref[i] = ref[i] * (1 - lr * lambda);
          else
            gi = gi + lambda * ref[i];
          m[i] = 0.8 * m[i] + (1 - 0.8) * gi;
          v[i] = 0.99 * v[i] + (1 - 0.99) * gi * gi;
          const double mhat = m[i] / (1 - std::pow(0.8, t));
          const double vhat = v[i] / (1 - std::pow(0.99, t));
          ref[i] = ref[i] - lr * mhat / (std::sqrt(vhat) + 1e-6);
        }
        expect_relative(p, ref, 1e-14,
                        std::string(decoupled ? "adamw" : "adam") + " lambda " +
                            std::to_string(lambda) + " step " + std::to_string(t));
      }
    }
  }
}

// Two steps worked by hand with round numbers: beta1 = 0.5, beta2 = 0.75, eps = 0, g = 2 then -1,
// lr = 1. Step 1: m = 1, v = 1, mhat = 2, vhat = 4, theta -= 2/2 = 1. Step 2: m = 0.5*1 + 0.5*(-1)
// = 0, so theta stays. Step 3 with g = 4: m = 2, v = 0.75*(0.75*1 + 0.25) + 0.25*16 = 4.75,
// mhat = 2/(1 - 1/8) = 16/7, vhat = 4.75/(1 - 27/64) = 4.75*64/37, theta -= mhat/sqrt(vhat).
TEST(AdamOptimizer, ThreeStepsWorkedByHand) {
  AdamOptions o;
  o.beta1 = 0.5;
  o.beta2 = 0.75;
  o.epsilon = 1e-300;  // negligible but valid
  auto opt = make_adam(1, o);
  std::vector<double> p = {10.0};
  opt->step(p, std::vector<double>{2.0}, 1.0);
  EXPECT_DOUBLE_EQ(p[0], 9.0);
  opt->step(p, std::vector<double>{-1.0}, 1.0);
  EXPECT_DOUBLE_EQ(p[0], 9.0);
  opt->step(p, std::vector<double>{4.0}, 1.0);
  EXPECT_NEAR(p[0], 9.0 - (16.0 / 7.0) / std::sqrt(4.75 * 64.0 / 37.0), 1e-15);
  const OptimizerState s = opt->state();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, "step");
  EXPECT_EQ(s[0].second[0], 3.0);
  EXPECT_EQ(s[1].first, "exp_avg");
  EXPECT_DOUBLE_EQ(s[1].second[0], 2.0);
  EXPECT_EQ(s[2].first, "exp_avg_sq");
  EXPECT_DOUBLE_EQ(s[2].second[0], 4.75);
}

TEST(AdamOptimizer, DefaultWeightDecayIsZeroForAdamAndOneHundredthForAdamW) {
  // With a zero gradient the moments stay 0 and the Adam step is 0/(0 + eps) = 0: only the
  // decoupled decay moves the parameters.
  std::vector<double> p = {2.0, -4.0};
  const std::vector<double> zero = {0.0, 0.0};
  auto adam = make_adam(2);
  adam->step(p, zero, 0.5);
  EXPECT_EQ(p, (std::vector<double>{2.0, -4.0}));
  auto adamw = make_adamw(2);
  adamw->step(p, zero, 0.5);
  EXPECT_EQ(p[0], 2.0 * (1 - 0.5 * kAdamWDefaultWeightDecay));
  EXPECT_EQ(p[1], -4.0 * (1 - 0.5 * 0.01));
  AdamOptions none;
  none.weight_decay = 0.0;
  auto plain = make_adamw(2, none);
  plain->step(p, zero, 0.5);
  EXPECT_EQ(p[0], 2.0 * (1 - 0.5 * 0.01));
}

TEST(AdamOptimizer, ConvergesOnAQuadratic) {
  const std::size_t n = 40;
  const Quadratic q(n);
  auto opt = make_adam(n);
  std::vector<double> p = start_values(n);
  const int steps = 3000;
  for (int t = 0; t < steps; ++t) {
    // Cosine decay of lr to 0 lets Adam settle instead of oscillating at the scale of lr.
    const double lr = 0.05 * 0.5 * (1 + std::cos(std::numbers::pi * t / steps));
    opt->step(p, q.gradient(p), lr);
  }
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(p[i], q.c[i], 1e-4);
}

TEST(AdamOptimizer, OptionsAreValidated) {
  std::string why;
  EXPECT_TRUE(AdamOptions{}.IsValid(&why));
  AdamOptions o;
  o.beta1 = 1.0;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("beta1"), std::string::npos) << why;
  o = {};
  o.beta2 = -0.5;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("beta2"), std::string::npos) << why;
  o = {};
  o.epsilon = 0.0;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("epsilon"), std::string::npos) << why;
  o = {};
  o.weight_decay = -0.01;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("weight_decay"), std::string::npos) << why;
  o = {};
  o.beta2 = NAN;
  EXPECT_FALSE(o.IsValid());
  try {
    make_adamw(3, o);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid AdamW options"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_adam(0, AdamOptions{}), Error);
}

// ---- against PyTorch ------------------------------------------------------------------------

// Twenty steps on the gradient a_i (theta_i - c_i), a_i = 0.5 + 0.25 i, c_i = 1.5 - 0.75 i, from
// theta_i = 0.3 i - 0.7, with lr_t = 0.1 / (1 + 0.1 t) at step t = 0..19. The expected parameters
// were computed by PyTorch 1.13.1 in float64:
//   torch.set_default_dtype(torch.float64); p = torch.tensor([0.3*i - 0.7 for i in range(5)],
//   requires_grad=True); o = torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1,
//   weight_decay=0.01)  (and the others below); per step: set group['lr'], p.grad = a*(p - c),
//   o.step().
// PyTorch's CPU kernels fuse multiply-adds, so the trajectories agree to rounding, not to the bit.
TEST(Optimizers, MatchPyTorchTrajectories) {
  const int n = 5;
  SgdOptions sgd_damped;
  sgd_damped.momentum = 0.9;
  sgd_damped.dampening = 0.1;
  sgd_damped.weight_decay = 0.01;
  SgdOptions sgd_nesterov;
  sgd_nesterov.momentum = 0.9;
  sgd_nesterov.nesterov = true;
  sgd_nesterov.weight_decay = 0.02;
  AdamOptions adam;  // betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05
  adam.beta1 = 0.8;
  adam.beta2 = 0.99;
  adam.epsilon = 1e-6;
  adam.weight_decay = 0.05;
  struct Case {
    std::unique_ptr<Optimizer> optimizer;
    std::vector<double> torch;
  };
  Case cases[] = {
      {make_sgd(n, sgd_damped),
       {2.0174817355127384, 1.0179586067387525, 0.010497820828826228, -0.6907870485452672, -1.1252999933454646}},
      {make_sgd(n, sgd_nesterov),
       {1.8656217998375468, 0.8708100133751363, 0.0008588548301275598, -0.6718942778533344, -1.2829015419466132}},
      {make_adam(n, adam),
       {0.35735782787444714, 0.5451905670588248, -0.007468923869274987, -0.6818735764287636, -0.5515165670884515}},
      {make_adamw(n, adam),
       {0.3718482430469077, 0.5514020277423262, -0.00733647220983559, -0.6820992399580016, -0.5524675761640951}},
      // torch.optim.Adam([p], lr=0.1) and torch.optim.AdamW([p], lr=0.1): the defaults.
      {make_adam(n),
       {0.38979669080736384, 0.6113440075376162, 0.017848321839803834, -0.7588773690834641, -0.5834989036628591}},
      {make_adamw(n),
       {0.3915648639783039, 0.6100374504968366, 0.017681498241938143, -0.7560811557128501, -0.5831382629236369}},
  };
  for (Case& cs : cases) {
    std::vector<double> p(n), g(n);
    for (int i = 0; i < n; ++i) p[i] = 0.3 * i - 0.7;
    for (int t = 0; t < 20; ++t) {
      for (int i = 0; i < n; ++i) g[i] = (0.5 + 0.25 * i) * (p[i] - (1.5 - 0.75 * i));
      cs.optimizer->step(p, g, 0.1 / (1 + 0.1 * t));
    }
    for (int i = 0; i < n; ++i) EXPECT_NEAR(p[i], cs.torch[i], 1e-14) << cs.optimizer->name() << " " << i;
  }
}

// ---- common to all ----------------------------------------------------------------------------

std::vector<std::unique_ptr<Optimizer>> all_kinds(std::size_t n) {
  std::vector<std::unique_ptr<Optimizer>> out;
  out.push_back(make_sgd(n));
  SgdOptions momentum;
  momentum.momentum = 0.9;
  momentum.dampening = 0.1;
  momentum.weight_decay = 1e-3;
  out.push_back(make_sgd(n, momentum));
  AdamOptions adam;
  adam.weight_decay = 1e-3;
  out.push_back(make_adam(n, adam));
  out.push_back(make_adamw(n));
  return out;
}

TEST(Optimizers, StateRoundTripContinuesTheSameTrajectoryBitForBit) {
  const std::size_t n = 33;
  const Quadratic q(n);
  auto first = all_kinds(n);
  auto second = all_kinds(n);
  for (std::size_t k = 0; k < first.size(); ++k) {
    Optimizer& a = *first[k];
    Optimizer& b = *second[k];
    std::vector<double> p = start_values(n);
    for (int t = 0; t < 7; ++t) a.step(p, q.gradient(p), 0.05);
    // b resumes from a's checkpoint; a goes on.
    b.set_state(a.state());
    EXPECT_EQ(b.steps_taken(), 7u);
    std::vector<double> pa = p, pb = p;
    for (int t = 0; t < 9; ++t) {
      a.step(pa, q.gradient(pa), 0.03);
      b.step(pb, q.gradient(pb), 0.03);
    }
    EXPECT_TRUE(same_bits(pa, pb)) << a.name();
    const OptimizerState sa = a.state(), sb = b.state();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t e = 0; e < sa.size(); ++e) {
      EXPECT_EQ(sa[e].first, sb[e].first);
      EXPECT_TRUE(same_bits(sa[e].second, sb[e].second)) << a.name() << " " << sa[e].first;
    }
  }
}

TEST(Optimizers, StateNamesFollowPyTorch) {
  auto kinds = all_kinds(4);
  auto names = [](const OptimizerState& s) {
    std::vector<std::string> out;
    for (const auto& e : s) out.push_back(e.first);
    return out;
  };
  EXPECT_EQ(names(kinds[0]->state()), (std::vector<std::string>{"step"}));
  EXPECT_EQ(names(kinds[1]->state()), (std::vector<std::string>{"step", "momentum_buffer"}));
  EXPECT_EQ(names(kinds[2]->state()), (std::vector<std::string>{"step", "exp_avg", "exp_avg_sq"}));
  EXPECT_EQ(names(kinds[3]->state()), (std::vector<std::string>{"step", "exp_avg", "exp_avg_sq"}));
}

void expect_state_error(Optimizer& opt, const OptimizerState& s, const std::string& needle) {
  const OptimizerState before = opt.state();
  try {
    opt.set_state(s);
    ADD_FAILURE() << "expected an Error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(opt.name() + " state"), std::string::npos) << e.what();
  }
  // A rejected state changes nothing.
  const OptimizerState after = opt.state();
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t e = 0; e < before.size(); ++e) EXPECT_TRUE(same_bits(before[e].second, after[e].second));
}

TEST(Optimizers, BadStateIsAClearError) {
  auto adam = make_adam(3);
  std::vector<double> p = {1, 2, 3};
  adam->step(p, std::vector<double>{0.1, -0.2, 0.3}, 0.01);
  const OptimizerState good = adam->state();

  OptimizerState s = good;
  s.pop_back();
  expect_state_error(*adam, s, "expected the entries 'step', 'exp_avg', 'exp_avg_sq', got 'step', 'exp_avg'");
  s = good;
  s[1].first = "momentum_buffer";
  expect_state_error(*adam, s, "unexpected entry 'momentum_buffer'");
  s = good;
  s[2].first = "exp_avg";
  expect_state_error(*adam, s, "entry 'exp_avg' appears twice");
  s = good;
  s[1].second.push_back(0.0);
  expect_state_error(*adam, s, "'exp_avg' has 4 values where the optimizer has 3 parameters");
  s = good;
  s[0].second = {2.5};
  expect_state_error(*adam, s, "'step' must be a whole number >= 0, got 2.5");
  s = good;
  s[0].second = {1.0, 2.0};
  expect_state_error(*adam, s, "'step' must hold one value");
  s = good;
  s[2].second[1] = -1e-9;
  expect_state_error(*adam, s, "'exp_avg_sq'[1] is negative");
  s = good;
  s[1].second[2] = NAN;
  expect_state_error(*adam, s, "'exp_avg'[2] is not finite");

  // An SGD state given to Adam and the other way round.
  auto sgd = make_sgd(3, SgdOptions{.momentum = 0.9});
  expect_state_error(*adam, sgd->state(), "expected the entries");
  expect_state_error(*sgd, good, "expected the entries 'step', 'momentum_buffer'");
  // Reordered entries are fine.
  s = good;
  std::swap(s[0], s[2]);
  EXPECT_NO_THROW(adam->set_state(s));
  EXPECT_EQ(adam->steps_taken(), 1u);
}

TEST(Optimizers, StepChecksItsArguments) {
  for (auto& opt : all_kinds(3)) {
    std::vector<double> p = {1, 2, 3}, g = {0.1, 0.2, 0.3}, short_g = {0.1, 0.2};
    try {
      opt->step(p, short_g, 0.1);
      ADD_FAILURE() << "expected an Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("made for 3 parameters"), std::string::npos) << e.what();
    }
    std::vector<double> long_p = {1, 2, 3, 4};
    EXPECT_THROW(opt->step(long_p, g, 0.1), Error);
    EXPECT_THROW(opt->step(p, g, -0.1), Error);
    EXPECT_THROW(opt->step(p, g, INFINITY), Error);
    EXPECT_THROW(opt->step(p, std::span<const double>(p), 0.1), Error);  // overlapping
    EXPECT_EQ(p, (std::vector<double>{1, 2, 3}));  // nothing changed
    EXPECT_EQ(opt->steps_taken(), 0u);
  }
}

// The bits depend only on the values: not on where in memory (the alignment) the spans start.
TEST(Optimizers, SameInputsGiveTheSameBitsAtAnyAlignment) {
  const std::size_t n = 1001;
  const Quadratic q(n);
  auto aligned = all_kinds(n);
  auto shifted = all_kinds(n);
  for (std::size_t k = 0; k < aligned.size(); ++k) {
    std::vector<double> pa = start_values(n);
    std::vector<double> storage_p(n + 1), storage_g(n + 3);
    std::copy(pa.begin(), pa.end(), storage_p.begin() + 1);
    const std::span<double> pb(storage_p.data() + 1, n);
    for (int t = 0; t < 5; ++t) {
      const std::vector<double> g = q.gradient(pa);
      std::copy(g.begin(), g.end(), storage_g.begin() + 3);
      aligned[k]->step(pa, g, 0.01);
      shifted[k]->step(pb, std::span<const double>(storage_g.data() + 3, n), 0.01);
    }
    EXPECT_EQ(std::memcmp(pa.data(), pb.data(), n * sizeof(double)), 0) << aligned[k]->name();
  }
}

}  // namespace
}  // namespace parafit
