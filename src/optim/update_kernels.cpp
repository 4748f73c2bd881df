// update_kernels.cpp — see update_kernels.h. Compiled once per SIMD target (hwy/foreach_target.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "optim/update_kernels.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "optim/update_kernels.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::ForEachVector;

template <AdamDecay kDecay>
void AdamLoop(std::size_t n, double* p, double* m, double* v, const double* g, const AdamStep& c) {
  const hn::ScalableTag<double> d;
  const auto b1 = hn::Set(d, c.b1), b2 = hn::Set(d, c.b2), c1 = hn::Set(d, c.c1), c2 = hn::Set(d, c.c2);
  const auto step = hn::Set(d, c.step_size), bc2 = hn::Set(d, c.bias_correction2_sqrt);
  const auto eps = hn::Set(d, c.eps), lambda = hn::Set(d, c.lambda), decay = hn::Set(d, c.decay);
  ForEachVector(d, n, [&](auto load, auto store) {
    auto pi = load(p);
    if constexpr (kDecay == AdamDecay::kDecoupled) pi = hn::Mul(pi, decay);
    auto gi = load(g);
    if constexpr (kDecay == AdamDecay::kL2) gi = hn::Add(gi, hn::Mul(lambda, pi));
    const auto mi = hn::Add(hn::Mul(b1, load(m)), hn::Mul(c1, gi));
    const auto vi = hn::Add(hn::Mul(b2, load(v)), hn::Mul(hn::Mul(c2, gi), gi));
    store(m, mi);
    store(v, vi);
    const auto den = hn::Add(hn::Div(hn::Sqrt(vi), bc2), eps);
    store(p, hn::Sub(pi, hn::Div(hn::Mul(step, mi), den)));
  });
}

void AdamUpdate(AdamDecay decay, std::size_t n, double* p, double* m, double* v, const double* g,
                const AdamStep& c) {
  switch (decay) {
    case AdamDecay::kNone: AdamLoop<AdamDecay::kNone>(n, p, m, v, g, c); break;
    case AdamDecay::kL2: AdamLoop<AdamDecay::kL2>(n, p, m, v, g, c); break;
    case AdamDecay::kDecoupled: AdamLoop<AdamDecay::kDecoupled>(n, p, m, v, g, c); break;
  }
}

void SgdUpdate(std::size_t n, double* p, const double* g, double lr, double lambda) {
  const hn::ScalableTag<double> d;
  const auto lrv = hn::Set(d, lr), lv = hn::Set(d, lambda);
  if (lambda == 0) {
    ForEachVector(d, n, [&](auto load, auto store) { store(p, hn::Sub(load(p), hn::Mul(lrv, load(g)))); });
  } else {
    ForEachVector(d, n, [&](auto load, auto store) {
      const auto pi = load(p);
      store(p, hn::Sub(pi, hn::Mul(lrv, hn::Add(load(g), hn::Mul(lv, pi)))));
    });
  }
}

void SgdMomentumUpdate(bool nesterov, std::size_t n, double* p, double* b, const double* g, double lr,
                       double lambda, double keep, double take, double mu) {
  const hn::ScalableTag<double> d;
  const auto lrv = hn::Set(d, lr), lv = hn::Set(d, lambda), kv = hn::Set(d, keep), tv = hn::Set(d, take),
             mv = hn::Set(d, mu);
  ForEachVector(d, n, [&](auto load, auto store) {
    const auto pi = load(p);
    const auto gt = hn::Add(load(g), hn::Mul(lv, pi));
    const auto bi = hn::Add(hn::Mul(kv, load(b)), hn::Mul(tv, gt));
    store(b, bi);
    const auto step = nesterov ? hn::Add(gt, hn::Mul(mv, bi)) : bi;
    store(p, hn::Sub(pi, hn::Mul(lrv, step)));
  });
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::detail {
HWY_EXPORT(AdamUpdate);
HWY_EXPORT(SgdUpdate);
HWY_EXPORT(SgdMomentumUpdate);

void adam_update(AdamDecay decay, std::size_t n, double* p, double* m, double* v, const double* g,
                 const AdamStep& c) {
  HWY_DYNAMIC_DISPATCH(AdamUpdate)(decay, n, p, m, v, g, c);
}

void sgd_update(std::size_t n, double* p, const double* g, double lr, double lambda) {
  HWY_DYNAMIC_DISPATCH(SgdUpdate)(n, p, g, lr, lambda);
}

void sgd_momentum_update(bool nesterov, std::size_t n, double* p, double* b, const double* g, double lr,
                         double lambda, double keep, double take, double mu) {
  HWY_DYNAMIC_DISPATCH(SgdMomentumUpdate)(nesterov, n, p, b, g, lr, lambda, keep, take, mu);
}

}  // namespace parafit::detail
#endif  // HWY_ONCE
