// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay
// (torch.optim.SGD); the formulas are in parafit/optimizer.h.
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/optimizer.h"
#include "optim/optimizer_state.h"
#include "optim/update_kernels.h"

namespace parafit {

bool SgdOptions::IsValid(std::string* why) const {
  auto fail = [&](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  if (!(momentum >= 0 && momentum < 1)) return fail(fmt::format("momentum must lie in [0, 1), got {}", momentum));
  if (!(dampening >= 0 && dampening <= 1))
    return fail(fmt::format("dampening must lie in [0, 1], got {}", dampening));
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
    return fail(fmt::format("weight_decay must be finite and >= 0, got {}", weight_decay));
  if (nesterov && (momentum == 0 || dampening != 0))
    return fail("Nesterov momentum needs momentum > 0 and dampening 0");
  return true;
}

namespace {

constexpr detail::ExpectedStateEntry kMomentumBuffer[] = {{"momentum_buffer", false}};

class Sgd final : public Optimizer {
 public:
  Sgd(std::size_t n, const SgdOptions& options) : n_(n), options_(options) {
    if (options_.momentum != 0) buffer_.assign(n, 0.0);
  }

  std::string name() const override { return "sgd"; }
  std::size_t num_parameters() const override { return n_; }
  std::uint64_t steps_taken() const override { return steps_; }

  void step(std::span<double> params, std::span<const double> grad, double lr) override {
    detail::check_step_arguments("sgd", n_, params, grad, lr);
    const double lambda = options_.weight_decay;
    const double mu = options_.momentum;
    if (mu == 0) {
      detail::sgd_update(n_, params.data(), grad.data(), lr, lambda);
    } else {
      // On the first step the buffer is the gradient itself: b = 0 * 0 + 1 * g_t exactly.
      const double keep = steps_ == 0 ? 0.0 : mu;
      const double take = steps_ == 0 ? 1.0 : 1.0 - options_.dampening;
      detail::sgd_momentum_update(options_.nesterov, n_, params.data(), buffer_.data(), grad.data(), lr, lambda,
                                  keep, take, mu);
    }
    ++steps_;
  }

  OptimizerState state() const override {
    OptimizerState out;
    out.emplace_back("step", std::vector<double>{static_cast<double>(steps_)});
    if (options_.momentum != 0) out.emplace_back("momentum_buffer", buffer_);
    return out;
  }

  void set_state(const OptimizerState& state) override {
    const std::span<const detail::ExpectedStateEntry> moments =
        options_.momentum != 0 ? std::span<const detail::ExpectedStateEntry>(kMomentumBuffer)
                               : std::span<const detail::ExpectedStateEntry>();
    const detail::CheckedState checked = detail::check_state("sgd", n_, state, moments);
    if (options_.momentum != 0) buffer_ = *checked.moments[0];
    steps_ = checked.step;
  }

 private:
  std::size_t n_;
  SgdOptions options_;
  std::vector<double> buffer_;  // b, when momentum != 0
  std::uint64_t steps_ = 0;
};

}  // namespace

std::unique_ptr<Optimizer> make_sgd(std::size_t num_parameters, const SgdOptions& options) {
  std::string why;
  if (!options.IsValid(&why)) throw Error("invalid SGD options: " + why);
  if (num_parameters == 0) throw Error("sgd: there are no parameters to optimize");
  return std::make_unique<Sgd>(num_parameters, options);
}

}  // namespace parafit
