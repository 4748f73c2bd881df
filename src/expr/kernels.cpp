// The row loops of the tape. The operations that vectorise (+ - * /, min, max, neg, square, abs,
// exp, log, and the chain rule p*d + q*e) are written once on Highway vectors: this file is
// compiled once per SIMD target (hwy/foreach_target.h), and value_kernel/deriv_kernel hand the tape
// the loop of the target that HWY_DYNAMIC_DISPATCH picks when the formula is compiled (a formula
// compiled under simd::ScopedTarget runs that target's loops for its whole life). Every target
// gives the same bits, because each vector rule is the rule of parafit/jet.h written with the same
// correctly rounded operations in the same order (nothing is fused: -ffp-contract=off), and exp and
// log are simd's Exp and Log, whose bits exp_scalar and log_scalar repeat.
//
// Everything else runs the rules of jet.h element by element, target-independent code: library
// functions (sin, pow, log10, ...) on rows, and every rule on registers only — the scalar program
// (n = 1) and compile-time folding — with exp_scalar and log_scalar for exp and log, so uniform
// values get exactly the bits rows get. The built-in models use the same Exp and Log, so a formula
// and the built-in model of the same function round alike.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "expr/kernels.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <limits>

#include "expr/kernels.h"
#include "simd/exp-inl.h"
#include "simd/log-inl.h"
#include "simd/ops-inl.h"

HWY_BEFORE_NAMESPACE();
namespace parafit::expr::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace simd = parafit::simd::HWY_NAMESPACE;

using D = hn::ScalableTag<double>;
using V = hn::Vec<D>;

// A rule's value and partials, lane by lane (VUnary uses da only).
struct VBinary {
  V value, da, db;
};

// ---- the rules of parafit/jet.h on vectors, operation for operation ----

struct NegV {
  static constexpr bool kBinary = false;
  static HWY_INLINE VBinary Apply(D d, V a, V) { return {hn::Neg(a), hn::Set(d, -1.0), hn::Zero(d)}; }
};
struct SquareV {
  static constexpr bool kBinary = false;
  static HWY_INLINE VBinary Apply(D d, V a, V) { return {hn::Mul(a, a), hn::Mul(hn::Set(d, 2.0), a), hn::Zero(d)}; }
};
struct ExpV {
  static constexpr bool kBinary = false;
  static HWY_INLINE VBinary Apply(D d, V a, V) {
    const V v = simd::Exp(d, a);
    return {v, v, hn::Zero(d)};
  }
};
struct LogV {
  static constexpr bool kBinary = false;
  static HWY_INLINE VBinary Apply(D d, V a, V) { return {simd::Log(d, a), hn::Div(hn::Set(d, 1.0), a), hn::Zero(d)}; }
};
// |a|, sign(a) with sign(0) = sign(NaN) = 0.
struct AbsV {
  static constexpr bool kBinary = false;
  static HWY_INLINE VBinary Apply(D d, V a, V) {
    const V sign = hn::IfThenElse(hn::Gt(a, hn::Zero(d)), hn::Set(d, 1.0),
                                  hn::IfThenElseZero(hn::Lt(a, hn::Zero(d)), hn::Set(d, -1.0)));
    return {hn::Abs(a), sign, hn::Zero(d)};
  }
};
struct AddV {
  static constexpr bool kBinary = true;
  static HWY_INLINE VBinary Apply(D d, V a, V b) { return {hn::Add(a, b), hn::Set(d, 1.0), hn::Set(d, 1.0)}; }
};
struct SubV {
  static constexpr bool kBinary = true;
  static HWY_INLINE VBinary Apply(D d, V a, V b) { return {hn::Sub(a, b), hn::Set(d, 1.0), hn::Set(d, -1.0)}; }
};
struct MulV {
  static constexpr bool kBinary = true;
  static HWY_INLINE VBinary Apply(D, V a, V b) { return {hn::Mul(a, b), b, a}; }
};
struct DivV {
  static constexpr bool kBinary = true;
  static HWY_INLINE VBinary Apply(D d, V a, V b) {
    const V inv = hn::Div(hn::Set(d, 1.0), b);
    const V v = hn::Div(a, b);
    return {v, inv, hn::Mul(hn::Neg(v), inv)};
  }
};
// min/max: the first argument on a tie, the second where it is strictly better, NaN otherwise
// (selects, not hn::Min/Max: those differ between targets for NaN and signed zeros).
template <bool kMax>
struct MinMaxV {
  static constexpr bool kBinary = true;
  static HWY_INLINE VBinary Apply(D d, V a, V b) {
    const auto first = kMax ? hn::Ge(a, b) : hn::Le(a, b);
    const auto second = kMax ? hn::Gt(b, a) : hn::Lt(b, a);
    const V nan = hn::Set(d, std::numeric_limits<double>::quiet_NaN());
    const V one = hn::Set(d, 1.0);
    const V zero = hn::Zero(d);
    return {hn::IfThenElse(first, a, hn::IfThenElse(second, b, nan)),
            hn::IfThenElse(first, one, hn::IfThenElse(second, zero, nan)),
            hn::IfThenElse(first, zero, hn::IfThenElse(second, one, nan))};
  }
};

