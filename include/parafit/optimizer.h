// parafit/optimizer.h — step optimizers (SGD, Adam, AdamW) and learning-rate schedules for
// mini-batch training.
//
//   Optimizer             one update of the parameters from a gradient the caller computed
//   SgdOptions            torch.optim.SGD: momentum, dampening, Nesterov, L2 weight decay
//   AdamOptions           torch.optim.Adam (L2 weight decay) and torch.optim.AdamW (decoupled)
//   LearningRateSchedule  the factor multiplying the base learning rate at each global step
//
// The update rules are PyTorch's, written out below, so a trajectory can be compared with
// PyTorch's float64 one step by step. Notation, at step t = 1, 2, ... (t is steps_taken() + 1):
// theta the parameters, g the gradient passed to step(), gamma the lr passed to step(), lambda the
// weight decay. Every operation is a separately rounded IEEE double operation, evaluated in the
// order written.
//
// Determinism: step() is a pure function of (state, params, grad, lr): no threads, no random
// numbers, no reductions: every parameter is updated from its own values only, so the same
// inputs give the same bits on every worker of a data-parallel run (same binary), whatever the
// memory alignment of the spans. step() does not allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parafit {

// An optimizer's full state, as named vectors of doubles (for checkpoints): the step count under
// "step" (one value, a whole number) and one vector per moment, named as in PyTorch's state_dict.
using OptimizerState = std::vector<std::pair<std::string, std::vector<double>>>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // "sgd", "adam" or "adamw".
  virtual std::string name() const = 0;
  // The parameter count given at construction.
  virtual std::size_t num_parameters() const = 0;
  // One update of params from grad with learning rate lr (the caller applies the schedule).
  // params and grad must have num_parameters() elements and must not overlap; lr must be finite
  // and >= 0. Throws parafit::Error otherwise (and then changes nothing). A non-finite gradient
  // is not checked: it propagates into the parameters and the moments.
  virtual void step(std::span<double> params, std::span<const double> grad, double lr) = 0;
  // Updates made so far (restored by set_state).
  virtual std::uint64_t steps_taken() const = 0;
  // The full state: "step" plus the moments (see each factory for the names).
  virtual OptimizerState state() const = 0;
  // Restores a state() of an optimizer of the same kind, options and size. Checks that the names
  // are exactly the expected ones (any order), the sizes equal num_parameters(), the step is a
  // whole number >= 0 and every value is finite (second moments >= 0); throws parafit::Error
  // naming the first problem otherwise, and then changes nothing.
  virtual void set_state(const OptimizerState& state) = 0;
};

// torch.optim.SGD:
//   g_t = g + lambda * theta                              (if weight_decay != 0)
//   b_1 = g_t;  b_t = mu * b_{t-1} + (1 - tau) * g_t      (if momentum mu != 0; tau = dampening)
//   g_t = g_t + mu * b_t  (nesterov)   or   g_t = b_t     (if momentum != 0)
//   theta = theta - gamma * g_t
// As in PyTorch, the first step copies the gradient into the momentum buffer undampened.
// State: "step" and, when momentum != 0, "momentum_buffer".
struct SgdOptions {
  // mu, in [0, 1): 0 is plain SGD; 0.9 is the usual choice with momentum.
  double momentum = 0.0;
  // Nesterov momentum (Sutskever et al. form, as PyTorch); needs momentum > 0 and dampening 0.
  bool nesterov = false;
  // tau, in [0, 1]: the buffer takes (1 - tau) of each new gradient (from the second step on).
  double dampening = 0.0;
  // lambda >= 0: the L2 penalty (lambda/2)||theta||^2 on the loss (lambda*theta on the gradient).
  double weight_decay = 0.0;

  // True if every option is in range; otherwise false and *why (if given) says which is not.
  bool IsValid(std::string* why = nullptr) const;
};

