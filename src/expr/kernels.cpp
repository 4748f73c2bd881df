// The row loops. Each takes __restrict pointers (GCC honours restrict only on parameters), so the
// arithmetic loops vectorise; library calls (log, sin, ...) stay scalar. exp is the library's
// vectorisable vexp (model/fast_exp.h), as in the built-in models, so a formula and the built-in
// model of the same function round alike. A register operand is read once before the loop. The
// scalar program runs the same loops with n = 1 and every operand a register, so uniform values get
// exactly the rules (and bits) that rows get.
//
// The loops that vectorise (exp, + - * /, min, max, abs, the chain rule) are compiled twice, for
// baseline x86-64 and for AVX2, and the tape picks a copy when it is compiled. The copies round
// identically only if nothing is contracted into an FMA, hence fp-contract off for this whole file
// (set before any include, so every function compiled here, inlined ones too, is compiled alike).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "expr/kernels.h"

#include "model/fast_exp.h"

namespace parafit::expr {
namespace {

// exp_rule with vexp as its exp.
struct VectorExp {
  [[gnu::always_inline]] double operator()(double x) const { return detail::vexp(x); }
};
[[gnu::always_inline]] inline ad::Unary vexp_rule(double a) noexcept { return ad::exp_rule(a, VectorExp{}); }

// ---- loop bodies (always_inline: compiled into each copy with that copy's instruction set) ----

template <auto Rule, bool AV, bool PA>
[[gnu::always_inline]] inline void unary_loop(std::size_t n, const double* __restrict a, const double* /*b*/,
                                              double* __restrict v, double* __restrict pa, double* /*pb*/) {
  if constexpr (AV) {
    for (std::size_t i = 0; i < n; ++i) {
      const ad::Unary r = Rule(a[i]);
      v[i] = r.value;
      if constexpr (PA) pa[i] = r.d;
    }
  } else {
    const ad::Unary r = Rule(*a);
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = r.value;
      if constexpr (PA) pa[i] = r.d;
    }
  }
}

template <auto Rule, bool AV, bool BV, bool PA, bool PB>
[[gnu::always_inline]] inline void binary_loop(std::size_t n, const double* __restrict a,
                                               const double* __restrict b, double* __restrict v,
                                               double* __restrict pa, double* __restrict pb) {
  const double as = AV ? 0.0 : *a;
  const double bs = BV ? 0.0 : *b;
  for (std::size_t i = 0; i < n; ++i) {
    const ad::Binary r = Rule(AV ? a[i] : as, BV ? b[i] : bs);
    v[i] = r.value;
    if constexpr (PA) pa[i] = r.da;
    if constexpr (PB) pb[i] = r.db;
  }
}

// out = p*d (+ q*e), in that order of operations (compile-time folding uses the same).
template <bool PV, bool DV, bool TWO, bool QV, bool EV>
[[gnu::always_inline]] inline void deriv_loop(std::size_t n, const double* __restrict p,
                                              const double* __restrict d, const double* __restrict q,
                                              const double* __restrict e, double* __restrict out) {
  const double ps = PV ? 0.0 : *p;
  const double ds = DV ? 0.0 : *d;
  const double qs = (TWO && !QV) ? *q : 0.0;
  const double es = (TWO && !EV) ? *e : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double s = (PV ? p[i] : ps) * (DV ? d[i] : ds);
    if constexpr (TWO) s += (QV ? q[i] : qs) * (EV ? e[i] : es);
    out[i] = s;
  }
}

// ---- the copies ----

