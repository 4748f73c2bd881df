// Lane kernels (batch/lane_kernels.h), compiled per target by hwy/foreach_target.h. Each is the
// lane-parallel twin of a row kernel: the same Highway operations on vectors whose elements are
// fits instead of rows, so a lane's bits are the row kernel's (Mul then Add, never fused).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "batch/lane_kernels.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <limits>
#include <type_traits>

#include "batch/lane_kernels.h"
#include "simd/exp-inl.h"
#include "simd/exp_scalar.h"
#include "simd/log-inl.h"
#include "batch/deviance.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::Exp;
using simd::HWY_NAMESPACE::Log;
using LaneTag = hn::CappedTag<double, kFitLanes>;

// gauss (model/gauss.cpp GaussRows): z = (x - mu)*inv_s, e = exp((-0.5*z)*z), t = (a_inv_s*e)*z;
// f = a*e + c; J = (e, t, t*z, 1), with inv_s = 1/s and a_inv_s = a*inv_s as Gauss::evaluate
// computes them.
void GaussLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  alignas(64) double inv_s[L], a_inv_s[L];
  for (std::size_t l = 0; l < L; ++l) {
    inv_s[l] = 1.0 / theta[2 * L + l];
    a_inv_s[l] = theta[l] * inv_s[l];
  }
  const auto half = hn::Set(d, -0.5), one = hn::Set(d, 1.0);
  double *ja = J, *jmu = J + n * L, *js = J + 2 * n * L, *jc = J + 3 * n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto va = hn::LoadU(d, theta + l0), vmu = hn::LoadU(d, theta + L + l0);
    const auto vc = hn::LoadU(d, theta + 3 * L + l0);
    const auto vinv_s = hn::LoadU(d, inv_s + l0), va_inv_s = hn::LoadU(d, a_inv_s + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto z = hn::Mul(hn::Sub(hn::LoadU(d, x + at), vmu), vinv_s);
      const auto e = Exp(d, hn::Mul(hn::Mul(half, z), z));
      const auto t = hn::Mul(hn::Mul(va_inv_s, e), z);
      hn::StoreU(hn::Add(hn::Mul(va, e), vc), d, f + at);
      hn::StoreU(e, d, ja + at);
      hn::StoreU(t, d, jmu + at);
      hn::StoreU(hn::Mul(t, z), d, js + at);
      hn::StoreU(one, d, jc + at);
    }
  }
}

// exp-decay (model/exponential.cpp ExpDecayRows): e = exp(-b*x); f = a*e + c; J = (e, (-a*x)*e, 1).
void ExpDecayLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  const auto one = hn::Set(d, 1.0);
  double *ja = J, *jb = J + n * L, *jc = J + 2 * n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto va = hn::LoadU(d, theta + l0), vc = hn::LoadU(d, theta + 2 * L + l0);
    const auto vnb = hn::Neg(hn::LoadU(d, theta + L + l0)), vna = hn::Neg(va);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      const auto e = Exp(d, hn::Mul(vnb, xv));
      hn::StoreU(hn::Add(hn::Mul(va, e), vc), d, f + at);
      hn::StoreU(e, d, ja + at);
      hn::StoreU(hn::Mul(hn::Mul(vna, xv), e), d, jb + at);
      hn::StoreU(one, d, jc + at);
    }
  }
}

// exp-growth (ExpGrowthRows): e = exp(b*x); f = a*e; J = (e, f*x).
void ExpGrowthLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  double *ja = J, *jb = J + n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto va = hn::LoadU(d, theta + l0), vb = hn::LoadU(d, theta + L + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      const auto e = Exp(d, hn::Mul(vb, xv));
      const auto v = hn::Mul(va, e);
      hn::StoreU(v, d, f + at);
      hn::StoreU(e, d, ja + at);
      hn::StoreU(hn::Mul(v, xv), d, jb + at);
    }
  }
}

