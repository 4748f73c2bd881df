// Adam (torch.optim.Adam, L2 weight decay) and AdamW (torch.optim.AdamW, decoupled weight decay);
// the formulas are in parafit/optimizer.h.
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/optimizer.h"
#include "optim/optimizer_state.h"
#include "optim/update_kernels.h"

namespace parafit {

bool AdamOptions::IsValid(std::string* why) const {
  auto fail = [&](const std::string& text) {
    if (why != nullptr) *why = text;
    return false;
  };
  if (!(beta1 >= 0 && beta1 < 1)) return fail(fmt::format("beta1 must lie in [0, 1), got {}", beta1));
  if (!(beta2 >= 0 && beta2 < 1)) return fail(fmt::format("beta2 must lie in [0, 1), got {}", beta2));
  if (!(epsilon > 0) || !std::isfinite(epsilon))
    return fail(fmt::format("epsilon must be finite and > 0, got {}", epsilon));
  if (weight_decay && (!(*weight_decay >= 0) || !std::isfinite(*weight_decay)))
    return fail(fmt::format("weight_decay must be finite and >= 0, got {}", *weight_decay));
  return true;
}

namespace {

constexpr detail::ExpectedStateEntry kAdamMoments[] = {{"exp_avg", false}, {"exp_avg_sq", true}};

class Adam final : public Optimizer {
 public:
  Adam(std::size_t n, const AdamOptions& options, bool decoupled)
      : n_(n),
        beta1_(options.beta1),
        beta2_(options.beta2),
        epsilon_(options.epsilon),
        lambda_(options.weight_decay.value_or(decoupled ? kAdamWDefaultWeightDecay : 0.0)),
        decoupled_(decoupled),
        m_(n, 0.0),
        v_(n, 0.0) {}

  std::string name() const override { return decoupled_ ? "adamw" : "adam"; }
  std::size_t num_parameters() const override { return n_; }
  std::uint64_t steps_taken() const override { return steps_; }

  // One pass over the parameters (optim/update_kernels.h: the formulas of optimizer.h, the same bits
  // on every SIMD target).
  void step(std::span<double> params, std::span<const double> grad, double lr) override {
    detail::check_step_arguments(decoupled_ ? "adamw" : "adam", n_, params, grad, lr);
    const double t = static_cast<double>(steps_ + 1);
    detail::AdamStep c;
    c.b1 = beta1_;
    c.b2 = beta2_;
    c.c1 = 1.0 - beta1_;
    c.c2 = 1.0 - beta2_;
    c.step_size = lr / (1.0 - std::pow(beta1_, t));
    c.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(beta2_, t));
    c.eps = epsilon_;
    c.lambda = lambda_;
    c.decay = 1.0 - lr * lambda_;
    const detail::AdamDecay decay = lambda_ == 0      ? detail::AdamDecay::kNone
                                    : decoupled_ ? detail::AdamDecay::kDecoupled
                                                 : detail::AdamDecay::kL2;
    detail::adam_update(decay, n_, params.data(), m_.data(), v_.data(), grad.data(), c);
    ++steps_;
  }

  OptimizerState state() const override {
    OptimizerState out;
    out.emplace_back("step", std::vector<double>{static_cast<double>(steps_)});
    out.emplace_back("exp_avg", m_);
    out.emplace_back("exp_avg_sq", v_);
    return out;
  }

  void set_state(const OptimizerState& state) override {
    const detail::CheckedState checked = detail::check_state(name(), n_, state, kAdamMoments);
    m_ = *checked.moments[0];
    v_ = *checked.moments[1];
    steps_ = checked.step;
  }

 private:
  std::size_t n_;
  double beta1_, beta2_, epsilon_, lambda_;
  bool decoupled_;
  std::vector<double> m_;  // exp_avg
  std::vector<double> v_;  // exp_avg_sq
  std::uint64_t steps_ = 0;
};

std::unique_ptr<Optimizer> make(std::size_t num_parameters, const AdamOptions& options, bool decoupled) {
  const char* name = decoupled ? "AdamW" : "Adam";
  std::string why;
  if (!options.IsValid(&why)) throw Error(fmt::format("invalid {} options: {}", name, why));
  if (num_parameters == 0) throw Error(fmt::format("{}: there are no parameters to optimize", name));
  return std::make_unique<Adam>(num_parameters, options, decoupled);
}

}  // namespace

std::unique_ptr<Optimizer> make_adam(std::size_t num_parameters, const AdamOptions& options) {
  return make(num_parameters, options, false);
}

std::unique_ptr<Optimizer> make_adamw(std::size_t num_parameters, const AdamOptions& options) {
  return make(num_parameters, options, true);
}

}  // namespace parafit
