// Lane kernels (batch/lane_kernels.h), compiled per target by hwy/foreach_target.h. Each is the
// lane-parallel twin of a row kernel: the same Highway operations on vectors whose elements are
// fits instead of rows, so a lane's bits are the row kernel's (Mul then Add, never fused).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "batch/lane_kernels.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "batch/lane_kernels.h"
#include "model/family_ops-inl.h"
#include "simd/exp-inl.h"
#include "simd/exp_scalar.h"
#include "simd/log-inl.h"
#include "batch/deviance.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using simd::HWY_NAMESPACE::Exp;
using simd::HWY_NAMESPACE::Log;
template <class T>
using LaneTag = hn::CappedTag<T, kLanesOf<T>>;

// gauss (model/gauss.cpp GaussRows): z = (x - mu)*inv_s, e = exp((-0.5*z)*z), t = (a_inv_s*e)*z;
// f = a*e + c; J = (e, t, t*z, 1), with inv_s = 1/s and a_inv_s = a*inv_s as Gauss::evaluate
// computes them.
template <class T>
void GaussLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  alignas(64) T inv_s[L], a_inv_s[L];
  for (std::size_t l = 0; l < L; ++l) {
    inv_s[l] = T(1) / theta[2 * L + l];
    a_inv_s[l] = theta[l] * inv_s[l];
  }
  const auto half = hn::Set(d, T(-0.5)), one = hn::Set(d, T(1));
  T *ja = J, *jmu = J + n * L, *js = J + 2 * n * L, *jc = J + 3 * n * L;
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
template <class T>
void ExpDecayLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  const auto one = hn::Set(d, T(1));
  T *ja = J, *jb = J + n * L, *jc = J + 2 * n * L;
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
template <class T>
void ExpGrowthLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  T *ja = J, *jb = J + n * L;
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
template <class T>
void AsymptoticLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  alignas(64) T range[L], nrate[L], k[L];
  for (std::size_t l = 0; l < L; ++l) {
    range[l] = theta[L + l] - theta[l];
    const T rate = T(simd::exp_scalar(double(theta[2 * L + l])));  // float: exp_scalar's value rounded
    nrate[l] = -rate;
    k[l] = -range[l] * rate;
  }
  const auto one = hn::Set(d, T(1));
  T *j_asym = J, *j_r0 = J + n * L, *j_lrc = J + 2 * n * L;
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

// michaelis-menten (model/michaelis_menten.cpp MmRows): r = 1/(km + x), sat = x*r; f = vmax*sat;
// J = (sat, (-vmax*sat)*r).
template <class T>
void MichaelisMentenLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  const auto one = hn::Set(d, T(1));
  T *jv = J, *jk = J + n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto vvmax = hn::LoadU(d, theta + l0), vkm = hn::LoadU(d, theta + L + l0), vnvmax = hn::Neg(vvmax);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      const auto r = hn::Div(one, hn::Add(vkm, xv));
      const auto sat = hn::Mul(xv, r);
      hn::StoreU(hn::Mul(vvmax, sat), d, f + at);
      hn::StoreU(sat, d, jv + at);
      hn::StoreU(hn::Mul(hn::Mul(vnvmax, sat), r), d, jk + at);
    }
  }
}

// gompertz (model/sigmoid.cpp GompertzRows): g = exp(-c*x), h = exp(-b*g), gh = g*h; f = a*h;
// J = (h, -a*gh, (a*b*x)*gh), with a*b per lane as the row kernel takes it.
template <class T>
void GompertzLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  alignas(64) T ab[L];
  for (std::size_t l = 0; l < L; ++l) ab[l] = theta[l] * theta[L + l];
  T *ja = J, *jb = J + n * L, *jc = J + 2 * n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto va = hn::LoadU(d, theta + l0), vna = hn::Neg(va), vnb = hn::Neg(hn::LoadU(d, theta + L + l0));
    const auto vnc = hn::Neg(hn::LoadU(d, theta + 2 * L + l0)), vab = hn::LoadU(d, ab + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      const auto g = Exp(d, hn::Mul(vnc, xv));
      const auto h = Exp(d, hn::Mul(vnb, g));
      const auto gh = hn::Mul(g, h);
      hn::StoreU(hn::Mul(va, h), d, f + at);
      hn::StoreU(h, d, ja + at);
      hn::StoreU(hn::Mul(vna, gh), d, jb + at);
      hn::StoreU(hn::Mul(hn::Mul(vab, xv), gh), d, jc + at);
    }
  }
}