// asymptotic (AsymptoticRows), with range = r0 - asym, nrate = -exp(lrc) and k = -range*exp(lrc)
// per lane as Asymptotic::evaluate computes them (exp_scalar): e = exp(nrate*x);
// f = asym + range*e; J = (1 - e, e, (k*x)*e).
void AsymptoticLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  alignas(64) double range[L], nrate[L], k[L];
  for (std::size_t l = 0; l < L; ++l) {
    range[l] = theta[L + l] - theta[l];
    const double rate = simd::exp_scalar(theta[2 * L + l]);
    nrate[l] = -rate;
    k[l] = -range[l] * rate;
  }
  const auto one = hn::Set(d, 1.0);
  double *j_asym = J, *j_r0 = J + n * L, *j_lrc = J + 2 * n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto vasym = hn::LoadU(d, theta + l0), vrange = hn::LoadU(d, range + l0);
    const auto vnrate = hn::LoadU(d, nrate + l0), vk = hn::LoadU(d, k + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      const auto e = Exp(d, hn::Mul(vnrate, xv));
      hn::StoreU(hn::Add(vasym, hn::Mul(vrange, e)), d, f + at);
      hn::StoreU(hn::Sub(one, e), d, j_asym + at);
      hn::StoreU(e, d, j_r0 + at);
      hn::StoreU(hn::Mul(hn::Mul(vk, xv), e), d, j_lrc + at);
    }
  }
}

// The Gram sums of lanes l0.. (one vector) over the points i = p, p + 4, ... of partial p, in point
// order, kept in registers: M columns known when compiling (the usual small models).
template <std::size_t M, class V>
HWY_INLINE void GramPartial(LaneTag d, std::size_t n, std::size_t p, std::size_t l0, const double* y,
                            const double* f, const double* w, const double* const* cols, V* acc) {
  constexpr std::size_t L = kFitLanes;
  for (std::size_t t = 0; t < M * (M + 1) / 2; ++t) acc[t] = hn::Zero(d);
  for (std::size_t i = p; i < n; i += 4) {
    const std::size_t at = i * L + l0;
    V v[M];
    v[0] = hn::Sub(hn::LoadU(d, y + at), hn::LoadU(d, f + at));
    for (std::size_t a = 1; a < M; ++a) v[a] = hn::LoadU(d, cols[a - 1] + at);
    const V vw = w != nullptr ? hn::LoadU(d, w + at) : hn::Zero(d);
    std::size_t t = 0;
    for (std::size_t k = 0; k < M; ++k) {
      const V u = w != nullptr ? hn::Mul(vw, v[k]) : v[k];
      for (std::size_t l = k; l < M; ++l, ++t) acc[t] = hn::Add(acc[t], hn::Mul(u, v[l]));
    }
  }
}

template <std::size_t M>
void LaneGramFixed(std::size_t n, const double* y, const double* f, const double* w, const double* const* cols,
                   double* out) {
  const LaneTag d;
  using V = hn::Vec<LaneTag>;
  constexpr std::size_t L = kFitLanes, sums = M * (M + 1) / 2;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    V total[sums], part[sums];
    GramPartial<M>(d, n, 0, l0, y, f, w, cols, total);
    GramPartial<M>(d, n, 1, l0, y, f, w, cols, part);
    for (std::size_t t = 0; t < sums; ++t) total[t] = hn::Add(total[t], part[t]);  // p0 + p1
    V p23[sums];
    GramPartial<M>(d, n, 2, l0, y, f, w, cols, p23);
    GramPartial<M>(d, n, 3, l0, y, f, w, cols, part);
    for (std::size_t t = 0; t < sums; ++t) {
      p23[t] = hn::Add(p23[t], part[t]);  // p2 + p3
      hn::StoreU(hn::Add(total[t], p23[t]), d, out + t * L + l0);
    }
  }
}

