// ShardedOptimizer: the same bits and the same state as one optimizer over all the parameters.
#include <gtest/gtest.h>

#include "parafit/error.h"
#include "parallel/sharded_optimizer.h"
#include "simd/target.h"
#include "parallel/strata.h"

namespace parafit::detail {
namespace {

TEST(ShardedOptimizer, SameBitsAndStateAsOneOptimizer) {
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
    ShardedOptimizer split(n, 3, make);
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
    ShardedOptimizer other(n, 2, make);
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

namespace parafit::detail {
namespace {

// The Adam update gives the same bits on every SIMD target, for all three decay forms.
TEST(AdamLoop, SameBitsOnEverySimdTarget) {
  const std::size_t n = 1001;  // not a multiple of the vector width
  Rng rng(8);
  std::vector<double> start(n), grads(5 * n);
  for (double& x : start) x = rng.normal();
  for (double& x : grads) x = rng.normal() * 1e-3;
  for (const std::string kind : {"adam", "adam-l2", "adamw"}) {
    std::vector<std::vector<double>> results;
    for (const simd::TargetInfo& t : simd::available_targets()) {
      simd::ScopedTarget force(t);
      AdamOptions o;
      if (kind == "adam-l2") o.weight_decay = 0.1;
      auto opt = kind == "adamw" ? make_adamw(n, o) : make_adam(n, o);
      std::vector<double> p = start;
      for (int s = 0; s < 5; ++s) opt->step(p, std::span<const double>(grads).subspan(std::size_t(s) * n, n), 1e-2);
      results.push_back(p);
    }
    for (std::size_t t = 1; t < results.size(); ++t)
      EXPECT_EQ(results[0], results[t]) << kind << " on " << simd::available_targets()[t].name;
    EXPECT_NE(results[0], start);
  }
}

}  // namespace
}  // namespace parafit::detail