// logistic4 (model/sigmoid.cpp Logistic4Rows, after its log_ratio): per lane amd = a - d,
// inv_c = 1/c, jc = (amd*b)*inv_c; l = ln(x*inv_c) by std::log (-inf at 0, NaN below, as
// log_ratio), q = ClampedPower(b, l), w = 1/(1 + q), s = q*w, ws = w*s; f = d + amd*w;
// J = (w, ((-amd)*ws)*l0, jc*ws, s), l0 = 0 where l = -inf.
template <class T>
void Logistic4Lanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  constexpr T kInf = std::numeric_limits<T>::infinity(), kNaN = std::numeric_limits<T>::quiet_NaN();
  alignas(64) T amd[L], jcf[L], inv_c[L];
  for (std::size_t l = 0; l < L; ++l) {
    amd[l] = theta[l] - theta[3 * L + l];
    inv_c[l] = T(1) / theta[2 * L + l];
    jcf[l] = amd[l] * theta[L + l] * inv_c[l];
  }
  // ln(x/c) of every point and lane into f first (a library call, scalar on every target).
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t l = 0; l < L; ++l) {
      const T u = x[i * L + l] * inv_c[l];
      f[i * L + l] = u > T(0) ? T(std::log(double(u))) : (u == T(0) ? -kInf : kNaN);  // float: rounded
    }
  const auto one = hn::Set(d, T(1)), zero = hn::Zero(d), minus_inf = hn::Set(d, -kInf);
  T *ja = J, *jb = J + n * L, *jc = J + 2 * n * L, *jd = J + 3 * n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto vb = hn::LoadU(d, theta + L + l0), vd = hn::LoadU(d, theta + 3 * L + l0);
    const auto vamd = hn::LoadU(d, amd + l0), vnamd = hn::Neg(vamd), vjc = hn::LoadU(d, jcf + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto l = hn::LoadU(d, f + at);
      const auto q = ClampedPower(d, vb, l);
      const auto w = hn::Div(one, hn::Add(one, q));
      const auto s = hn::Mul(q, w);
      hn::StoreU(hn::Add(vd, hn::Mul(vamd, w)), d, f + at);
      const auto ws = hn::Mul(w, s);
      const auto l_safe = hn::IfThenElse(hn::Eq(l, minus_inf), zero, l);
      hn::StoreU(w, d, ja + at);
      hn::StoreU(hn::Mul(hn::Mul(vnamd, ws), l_safe), d, jb + at);
      hn::StoreU(hn::Mul(vjc, ws), d, jc + at);
      hn::StoreU(s, d, jd + at);
    }
  }
}

// log (model/log_power.cpp LogRows): l = LogPositive(x); f = a + b*l; J = ((l - l) + 1, l).
template <class T>
void LogLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  const auto one = hn::Set(d, T(1));
  T *ja = J, *jb = J + n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto va = hn::LoadU(d, theta + l0), vb = hn::LoadU(d, theta + L + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto l = LogPositive(d, hn::LoadU(d, x + at));
      hn::StoreU(hn::Add(va, hn::Mul(vb, l)), d, f + at);
      hn::StoreU(hn::Add(hn::Sub(l, l), one), d, ja + at);
      hn::StoreU(l, d, jb + at);
    }
  }
}

// power (PowerRows): l = LogPositive(x), p = exp(b*l), v = a*p; f = v; J = (p, v*l).
template <class T>
void PowerLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  T *ja = J, *jb = J + n * L;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    const auto va = hn::LoadU(d, theta + l0), vb = hn::LoadU(d, theta + L + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto l = LogPositive(d, hn::LoadU(d, x + at));
      const auto p = Exp(d, hn::Mul(vb, l));
      const auto v = hn::Mul(va, p);
      hn::StoreU(v, d, f + at);
      hn::StoreU(p, d, ja + at);
      hn::StoreU(hn::Mul(v, l), d, jb + at);
    }
  }
}