void LaneGram(std::size_t n, std::size_t m, const double* y, const double* f, const double* w,
              const double* const* cols, double* out) {
  switch (m) {  // the same operations as the general loop below, with the sums in registers
    case 2: return LaneGramFixed<2>(n, y, f, w, cols, out);
    case 3: return LaneGramFixed<3>(n, y, f, w, cols, out);
    case 4: return LaneGramFixed<4>(n, y, f, w, cols, out);
    case 5: return LaneGramFixed<5>(n, y, f, w, cols, out);
    case 6: return LaneGramFixed<6>(n, y, f, w, cols, out);
    case 7: return LaneGramFixed<7>(n, y, f, w, cols, out);
    default: break;
  }
  const LaneTag d;
  using V = hn::Vec<LaneTag>;
  constexpr std::size_t L = kFitLanes, kMaxColumns = 26;
  const std::size_t sums = m * (m + 1) / 2;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    // The partial sums of points i = p, p + 4, ... for p = 0..3, each in point order.
    alignas(64) double partial[4][kMaxColumns * (kMaxColumns + 1) / 2][hn::MaxLanes(LaneTag())];
    for (std::size_t p = 0; p < 4; ++p) {
      for (std::size_t t = 0; t < sums; ++t) hn::Store(hn::Zero(d), d, partial[p][t]);
      for (std::size_t i = p; i < n; i += 4) {
        const std::size_t at = i * L + l0;
        V v[kMaxColumns];
        v[0] = hn::Sub(hn::LoadU(d, y + at), hn::LoadU(d, f + at));
        for (std::size_t a = 1; a < m; ++a) v[a] = hn::LoadU(d, cols[a - 1] + at);
        const V vw = w != nullptr ? hn::LoadU(d, w + at) : hn::Zero(d);
        std::size_t t = 0;
        for (std::size_t k = 0; k < m; ++k) {
          const V u = w != nullptr ? hn::Mul(vw, v[k]) : v[k];
          for (std::size_t l = k; l < m; ++l, ++t)
            hn::Store(hn::Add(hn::Load(d, partial[p][t]), hn::Mul(u, v[l])), d, partial[p][t]);
        }
      }
    }
    for (std::size_t t = 0; t < sums; ++t) {
      const V s = hn::Add(hn::Add(hn::Load(d, partial[0][t]), hn::Load(d, partial[1][t])),
                          hn::Add(hn::Load(d, partial[2][t]), hn::Load(d, partial[3][t])));
      hn::StoreU(s, d, out + t * L + l0);
    }
  }
}

// The Poisson sums (batch/batch_sums.h) in lanes: per lane, over its points in order, exactly the
// scalar poisson_sums' operations (deviance_term of batch/deviance.h, both branches computed and
// one selected). Out: [cost, g (q), H lower triangle row by row (q (q + 1) / 2)] x lanes.
// N: std::size_t, or std::integral_constant for q known when compiling (the sums in registers).
template <class N>
void LanePoissonOf(std::size_t n, N q, const double* y, const double* f, const double* w, const double* const* cols,
                   double* out) {
  const LaneTag d;
  using V = hn::Vec<LaneTag>;
  using M = hn::Mask<LaneTag>;
  constexpr std::size_t L = kFitLanes, kMaxColumns = 25;
  const std::size_t sums = 1 + q + q * (q + 1) / 2;
  const V zero = hn::Zero(d), one = hn::Set(d, 1.0), two = hn::Set(d, 2.0), limit = hn::Set(d, kDevianceSeriesLimit);
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    V acc[1 + kMaxColumns + kMaxColumns * (kMaxColumns + 1) / 2];
    for (std::size_t t = 0; t < sums; ++t) acc[t] = zero;
    M bad = hn::Lt(one, zero);  // all false (this Highway has no MaskFalse)
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const V vy = hn::LoadU(d, y + at), m = hn::LoadU(d, f + at);
      const V vw = w != nullptr ? hn::LoadU(d, w + at) : one;
      const M use = hn::Ne(vw, zero);
      bad = hn::Or(bad, hn::AndNot(hn::Gt(m, zero), use));
      // deviance_term(y, m)
      const V u = hn::Div(hn::Sub(m, vy), vy);
      const V sv = hn::Div(u, hn::Add(two, u)), s2 = hn::Mul(sv, sv);
      V power = hn::Mul(sv, s2), series = zero;
      for (std::size_t k = 0; k < kDevianceSeriesTerms; ++k) {
        series = hn::Add(series, hn::Mul(power, hn::Set(d, kDevianceSeries[k])));
        power = hn::Mul(power, s2);
      }
      const V near = hn::Mul(vy, hn::Sub(hn::Mul(u, sv), hn::Mul(two, series)));
      const V far = hn::Add(hn::Sub(m, vy), hn::Mul(vy, Log(d, hn::Div(vy, m))));
      V dev = hn::IfThenElse(hn::Lt(hn::Abs(u), limit), near, far);
      dev = hn::IfThenElse(hn::Gt(vy, zero), dev, m);
      acc[0] = hn::IfThenElse(use, hn::Add(acc[0], hn::Mul(hn::Mul(two, vw), dev)), acc[0]);
      const V e = hn::Div(vw, m), c = hn::Mul(e, hn::Sub(vy, m));
      V ja[kMaxColumns];
      for (std::size_t a = 0; a < q; ++a) ja[a] = hn::LoadU(d, cols[a] + at);
      std::size_t t = 1 + q;
      for (std::size_t a = 0; a < q; ++a) {
        acc[1 + a] = hn::IfThenElse(use, hn::Add(acc[1 + a], hn::Mul(c, ja[a])), acc[1 + a]);
        const V ea = hn::Mul(e, ja[a]);
        for (std::size_t b = 0; b <= a; ++b, ++t) acc[t] = hn::IfThenElse(use, hn::Add(acc[t], hn::Mul(ea, ja[b])), acc[t]);
      }
    }
    acc[0] = hn::IfThenElse(bad, hn::Set(d, std::numeric_limits<double>::quiet_NaN()), acc[0]);
    for (std::size_t t = 0; t < sums; ++t) hn::StoreU(acc[t], d, out + t * L + l0);
  }
}

