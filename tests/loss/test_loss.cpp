// The losses of parafit/loss.h: rho' and rho'' against central differences of rho and rho', closed
// forms at chosen points, scaling by delta, and the parser's names and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/loss.h"

namespace parafit {
namespace {

std::vector<Loss> robust_losses(double delta) {
  std::vector<Loss> out;
  for (const LossKind k : {LossKind::kHuber, LossKind::kSoftL1, LossKind::kCauchy, LossKind::kArctan, LossKind::kTukey})
    out.push_back(Loss{k, delta});
  return out;
}

TEST(Loss, DerivativesMatchCentralDifferences) {
  for (const double delta : {0.3, 1.0, 7.0})
    for (const Loss& loss : robust_losses(delta)) {
      SCOPED_TRACE(loss.name());
      const double d2 = delta * delta;
      // Both sides of delta^2 (where huber and tukey change form), away from the kink itself.
      for (const double z : {0.01, 0.3, 0.8, 1.3, 4.0, 30.0}) {
        const double s = z * d2, h = 1e-5 * s;
        const LossValue v = evaluate_loss(loss, s), lo = evaluate_loss(loss, s - h), hi = evaluate_loss(loss, s + h);
        EXPECT_NEAR(v.d1, (hi.rho - lo.rho) / (2 * h), 1e-7 * (std::abs(v.d1) + 1e-3)) << "z " << z;
        EXPECT_NEAR(v.d2, (hi.d1 - lo.d1) / (2 * h), 1e-6 * (std::abs(v.d2) + 1e-3 / d2)) << "z " << z;
      }
      // Near 0 every loss is least squares: rho = s, rho' = 1.
      const LossValue zero = evaluate_loss(loss, 0.0);
      EXPECT_EQ(zero.rho, 0.0);
      EXPECT_EQ(zero.d1, 1.0);
    }
}

TEST(Loss, ClosedForms) {
  const double delta = 2.0, d2 = 4.0;
  // huber: 2 delta |r| - delta^2 beyond delta; at |r| = 2 delta (s = 4 delta^2): 3 delta^2.
  EXPECT_DOUBLE_EQ(evaluate_loss(Loss{LossKind::kHuber, delta}, 4 * d2).rho, 3 * d2);
  EXPECT_DOUBLE_EQ(evaluate_loss(Loss{LossKind::kHuber, delta}, 0.25 * d2).rho, 0.25 * d2);
  // soft-l1 at s = 3 delta^2: 2 delta^2 (sqrt(4) - 1) = 2 delta^2.
  EXPECT_DOUBLE_EQ(evaluate_loss(Loss{LossKind::kSoftL1, delta}, 3 * d2).rho, 2 * d2);
  // cauchy at s = (e - 1) delta^2: delta^2.
  EXPECT_NEAR(evaluate_loss(Loss{LossKind::kCauchy, delta}, (std::numbers::e - 1) * d2).rho, d2, 1e-14);
  // arctan at s = delta^2: delta^2 pi / 4.
  EXPECT_DOUBLE_EQ(evaluate_loss(Loss{LossKind::kArctan, delta}, d2).rho, d2 * std::numbers::pi / 4);
  // tukey: delta^2 / 3 and no weight at all beyond delta; (1 - (1/2)^3) / 3 delta^2 at s = delta^2 / 2.
  const LossValue far = evaluate_loss(Loss{LossKind::kTukey, delta}, 9 * d2);
  EXPECT_DOUBLE_EQ(far.rho, d2 / 3);
  EXPECT_EQ(far.d1, 0.0);
  EXPECT_DOUBLE_EQ(evaluate_loss(Loss{LossKind::kTukey, delta}, 0.5 * d2).rho, d2 * (1 - 0.125) / 3);
  // squared: s itself, whatever delta says.
  const LossValue sq = evaluate_loss(Loss{}, 12.5);
  EXPECT_EQ(sq.rho, 12.5);
  EXPECT_EQ(sq.d1, 1.0);
  EXPECT_EQ(sq.d2, 0.0);
}

TEST(Loss, EveryRobustLossIsConcaveInS) {
  // loss/robust_rows.h rests on rho'' <= 0 (Ceres's corrector is then plain reweighting).
  for (const Loss& loss : robust_losses(1.5))
    for (double z = 0; z < 50; z += 0.01) EXPECT_LE(evaluate_loss(loss, z * 2.25).d2, 0.0) << loss.name() << " " << z;
}

TEST(Loss, ParsesNamesAndRefusesBadOnes) {
  for (const std::string text : {"squared", "huber:1.5", "soft-l1:0.2", "cauchy:3", "arctan:0.001", "tukey:4.5"}) {
    const Loss loss = parse_loss(text);
    EXPECT_EQ(loss.name(), text);
    EXPECT_EQ(parse_loss(loss.name()).kind, loss.kind);
  }
  EXPECT_EQ(parse_loss("huber:1.5").delta, 1.5);
  const auto refused = [](const std::string& text, const std::string& part) {
    try {
      parse_loss(text, "--loss");
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kUsage);
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--loss: '" + text + "'"), std::string::npos) << e.what();
    }
  };
  refused("hubr:1", "is not a loss");
  refused("huber", "needs its scale");
  refused("huber:0", "not a finite number > 0");
  refused("huber:-1", "not a finite number > 0");
  refused("huber:abc", "not a finite number > 0");
  refused("huber:nan", "not a finite number > 0");
  refused("huber:1.5x", "not a finite number > 0");
  refused("squared:1", "takes no scale");
  refused("", "is not a loss");
}

}  // namespace
}  // namespace parafit