// poly:K (model/poly.cpp PolyRows): f by Horner from b_K down, f = f*x + b_j; J_0 = 1,
// J_j = J_(j-1)*x.
template <int K, class T>
void PolyLanes(std::size_t n, const T* theta, const T* x, T* f, T* J) {
  const LaneTag<T> d;
  constexpr std::size_t L = kLanesOf<T>;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    hn::Vec<LaneTag<T>> b[K + 1];
    for (int j = 0; j <= K; ++j) b[j] = hn::LoadU(d, theta + std::size_t(j) * L + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      auto acc = b[K];
      for (int j = K - 1; j >= 0; --j) acc = hn::Add(hn::Mul(acc, xv), b[j]);
      hn::StoreU(acc, d, f + at);
      auto p = hn::Set(d, T(1));
      hn::StoreU(p, d, J + at);
      for (int j = 1; j <= K; ++j) {
        p = hn::Mul(p, xv);
        hn::StoreU(p, d, J + std::size_t(j) * n * L + at);
      }
    }
  }
}

// The Gram sums of lanes l0.. (one vector) over the points i = p, p + 4, ... of partial p, in point
// order, kept in registers: M columns known when compiling (the usual small models).
template <std::size_t M, class D, class T, class V>
HWY_INLINE void GramPartial(D d, std::size_t n, std::size_t p, std::size_t l0, const T* y, const T* f,
                            const T* w, const T* const* cols, V* acc) {
  constexpr std::size_t L = kLanesOf<T>;
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

template <std::size_t M, class T>
void LaneGramFixed(std::size_t n, const T* y, const T* f, const T* w, const T* const* cols, T* out) {
  const LaneTag<T> d;
  using V = hn::Vec<LaneTag<T>>;
  constexpr std::size_t L = kLanesOf<T>, sums = M * (M + 1) / 2;
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

template <class T>
void LaneGram(std::size_t n, std::size_t m, const T* y, const T* f, const T* w, const T* const* cols, T* out) {
  switch (m) {  // the same operations as the general loop below, with the sums in registers
    case 2: return LaneGramFixed<2>(n, y, f, w, cols, out);
    case 3: return LaneGramFixed<3>(n, y, f, w, cols, out);
    case 4: return LaneGramFixed<4>(n, y, f, w, cols, out);
    case 5: return LaneGramFixed<5>(n, y, f, w, cols, out);
    case 6: return LaneGramFixed<6>(n, y, f, w, cols, out);
    case 7: return LaneGramFixed<7>(n, y, f, w, cols, out);
    default: break;
  }
  const LaneTag<T> d;
  using V = hn::Vec<LaneTag<T>>;
  constexpr std::size_t L = kLanesOf<T>, kMaxColumns = 26;
  const std::size_t sums = m * (m + 1) / 2;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    // The partial sums of points i = p, p + 4, ... for p = 0..3, each in point order.
    alignas(64) T partial[4][kMaxColumns * (kMaxColumns + 1) / 2][hn::MaxLanes(LaneTag<T>())];
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
template <class T, class N>
void LanePoissonOf(std::size_t n, N q, const T* y, const T* f, const T* w, const T* const* cols, T* out) {
  const LaneTag<T> d;
  using V = hn::Vec<LaneTag<T>>;
  using M = hn::Mask<LaneTag<T>>;
  constexpr std::size_t L = kLanesOf<T>, kMaxColumns = 25;
  constexpr std::size_t terms = sizeof(T) == 4 ? kDevianceSeriesTermsFloat : kDevianceSeriesTerms;
  const std::size_t sums = 1 + q + q * (q + 1) / 2;
  const V zero = hn::Zero(d), one = hn::Set(d, T(1)), two = hn::Set(d, T(2)), limit = hn::Set(d, T(kDevianceSeriesLimit));
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
      for (std::size_t k = 0; k < terms; ++k) {
        series = hn::Add(series, hn::Mul(power, hn::Set(d, T(kDevianceSeries[k]))));
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
    acc[0] = hn::IfThenElse(bad, hn::Set(d, std::numeric_limits<T>::quiet_NaN()), acc[0]);
    for (std::size_t t = 0; t < sums; ++t) hn::StoreU(acc[t], d, out + t * L + l0);
  }
}

template <class T>
void LanePoisson(std::size_t n, std::size_t q, const T* y, const T* f, const T* w, const T* const* cols, T* out) {
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

// Each template's double and float instance under a name of its own, for Highway's dispatch.
#define PARAFIT_LANE_INSTANCES(Kernel)                                                               \
  void Kernel##64(std::size_t n, const double* t, const double* x, double* f, double* J) {         \
    Kernel<double>(n, t, x, f, J);                                                                 \
  }                                                                                                \
  void Kernel##32(std::size_t n, const float* t, const float* x, float* f, float* J) { Kernel<float>(n, t, x, f, J); }
PARAFIT_LANE_INSTANCES(GaussLanes)
PARAFIT_LANE_INSTANCES(ExpDecayLanes)
PARAFIT_LANE_INSTANCES(ExpGrowthLanes)
PARAFIT_LANE_INSTANCES(AsymptoticLanes)
PARAFIT_LANE_INSTANCES(MichaelisMentenLanes)
PARAFIT_LANE_INSTANCES(GompertzLanes)
PARAFIT_LANE_INSTANCES(Logistic4Lanes)
PARAFIT_LANE_INSTANCES(LogLanes)
PARAFIT_LANE_INSTANCES(PowerLanes)
#undef PARAFIT_LANE_INSTANCES
#define PARAFIT_POLY_INSTANCES(K)                                                                  \
  void Poly##K##Lanes64(std::size_t n, const double* t, const double* x, double* f, double* J) { \
    PolyLanes<K>(n, t, x, f, J);                                                                 \
  }                                                                                              \
  void Poly##K##Lanes32(std::size_t n, const float* t, const float* x, float* f, float* J) {     \
    PolyLanes<K>(n, t, x, f, J);                                                                 \
  }
PARAFIT_POLY_INSTANCES(1)
PARAFIT_POLY_INSTANCES(2)
PARAFIT_POLY_INSTANCES(3)
PARAFIT_POLY_INSTANCES(4)
PARAFIT_POLY_INSTANCES(5)
#undef PARAFIT_POLY_INSTANCES
#define PARAFIT_SUMS_INSTANCES(Sums, T, bits)                                                           \
  void Sums##bits(std::size_t n, std::size_t m, const T* y, const T* f, const T* w, const T* const* cols, \
                  T* out) {                                                                             \
    Sums<T>(n, m, y, f, w, cols, out);                                                                  \
  }