// ---- the loops ----

// An operand: the vector at the current rows of a buffer, or one register broadcast.
template <bool kRows, class Load>
HWY_INLINE V Operand(const Load& load, const double* p, V broadcast) {
  if constexpr (kRows) return load(p);
  else return broadcast;
}

// v = rule(a, b) over n rows, partials stored where wanted (the others are never computed: the
// compiler drops what is not stored). A unary rule ignores b.
template <class Rule, bool AV, bool BV, bool PA, bool PB>
void RuleRows(std::size_t n, const double* a, const double* b, double* v, double* pa, double* pb) {
  const D d;
  const V as = AV ? hn::Zero(d) : hn::Set(d, *a);
  const V bs = (BV || !Rule::kBinary) ? hn::Zero(d) : hn::Set(d, *b);
  simd::ForEachVector(d, n, [&](auto load, auto store) {
    const VBinary r = Rule::Apply(d, Operand<AV>(load, a, as), Operand<BV>(load, b, bs));
    store(v, r.value);
    if constexpr (PA) store(pa, r.da);
    if constexpr (PB) store(pb, r.db);
  });
}

// out = p*d (+ q*e), in that order of operations (compile-time folding uses the same).
template <bool PV, bool DV, bool TWO, bool QV, bool EV>
void ChainRows(std::size_t n, const double* p, const double* dd, const double* q, const double* e, double* out) {
  const D d;
  const V ps = PV ? hn::Zero(d) : hn::Set(d, *p);
  const V ds = DV ? hn::Zero(d) : hn::Set(d, *dd);
  const V qs = (TWO && !QV) ? hn::Set(d, *q) : hn::Zero(d);
  const V es = (TWO && !EV) ? hn::Set(d, *e) : hn::Zero(d);
  simd::ForEachVector(d, n, [&](auto load, auto store) {
    V s = hn::Mul(Operand<PV>(load, p, ps), Operand<DV>(load, dd, ds));
    if constexpr (TWO) s = hn::Add(s, hn::Mul(Operand<QV>(load, q, qs), Operand<EV>(load, e, es)));
    store(out, s);
  });
}

// ---- choosing a loop: nullptr where this file has no vector loop (registers only, library calls) ----

template <class Rule, bool AV, bool BV>
ValueKernel RuleFor(bool pa, bool pb) {
  if (pa) return pb ? &RuleRows<Rule, AV, BV, true, true> : &RuleRows<Rule, AV, BV, true, false>;
  return pb ? &RuleRows<Rule, AV, BV, false, true> : &RuleRows<Rule, AV, BV, false, false>;
}

template <bool AV, bool BV>
ValueKernel BinaryFor(Op op, bool pa, bool pb) {
  switch (op) {
    case Op::kAdd: return RuleFor<AddV, AV, BV>(pa, pb);
    case Op::kSub: return RuleFor<SubV, AV, BV>(pa, pb);
    case Op::kMul: return RuleFor<MulV, AV, BV>(pa, pb);
    case Op::kDiv: return RuleFor<DivV, AV, BV>(pa, pb);
    case Op::kMin: return RuleFor<MinMaxV<false>, AV, BV>(pa, pb);
    case Op::kMax: return RuleFor<MinMaxV<true>, AV, BV>(pa, pb);
    default: return nullptr;
  }
}