template <auto Loop>
void value_baseline(std::size_t n, const double* __restrict a, const double* __restrict b, double* __restrict v,
                    double* __restrict pa, double* __restrict pb) {
  Loop(n, a, b, v, pa, pb);
}
template <auto Loop>
void deriv_baseline(std::size_t n, const double* __restrict p, const double* __restrict d,
                    const double* __restrict q, const double* __restrict e, double* __restrict out) {
  Loop(n, p, d, q, e, out);
}
#if PARAFIT_HAVE_AVX2_LOOPS
template <auto Loop>
[[gnu::target("avx2")]] void value_avx2(std::size_t n, const double* __restrict a, const double* __restrict b,
                                        double* __restrict v, double* __restrict pa, double* __restrict pb) {
  Loop(n, a, b, v, pa, pb);
}
template <auto Loop>
[[gnu::target("avx2")]] void deriv_avx2(std::size_t n, const double* __restrict p, const double* __restrict d,
                                        const double* __restrict q, const double* __restrict e,
                                        double* __restrict out) {
  Loop(n, p, d, q, e, out);
}
#endif

// The copy to use: AVX2 where the CPU has it and the loop is worth it.
template <auto Loop>
ValueKernel value_copy(bool wide) {
#if PARAFIT_HAVE_AVX2_LOOPS
  if (wide) return &value_avx2<Loop>;
#endif
  (void)wide;
  return &value_baseline<Loop>;
}
template <auto Loop>
DerivKernel deriv_copy(bool wide) {
#if PARAFIT_HAVE_AVX2_LOOPS
  if (wide) return &deriv_avx2<Loop>;
#endif
  (void)wide;
  return &deriv_baseline<Loop>;
}

bool avx2_available() { return detail::active_loop_isa() == detail::LoopIsa::avx2; }

// ---- choosing a loop ----

template <bool AV, bool PA>
ValueKernel unary_for(Op op) {
  // Rows (AV) of the vectorisable functions get the AVX2 copy; registers never need it.
  const bool wide = AV && avx2_available();
  switch (op) {
    case Op::kNeg: return value_copy<&unary_loop<&ad::neg_rule, AV, PA>>(wide);
    case Op::kSquare: return value_copy<&unary_loop<&ad::square_rule, AV, PA>>(wide);
    case Op::kExp: return value_copy<&unary_loop<&vexp_rule, AV, PA>>(wide);
    case Op::kAbs: return value_copy<&unary_loop<&ad::abs_rule, AV, PA>>(wide);
    case Op::kLog: return &value_baseline<&unary_loop<&ad::log_rule, AV, PA>>;
    case Op::kLog10: return &value_baseline<&unary_loop<&ad::log10_rule, AV, PA>>;
    case Op::kLog2: return &value_baseline<&unary_loop<&ad::log2_rule, AV, PA>>;
    case Op::kSqrt: return &value_baseline<&unary_loop<&ad::sqrt_rule, AV, PA>>;
    case Op::kCbrt: return &value_baseline<&unary_loop<&ad::cbrt_rule, AV, PA>>;
    case Op::kSin: return &value_baseline<&unary_loop<&ad::sin_rule, AV, PA>>;
    case Op::kCos: return &value_baseline<&unary_loop<&ad::cos_rule, AV, PA>>;
    case Op::kTan: return &value_baseline<&unary_loop<&ad::tan_rule, AV, PA>>;
    case Op::kAsin: return &value_baseline<&unary_loop<&ad::asin_rule, AV, PA>>;
    case Op::kAcos: return &value_baseline<&unary_loop<&ad::acos_rule, AV, PA>>;
    case Op::kAtan: return &value_baseline<&unary_loop<&ad::atan_rule, AV, PA>>;
    case Op::kSinh: return &value_baseline<&unary_loop<&ad::sinh_rule, AV, PA>>;
    case Op::kCosh: return &value_baseline<&unary_loop<&ad::cosh_rule, AV, PA>>;
    case Op::kTanh: return &value_baseline<&unary_loop<&ad::tanh_rule, AV, PA>>;
    case Op::kErf: return &value_baseline<&unary_loop<&ad::erf_rule, AV, PA>>;
    case Op::kErfc: return &value_baseline<&unary_loop<&ad::erfc_rule, AV, PA>>;
    default: return nullptr;
  }
}

