// SplitOptimizer: the same bits and the same state as one optimizer over all the parameters.
#include <gtest/gtest.h>

#include "parafit/error.h"
#include "train/split_optimizer.h"
#include "train/strata.h"

namespace parafit::detail {
namespace {

TEST(SplitOptimizer, SameBitsAndStateAsOneOptimizer) {
  const std::size_t n = 5313;
  Rng rng(4);
  std::vector<double> start(n);
  for (double& x : start) x = rng.normal();
  for (const std::string kind : {"sgd", "adam", "adamw"}) {
    auto make = [&](std::size_t m) -> std::unique_ptr<Optimizer> {
      if (kind == "sgd") return make_sgd(m, SgdOptions{.momentum = 0.9, .nesterov = true});
      return kind == "adam" ? make_adam(m) : make_adamw(m);
    };
    auto one = make(n);
    SplitOptimizer split(n, 3, make);
    std::vector<double> a = start, b = start, g(n);
    for (int step = 0; step < 5; ++step) {
      for (double& x : g) x = rng.normal();
      one->step(a, g, 1e-2);
      split.step(b, g, 1e-2);
    }
    EXPECT_EQ(a, b) << kind;
    EXPECT_EQ(split.state(), one->state()) << kind;
    EXPECT_EQ(split.steps_taken(), 5u);
    // A state saved by one optimizer continues identically in a split one, and the other way.
    SplitOptimizer other(n, 2, make);
    other.set_state(one->state());
    for (double& x : g) x = rng.normal();
    one->step(a, g, 1e-2);
    other.step(b, g, 1e-2);
    EXPECT_EQ(a, b) << kind;
    auto state = one->state();
    state.back().second.pop_back();
    EXPECT_THROW(other.set_state(state), Error);
    EXPECT_EQ(other.state(), one->state()) << "a rejected state changes nothing";
  }
}

}  // namespace
}  // namespace parafit::detail
