// update_kernels.h — the optimizers' element-wise parameter updates, written once on Highway
// (src/simd) and run on the best instruction set of the CPU. Each element is updated by the scalar
// formulas of parafit/optimizer.h in their order of operations, every operation separately rounded
// (no FMA), so every target gives the same bits.
#pragma once

#include <cstddef>

namespace parafit::detail {

// The scalars of one Adam step: step_size = lr / (1 - beta1^t), bias_correction2_sqrt =
// sqrt(1 - beta2^t), decay = 1 - lr * lambda.
struct AdamStep {
  double b1, b2, c1, c2, step_size, bias_correction2_sqrt, eps, lambda, decay;
};
enum class AdamDecay { kNone, kL2, kDecoupled };

// p, m, v updated in place from g (n elements).
void adam_update(AdamDecay decay, std::size_t n, double* p, double* m, double* v, const double* g,
                 const AdamStep& c);

// Plain SGD: p = p - lr * g, or with L2 decay p = p - lr * (g + lambda * p).
void sgd_update(std::size_t n, double* p, const double* g, double lr, double lambda);

// SGD with momentum: gt = g + lambda * p; b = keep * b + take * gt; then
// p = p - lr * (gt + mu * b) (Nesterov) or p = p - lr * b.
void sgd_momentum_update(bool nesterov, std::size_t n, double* p, double* b, const double* g, double lr,
                         double lambda, double keep, double take, double mu);

}  // namespace parafit::detail