ValueKernel ValueKernelFor(Op op, bool av, bool bv, bool pa, bool pb) {
  if (is_binary(op)) {
    if (av) return bv ? BinaryFor<true, true>(op, pa, pb) : BinaryFor<true, false>(op, pa, pb);
    return bv ? BinaryFor<false, true>(op, pa, pb) : nullptr;
  }
  if (!av) return nullptr;
  switch (op) {
    case Op::kNeg: return RuleFor<NegV, true, false>(pa, false);
    case Op::kSquare: return RuleFor<SquareV, true, false>(pa, false);
    case Op::kExp: return RuleFor<ExpV, true, false>(pa, false);
    case Op::kLog: return RuleFor<LogV, true, false>(pa, false);
    case Op::kAbs: return RuleFor<AbsV, true, false>(pa, false);
    default: return nullptr;
  }
}

template <bool PV, bool DV>
DerivKernel ChainFor(bool two, bool qv, bool ev) {
  if (!two) return &ChainRows<PV, DV, false, false, false>;
  if (qv) return ev ? &ChainRows<PV, DV, true, true, true> : &ChainRows<PV, DV, true, true, false>;
  return ev ? &ChainRows<PV, DV, true, false, true> : &ChainRows<PV, DV, true, false, false>;
}

DerivKernel DerivKernelFor(bool pv, bool dv, bool two, bool qv, bool ev) {
  if (!(pv || dv || (two && (qv || ev)))) return nullptr;
  if (pv) return dv ? ChainFor<true, true>(two, qv, ev) : ChainFor<true, false>(two, qv, ev);
  return dv ? ChainFor<false, true>(two, qv, ev) : ChainFor<false, false>(two, qv, ev);
}

}  // namespace parafit::expr::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/exp_scalar.h"
#include "simd/log_scalar.h"