void LanePoisson(std::size_t n, std::size_t q, const double* y, const double* f, const double* w,
                 const double* const* cols, double* out) {
  using std::integral_constant;
  switch (q) {  // the same operations for every q
    case 1: return LanePoissonOf(n, integral_constant<std::size_t, 1>{}, y, f, w, cols, out);
    case 2: return LanePoissonOf(n, integral_constant<std::size_t, 2>{}, y, f, w, cols, out);
    case 3: return LanePoissonOf(n, integral_constant<std::size_t, 3>{}, y, f, w, cols, out);
    case 4: return LanePoissonOf(n, integral_constant<std::size_t, 4>{}, y, f, w, cols, out);
    case 5: return LanePoissonOf(n, integral_constant<std::size_t, 5>{}, y, f, w, cols, out);
    case 6: return LanePoissonOf(n, integral_constant<std::size_t, 6>{}, y, f, w, cols, out);
    default: return LanePoissonOf(n, q, y, f, w, cols, out);
  }
}

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::detail {

HWY_EXPORT(GaussLanes);
HWY_EXPORT(ExpDecayLanes);
HWY_EXPORT(ExpGrowthLanes);
HWY_EXPORT(AsymptoticLanes);
HWY_EXPORT(LaneGram);
HWY_EXPORT(LanePoisson);

namespace {
void gauss_lanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  HWY_DYNAMIC_DISPATCH(GaussLanes)(n, theta, x, f, J);
}
void exp_decay_lanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  HWY_DYNAMIC_DISPATCH(ExpDecayLanes)(n, theta, x, f, J);
}
void exp_growth_lanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  HWY_DYNAMIC_DISPATCH(ExpGrowthLanes)(n, theta, x, f, J);
}
void asymptotic_lanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  HWY_DYNAMIC_DISPATCH(AsymptoticLanes)(n, theta, x, f, J);
}
}  // namespace

// By name: the built-in families (a formula's name is its text, never one of these).
LaneEvaluate lane_kernel(const Model& model) {
  const std::string name = model.name();
  if (name == "gauss") return gauss_lanes;
  if (name == "exp-decay") return exp_decay_lanes;
  if (name == "exp-growth") return exp_growth_lanes;
  if (name == "asymptotic") return asymptotic_lanes;
  return nullptr;
}

void lane_gram(std::size_t n, std::size_t m, const double* y, const double* f, const double* w,
               const double* const* cols, double* out) {
  HWY_DYNAMIC_DISPATCH(LaneGram)(n, m, y, f, w, cols, out);
}

void lane_poisson(std::size_t n, std::size_t q, const double* y, const double* f, const double* w,
                  const double* const* cols, double* out) {
  HWY_DYNAMIC_DISPATCH(LanePoisson)(n, q, y, f, w, cols, out);
}

}  // namespace parafit::detail
#endif  // HWY_ONCE