// torch.optim.Adam (weight decay as an L2 term in the gradient):
//   g_t = g + lambda * theta                              (if weight_decay != 0)
//   m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
//   v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
//   theta = theta - (gamma / (1 - beta1^t)) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + epsilon)
// torch.optim.AdamW (decoupled weight decay, Loshchilov & Hutter):
//   theta = theta * (1 - gamma * lambda)
//   then m_t, v_t and the update as above, from g (no lambda term in the gradient).
// The update is PyTorch's rearrangement of theta - gamma * mhat / (sqrt(vhat) + epsilon) with
// mhat = m_t / (1 - beta1^t), vhat = v_t / (1 - beta2^t) (torch/optim/adam.py, the default
// single-tensor path); m_0 = v_0 = 0. PyTorch 1.13.1 in float64 gives the same trajectories to
// rounding (its kernels fuse multiply-adds; tests/solve/test_optimizers.cpp compares). (Later
// PyTorch versions update m_t as m + (1 - beta1)(g - m), equal up to rounding.)
// State: "step", "exp_avg" (m) and "exp_avg_sq" (v).
struct AdamOptions {
  // In [0, 1): decay of the first moment. PyTorch's default.
  double beta1 = 0.9;
  // In [0, 1): decay of the second moment. PyTorch's default.
  double beta2 = 0.999;
  // > 0: keeps the denominator away from 0 (PyTorch's default; 0 would give 0/0 for a parameter
  // whose gradient has been exactly zero so far).
  double epsilon = 1e-8;
  // lambda >= 0. Unset means PyTorch's default for the algorithm: 0 for Adam, 0.01 for AdamW
  // (kAdamWDefaultWeightDecay).
  std::optional<double> weight_decay;

  // True if every option is in range; otherwise false and *why (if given) says which is not.
  bool IsValid(std::string* why = nullptr) const;
};

// torch.optim.AdamW's default weight decay.
inline constexpr double kAdamWDefaultWeightDecay = 0.01;

// Throw parafit::Error if the options are invalid (the message says which) or num_parameters is 0.
std::unique_ptr<Optimizer> make_sgd(std::size_t num_parameters, const SgdOptions& options = {});
std::unique_ptr<Optimizer> make_adam(std::size_t num_parameters, const AdamOptions& options = {});
std::unique_ptr<Optimizer> make_adamw(std::size_t num_parameters, const AdamOptions& options = {});

// The factor multiplying the base learning rate at each global step (0-based) of a run of
// total_steps steps, steps_per_epoch steps to an epoch:
//
//   factor(s) = warmup(s) * decay(s)
//   warmup(s) = (s + 1) / W   for s < W = warmup_steps,   1 afterwards (W = 0: no warm-up)
//     (the first step runs at lr/W, step W-1 at the full lr: linear, like PyTorch's LinearLR
//      with start_factor 1/W over W-1 steps)
//   decay(s):
//     kConstant  1
//     kStep      gamma^floor(e / E)  with e = floor(s / steps_per_epoch) the 0-based epoch and
//                E = step_every_epochs (PyTorch's StepLR stepped once per epoch)
//     kCosine    min_factor + (1 - min_factor) * (1 + cos(pi * p)) / 2,
//                p = clamp((s - W) / (total_steps - W), 0, 1)
//                (the decay starts after the warm-up and reaches min_factor at s = total_steps,
//                 one past the last step, as PyTorch's CosineAnnealingLR with T_max = total_steps
//                 - W and Hugging Face's cosine-with-warm-up; if W >= total_steps, p = 0)
struct LearningRateSchedule {
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind = Kind::kConstant;
  // kStep: multiply by gamma every step_every_epochs epochs (>= 1; gamma in (0, 1]).
  std::uint64_t step_every_epochs = 1;
  double gamma = 0.1;
  // kCosine: the factor at the end of the run, in [0, 1].
  double min_factor = 0.0;
  // Linear warm-up steps (any kind); 0: none.
  std::uint64_t warmup_steps = 0;

  // The factor at global step `step`. Throws parafit::Error if steps_per_epoch is 0 (kStep) or
  // total_steps is 0 (kCosine); the other kinds ignore them.
  double factor(std::uint64_t step, std::uint64_t steps_per_epoch, std::uint64_t total_steps) const;
  // True if every field is in range; otherwise false and *why (if given) says which is not.
  bool IsValid(std::string* why = nullptr) const;
  // One line for logs: "constant", "step: x0.1 every 30 epochs", "cosine to 0 over 3907 steps",
  // each followed by ", 100 warm-up steps" when there is a warm-up. total_steps (the whole run,
  // warm-up included) is printed for kCosine when given (not 0): "cosine to 0.01 over the run".
  std::string describe(std::uint64_t total_steps = 0) const;
};

// Parses the command-line form: "constant", "step:E:G" (multiply by G every E epochs), "cosine"
// (to 0) or "cosine:MIN" (to the factor MIN). Warm-up is not part of the text. Throws
// parafit::Error naming the bad text and listing the accepted forms.
LearningRateSchedule parse_schedule(std::string_view text);

}  // namespace parafit