template <bool AV, bool BV, bool PA, bool PB>
ValueKernel binary_for(Op op) {
  const bool wide = (AV || BV) && avx2_available();
  switch (op) {
    case Op::kAdd: return value_copy<&binary_loop<&ad::add_rule, AV, BV, PA, PB>>(wide);
    case Op::kSub: return value_copy<&binary_loop<&ad::sub_rule, AV, BV, PA, PB>>(wide);
    case Op::kMul: return value_copy<&binary_loop<&ad::mul_rule, AV, BV, PA, PB>>(wide);
    case Op::kDiv: return value_copy<&binary_loop<&ad::div_rule, AV, BV, PA, PB>>(wide);
    case Op::kMin: return value_copy<&binary_loop<&ad::min_rule, AV, BV, PA, PB>>(wide);
    case Op::kMax: return value_copy<&binary_loop<&ad::max_rule, AV, BV, PA, PB>>(wide);
    case Op::kAtan2: return &value_baseline<&binary_loop<&ad::atan2_rule, AV, BV, PA, PB>>;
    case Op::kHypot: return &value_baseline<&binary_loop<&ad::hypot_rule, AV, BV, PA, PB>>;
    case Op::kPow:
      // Only the partials that are wanted are computed: a constant exponent never takes log(base).
      if constexpr (PA && PB) return &value_baseline<&binary_loop<&ad::pow_rule, AV, BV, PA, PB>>;
      else if constexpr (PB) return &value_baseline<&binary_loop<&ad::pow_exponent_rule, AV, BV, PA, PB>>;
      else return &value_baseline<&binary_loop<&ad::pow_base_rule, AV, BV, PA, PB>>;
    default: return nullptr;
  }
}

template <bool AV, bool BV>
ValueKernel binary_for(Op op, bool pa, bool pb) {
  if (pa) return pb ? binary_for<AV, BV, true, true>(op) : binary_for<AV, BV, true, false>(op);
  return pb ? binary_for<AV, BV, false, true>(op) : binary_for<AV, BV, false, false>(op);
}

template <bool PV, bool DV, bool TWO>
DerivKernel deriv_for(bool qv, bool ev) {
  const bool wide = (PV || DV || qv || ev) && avx2_available();
  if constexpr (!TWO) {
    return deriv_copy<&deriv_loop<PV, DV, false, false, false>>(wide);
  } else {
    if (qv) return ev ? deriv_copy<&deriv_loop<PV, DV, true, true, true>>(wide)
                      : deriv_copy<&deriv_loop<PV, DV, true, true, false>>(wide);
    return ev ? deriv_copy<&deriv_loop<PV, DV, true, false, true>>(wide)
              : deriv_copy<&deriv_loop<PV, DV, true, false, false>>(wide);
  }
}

template <bool PV, bool DV>
DerivKernel deriv_for(bool two, bool qv, bool ev) {
  return two ? deriv_for<PV, DV, true>(qv, ev) : deriv_for<PV, DV, false>(qv, ev);
}

}  // namespace

ValueKernel value_kernel(Op op, bool av, bool bv, bool pa, bool pb) {
  if (!is_binary(op)) {
    if (av) return pa ? unary_for<true, true>(op) : unary_for<true, false>(op);
    return pa ? unary_for<false, true>(op) : unary_for<false, false>(op);
  }
  if (av) return bv ? binary_for<true, true>(op, pa, pb) : binary_for<true, false>(op, pa, pb);
  return bv ? binary_for<false, true>(op, pa, pb) : binary_for<false, false>(op, pa, pb);
}

DerivKernel deriv_kernel(bool pv, bool dv, bool two, bool qv, bool ev) {
  if (pv) return dv ? deriv_for<true, true>(two, qv, ev) : deriv_for<true, false>(two, qv, ev);
  return dv ? deriv_for<false, true>(two, qv, ev) : deriv_for<false, false>(two, qv, ev);
}

ad::Binary apply_rule(Op op, double a, double b) {
  double v = 0.0;
  double pa = 0.0;
  double pb = 0.0;
  value_kernel(op, false, false, true, is_binary(op))(1, &a, &b, &v, &pa, &pb);
  return {v, pa, pb};
}

}  // namespace parafit::expr