namespace parafit::expr {
HWY_EXPORT(ValueKernelFor);
HWY_EXPORT(DerivKernelFor);

namespace {

// exp_rule and log_rule with the bits of simd's Exp and Log.
struct ExpScalar {
  double operator()(double x) const { return simd::exp_scalar(x); }
};
struct LogScalar {
  double operator()(double x) const { return simd::log_scalar(x); }
};
inline ad::Unary exp_scalar_rule(double a) noexcept { return ad::exp_rule(a, ExpScalar{}); }
inline ad::Unary log_scalar_rule(double a) noexcept { return ad::log_rule(a, LogScalar{}); }

// ---- element-by-element loops (library functions on rows; any rule on registers) ----

template <auto Rule, bool AV, bool PA>
void unary_loop(std::size_t n, const double* __restrict a, const double* /*b*/, double* __restrict v,
                double* __restrict pa, double* /*pb*/) {
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
void binary_loop(std::size_t n, const double* __restrict a, const double* __restrict b, double* __restrict v,
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

// Registers only: out = p*d (+ q*e), the order of ChainRows.
template <bool TWO>
void deriv_registers(std::size_t n, const double* p, const double* d, const double* q, const double* e,
                     double* out) {
  double s = *p * *d;
  if constexpr (TWO) s += *q * *e;
  for (std::size_t i = 0; i < n; ++i) out[i] = s;
}

template <bool AV, bool PA>
ValueKernel unary_for(Op op) {
  switch (op) {
    case Op::kNeg: return &unary_loop<&ad::neg_rule, AV, PA>;
    case Op::kSquare: return &unary_loop<&ad::square_rule, AV, PA>;
    case Op::kExp: return &unary_loop<&exp_scalar_rule, AV, PA>;
    case Op::kAbs: return &unary_loop<&ad::abs_rule, AV, PA>;
    case Op::kLog: return &unary_loop<&log_scalar_rule, AV, PA>;
    case Op::kLog10: return &unary_loop<&ad::log10_rule, AV, PA>;
    case Op::kLog2: return &unary_loop<&ad::log2_rule, AV, PA>;
    case Op::kSqrt: return &unary_loop<&ad::sqrt_rule, AV, PA>;
    case Op::kCbrt: return &unary_loop<&ad::cbrt_rule, AV, PA>;
    case Op::kSin: return &unary_loop<&ad::sin_rule, AV, PA>;
    case Op::kCos: return &unary_loop<&ad::cos_rule, AV, PA>;
    case Op::kTan: return &unary_loop<&ad::tan_rule, AV, PA>;
    case Op::kAsin: return &unary_loop<&ad::asin_rule, AV, PA>;
    case Op::kAcos: return &unary_loop<&ad::acos_rule, AV, PA>;
    case Op::kAtan: return &unary_loop<&ad::atan_rule, AV, PA>;
    case Op::kSinh: return &unary_loop<&ad::sinh_rule, AV, PA>;
    case Op::kCosh: return &unary_loop<&ad::cosh_rule, AV, PA>;
    case Op::kTanh: return &unary_loop<&ad::tanh_rule, AV, PA>;
    case Op::kErf: return &unary_loop<&ad::erf_rule, AV, PA>;
    case Op::kErfc: return &unary_loop<&ad::erfc_rule, AV, PA>;
    default: return nullptr;
  }
}

template <bool AV, bool BV, bool PA, bool PB>
ValueKernel binary_for(Op op) {
  switch (op) {
    case Op::kAdd: return &binary_loop<&ad::add_rule, AV, BV, PA, PB>;
    case Op::kSub: return &binary_loop<&ad::sub_rule, AV, BV, PA, PB>;
    case Op::kMul: return &binary_loop<&ad::mul_rule, AV, BV, PA, PB>;
    case Op::kDiv: return &binary_loop<&ad::div_rule, AV, BV, PA, PB>;
    case Op::kMin: return &binary_loop<&ad::min_rule, AV, BV, PA, PB>;
    case Op::kMax: return &binary_loop<&ad::max_rule, AV, BV, PA, PB>;
    case Op::kAtan2: return &binary_loop<&ad::atan2_rule, AV, BV, PA, PB>;
    case Op::kHypot: return &binary_loop<&ad::hypot_rule, AV, BV, PA, PB>;
    case Op::kPow:
      // Only the partials that are wanted are computed: a constant exponent never takes log(base).
      if constexpr (PA && PB) return &binary_loop<&ad::pow_rule, AV, BV, PA, PB>;
      else if constexpr (PB) return &binary_loop<&ad::pow_exponent_rule, AV, BV, PA, PB>;
      else return &binary_loop<&ad::pow_base_rule, AV, BV, PA, PB>;
    default: return nullptr;
  }
}

template <bool AV, bool BV>
ValueKernel binary_for(Op op, bool pa, bool pb) {
  if (pa) return pb ? binary_for<AV, BV, true, true>(op) : binary_for<AV, BV, true, false>(op);
  return pb ? binary_for<AV, BV, false, true>(op) : binary_for<AV, BV, false, false>(op);
}

ValueKernel element_kernel(Op op, bool av, bool bv, bool pa, bool pb) {
  if (!is_binary(op)) {
    if (av) return pa ? unary_for<true, true>(op) : unary_for<true, false>(op);
    return pa ? unary_for<false, true>(op) : unary_for<false, false>(op);
  }
  if (av) return bv ? binary_for<true, true>(op, pa, pb) : binary_for<true, false>(op, pa, pb);
  return bv ? binary_for<false, true>(op, pa, pb) : binary_for<false, false>(op, pa, pb);
}

}  // namespace

ValueKernel value_kernel(Op op, bool av, bool bv, bool pa, bool pb) {
  if (const ValueKernel k = HWY_DYNAMIC_DISPATCH(ValueKernelFor)(op, av, bv, pa, pb)) return k;
  return element_kernel(op, av, bv, pa, pb);
}

DerivKernel deriv_kernel(bool pv, bool dv, bool two, bool qv, bool ev) {
  if (const DerivKernel k = HWY_DYNAMIC_DISPATCH(DerivKernelFor)(pv, dv, two, qv, ev)) return k;
  return two ? &deriv_registers<true> : &deriv_registers<false>;
}

ad::Binary apply_rule(Op op, double a, double b) {
  double v = 0.0;
  double pa = 0.0;
  double pb = 0.0;
  value_kernel(op, false, false, true, is_binary(op))(1, &a, &b, &v, &pa, &pb);
  return {v, pa, pb};
}

}  // namespace parafit::expr
#endif  // HWY_ONCE
