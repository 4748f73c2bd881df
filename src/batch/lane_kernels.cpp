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

// michaelis-menten (model/michaelis_menten.cpp MmRows): r = 1/(km + x), sat = x*r; f = vmax*sat;
// J = (sat, (-vmax*sat)*r).
void MichaelisMentenLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  const auto one = hn::Set(d, 1.0);
  double *jv = J, *jk = J + n * L;
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
void GompertzLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  alignas(64) double ab[L];
  for (std::size_t l = 0; l < L; ++l) ab[l] = theta[l] * theta[L + l];
  double *ja = J, *jb = J + n * L, *jc = J + 2 * n * L;
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
void Logistic4Lanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  constexpr double kInf = std::numeric_limits<double>::infinity(), kNaN = std::numeric_limits<double>::quiet_NaN();
  alignas(64) double amd[L], jcf[L], inv_c[L];
  for (std::size_t l = 0; l < L; ++l) {
    amd[l] = theta[l] - theta[3 * L + l];
    inv_c[l] = 1.0 / theta[2 * L + l];
    jcf[l] = amd[l] * theta[L + l] * inv_c[l];
  }
  // ln(x/c) of every point and lane into f first (a library call, scalar on every target).
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t l = 0; l < L; ++l) {
      const double u = x[i * L + l] * inv_c[l];
      f[i * L + l] = u > 0.0 ? std::log(u) : (u == 0.0 ? -kInf : kNaN);
    }
  const auto one = hn::Set(d, 1.0), zero = hn::Zero(d), minus_inf = hn::Set(d, -kInf);
  double *ja = J, *jb = J + n * L, *jc = J + 2 * n * L, *jd = J + 3 * n * L;
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
void LogLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  const auto one = hn::Set(d, 1.0);
  double *ja = J, *jb = J + n * L;
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
void PowerLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  double *ja = J, *jb = J + n * L;
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
template <int K>
void PolyLanes(std::size_t n, const double* theta, const double* x, double* f, double* J) {
  const LaneTag d;
  constexpr std::size_t L = kFitLanes;
  for (std::size_t l0 = 0; l0 < L; l0 += hn::Lanes(d)) {
    hn::Vec<LaneTag> b[K + 1];
    for (int j = 0; j <= K; ++j) b[j] = hn::LoadU(d, theta + std::size_t(j) * L + l0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = i * L + l0;
      const auto xv = hn::LoadU(d, x + at);
      auto acc = b[K];
      for (int j = K - 1; j >= 0; --j) acc = hn::Add(hn::Mul(acc, xv), b[j]);
      hn::StoreU(acc, d, f + at);
      auto p = hn::Set(d, 1.0);
      hn::StoreU(p, d, J + at);
      for (int j = 1; j <= K; ++j) {
        p = hn::Mul(p, xv);
        hn::StoreU(p, d, J + std::size_t(j) * n * L + at);
      }
    }
  }
}
void Poly1Lanes(std::size_t n, const double* t, const double* x, double* f, double* J) { PolyLanes<1>(n, t, x, f, J); }
void Poly2Lanes(std::size_t n, const double* t, const double* x, double* f, double* J) { PolyLanes<2>(n, t, x, f, J); }
void Poly3Lanes(std::size_t n, const double* t, const double* x, double* f, double* J) { PolyLanes<3>(n, t, x, f, J); }
void Poly4Lanes(std::size_t n, const double* t, const double* x, double* f, double* J) { PolyLanes<4>(n, t, x, f, J); }
void Poly5Lanes(std::size_t n, const double* t, const double* x, double* f, double* J) { PolyLanes<5>(n, t, x, f, J); }

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
HWY_EXPORT(MichaelisMentenLanes);
HWY_EXPORT(GompertzLanes);
HWY_EXPORT(Logistic4Lanes);
HWY_EXPORT(LogLanes);
HWY_EXPORT(PowerLanes);
HWY_EXPORT(Poly1Lanes);
HWY_EXPORT(Poly2Lanes);
HWY_EXPORT(Poly3Lanes);
HWY_EXPORT(Poly4Lanes);
HWY_EXPORT(Poly5Lanes);
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
#define PARAFIT_LANES(fn, Kernel)                                                      \
  void fn(std::size_t n, const double* theta, const double* x, double* f, double* J) { \
    HWY_DYNAMIC_DISPATCH(Kernel)(n, theta, x, f, J);                                   \
  }
PARAFIT_LANES(michaelis_menten_lanes, MichaelisMentenLanes)
PARAFIT_LANES(gompertz_lanes, GompertzLanes)
PARAFIT_LANES(logistic4_lanes, Logistic4Lanes)
PARAFIT_LANES(log_lanes, LogLanes)
PARAFIT_LANES(power_lanes, PowerLanes)
PARAFIT_LANES(poly1_lanes, Poly1Lanes)
PARAFIT_LANES(poly2_lanes, Poly2Lanes)
PARAFIT_LANES(poly3_lanes, Poly3Lanes)
PARAFIT_LANES(poly4_lanes, Poly4Lanes)
PARAFIT_LANES(poly5_lanes, Poly5Lanes)
#undef PARAFIT_LANES
}  // namespace

// By name: the built-in families (a formula's name is its text, never one of these).
LaneEvaluate lane_kernel(const Model& model) {
  const std::string name = model.name();
  if (name == "gauss") return gauss_lanes;
  if (name == "exp-decay") return exp_decay_lanes;
  if (name == "exp-growth") return exp_growth_lanes;
  if (name == "asymptotic") return asymptotic_lanes;
  if (name == "michaelis-menten") return michaelis_menten_lanes;
  if (name == "gompertz") return gompertz_lanes;
  if (name == "logistic4") return logistic4_lanes;
  if (name == "log") return log_lanes;
  if (name == "power") return power_lanes;
  if (name == "poly:1") return poly1_lanes;
  if (name == "poly:2") return poly2_lanes;
  if (name == "poly:3") return poly3_lanes;
  if (name == "poly:4") return poly4_lanes;
  if (name == "poly:5") return poly5_lanes;
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