PARAFIT_SUMS_INSTANCES(LaneGram, double, 64)
PARAFIT_SUMS_INSTANCES(LaneGram, float, 32)
PARAFIT_SUMS_INSTANCES(LanePoisson, double, 64)
PARAFIT_SUMS_INSTANCES(LanePoisson, float, 32)
#undef PARAFIT_SUMS_INSTANCES

}  // namespace parafit::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace parafit::detail {

#define PARAFIT_EXPORT_BOTH(Kernel) \
  HWY_EXPORT(Kernel##64);           \
  HWY_EXPORT(Kernel##32);
PARAFIT_EXPORT_BOTH(GaussLanes)
PARAFIT_EXPORT_BOTH(ExpDecayLanes)
PARAFIT_EXPORT_BOTH(ExpGrowthLanes)
PARAFIT_EXPORT_BOTH(AsymptoticLanes)
PARAFIT_EXPORT_BOTH(MichaelisMentenLanes)
PARAFIT_EXPORT_BOTH(GompertzLanes)
PARAFIT_EXPORT_BOTH(Logistic4Lanes)
PARAFIT_EXPORT_BOTH(LogLanes)
PARAFIT_EXPORT_BOTH(PowerLanes)
PARAFIT_EXPORT_BOTH(Poly1Lanes)
PARAFIT_EXPORT_BOTH(Poly2Lanes)
PARAFIT_EXPORT_BOTH(Poly3Lanes)
PARAFIT_EXPORT_BOTH(Poly4Lanes)
PARAFIT_EXPORT_BOTH(Poly5Lanes)
PARAFIT_EXPORT_BOTH(LaneGram)
PARAFIT_EXPORT_BOTH(LanePoisson)
#undef PARAFIT_EXPORT_BOTH

namespace {
#define PARAFIT_DISPATCH(Kernel)                                                                      \
  void Kernel##64d(std::size_t n, const double* t, const double* x, double* f, double* J) {          \
    HWY_DYNAMIC_DISPATCH(Kernel##64)(n, t, x, f, J);                                                  \
  }                                                                                                   \
  void Kernel##32d(std::size_t n, const float* t, const float* x, float* f, float* J) {              \
    HWY_DYNAMIC_DISPATCH(Kernel##32)(n, t, x, f, J);                                                  \
  }
PARAFIT_DISPATCH(GaussLanes)
PARAFIT_DISPATCH(ExpDecayLanes)
PARAFIT_DISPATCH(ExpGrowthLanes)
PARAFIT_DISPATCH(AsymptoticLanes)
PARAFIT_DISPATCH(MichaelisMentenLanes)
PARAFIT_DISPATCH(GompertzLanes)
PARAFIT_DISPATCH(Logistic4Lanes)
PARAFIT_DISPATCH(LogLanes)
PARAFIT_DISPATCH(PowerLanes)
PARAFIT_DISPATCH(Poly1Lanes)
PARAFIT_DISPATCH(Poly2Lanes)
PARAFIT_DISPATCH(Poly3Lanes)
PARAFIT_DISPATCH(Poly4Lanes)
PARAFIT_DISPATCH(Poly5Lanes)
#undef PARAFIT_DISPATCH

struct KernelPair {
  const char* name;
  LaneEvaluateOf<double> f64;
  LaneEvaluateOf<float> f32;
};
#define PARAFIT_PAIR(name, Kernel) {name, Kernel##64d, Kernel##32d}
constexpr KernelPair kKernels[] = {
    PARAFIT_PAIR("gauss", GaussLanes),
    PARAFIT_PAIR("exp-decay", ExpDecayLanes),
    PARAFIT_PAIR("exp-growth", ExpGrowthLanes),
    PARAFIT_PAIR("asymptotic", AsymptoticLanes),
    PARAFIT_PAIR("michaelis-menten", MichaelisMentenLanes),
    PARAFIT_PAIR("gompertz", GompertzLanes),
    PARAFIT_PAIR("logistic4", Logistic4Lanes),
    PARAFIT_PAIR("log", LogLanes),
    PARAFIT_PAIR("power", PowerLanes),
    PARAFIT_PAIR("poly:1", Poly1Lanes),
    PARAFIT_PAIR("poly:2", Poly2Lanes),
    PARAFIT_PAIR("poly:3", Poly3Lanes),
    PARAFIT_PAIR("poly:4", Poly4Lanes),
    PARAFIT_PAIR("poly:5", Poly5Lanes),
};
#undef PARAFIT_PAIR

// By name: the built-in families (a formula's name is its text, never one of these).
const KernelPair* find_kernels(const Model& model) {
  const std::string name = model.name();
  for (const KernelPair& k : kKernels)
    if (name == k.name) return &k;
  return nullptr;
}
}  // namespace

LaneEvaluate lane_kernel(const Model& model) {
  const KernelPair* k = find_kernels(model);
  return k != nullptr ? k->f64 : nullptr;
}

LaneEvaluateOf<float> lane_kernel_float(const Model& model) {
  const KernelPair* k = find_kernels(model);
  return k != nullptr ? k->f32 : nullptr;
}

void lane_gram(std::size_t n, std::size_t m, const double* y, const double* f, const double* w,
               const double* const* cols, double* out) {
  HWY_DYNAMIC_DISPATCH(LaneGram64)(n, m, y, f, w, cols, out);
}
void lane_gram(std::size_t n, std::size_t m, const float* y, const float* f, const float* w, const float* const* cols,
               float* out) {
  HWY_DYNAMIC_DISPATCH(LaneGram32)(n, m, y, f, w, cols, out);
}

void lane_poisson(std::size_t n, std::size_t q, const double* y, const double* f, const double* w,
                  const double* const* cols, double* out) {
  HWY_DYNAMIC_DISPATCH(LanePoisson64)(n, q, y, f, w, cols, out);
}
void lane_poisson(std::size_t n, std::size_t q, const float* y, const float* f, const float* w,
                  const float* const* cols, float* out) {
  HWY_DYNAMIC_DISPATCH(LanePoisson32)(n, q, y, f, w, cols, out);
}

}  // namespace parafit::detail
#endif  // HWY_ONCE
