// parafit/jet.h — forward-mode automatic differentiation: the derivative rules and a Jet<N> type.
//
// The rules come first. Each one takes the argument value(s) and returns the function value with its
// partial derivative(s). They are the only place in parafit where the derivative of a function is
// written down: the formula tape (src/expr) calls them row by row, and Jet<N> below calls them for
// its operators and functions, so a formula and a C++ functor get their Jacobians from one
// machinery.
//
// Jet<N> carries a value `a` and N partial derivatives `v` (Eigen fixed-size vector):
//   f(a + v·ε) = f(a) + f'(a) v·ε.
// A functor templated on its scalar type T, run with T = Jet<N> where theta_j has v = e_j,
// returns the value and the gradient in theta (see parafit/autodiff.h).
//
// Where a function is undefined the value is NaN (IEEE: log(-1), sqrt(-1), asin(2), ...) and the
// derivatives are NaN or infinite; nothing here throws.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <numbers>

namespace parafit {
namespace ad {

// f(a) and f'(a).
struct Unary {
  double value;
  double d;
};

// f(a, b), df/da and df/db.
struct Binary {
  double value;
  double da;
  double db;
};

// ---- arithmetic ------------------------------------------------------------------------------

// d(-a) = -da
inline Unary neg_rule(double a) noexcept { return {-a, -1.0}; }
// d(a + b) = da + db
inline Binary add_rule(double a, double b) noexcept { return {a + b, 1.0, 1.0}; }
// d(a - b) = da - db
inline Binary sub_rule(double a, double b) noexcept { return {a - b, 1.0, -1.0}; }
// d(a b) = b da + a db
inline Binary mul_rule(double a, double b) noexcept { return {a * b, b, a}; }
// d(a / b) = da / b - (a / b^2) db = (da - (a/b) db) / b
inline Binary div_rule(double a, double b) noexcept {
  const double inv = 1.0 / b;
  const double v = a / b;
  return {v, inv, -v * inv};
}
// d(a^2) = 2a da
inline Unary square_rule(double a) noexcept { return {a * a, 2.0 * a}; }

// ---- powers ----------------------------------------------------------------------------------

// d(a^b) = b a^(b-1) da + a^b log(a) db.
// Where a^b is 0 (a = 0, b > 0) the limit of a^b log(a) is 0, not 0 * -inf.
inline Binary pow_rule(double a, double b) noexcept {
  const double v = std::pow(a, b);
  const double db = v == 0.0 ? 0.0 : v * std::log(a);
  return {v, b * std::pow(a, b - 1.0), db};
}
// d(a^b) = b a^(b-1) da, for an exponent that is not differentiated (db is not computed: 0).
// Separate from pow_rule so that x^2.5 never evaluates log(x), which is NaN for x < 0.
inline Binary pow_base_rule(double a, double b) noexcept {
  return {std::pow(a, b), b * std::pow(a, b - 1.0), 0.0};
}
// d(a^b) = a^b log(a) db, for a base that is not differentiated (da is not computed: 0).
inline Binary pow_exponent_rule(double a, double b) noexcept {
  const double v = std::pow(a, b);
  return {v, 0.0, v == 0.0 ? 0.0 : v * std::log(a)};
}
// d sqrt(a) = da / (2 sqrt(a))
inline Unary sqrt_rule(double a) noexcept {
  const double v = std::sqrt(a);
  return {v, 0.5 / v};
}
// d cbrt(a) = da / (3 cbrt(a)^2)
inline Unary cbrt_rule(double a) noexcept {
  const double v = std::cbrt(a);
  return {v, 1.0 / (3.0 * v * v)};
}

// ---- exponentials and logarithms -------------------------------------------------------------

// d exp(a) = exp(a) da. `exp_fn` computes exp: the formula tape passes the library's vectorisable
// exp (the one the built-in models use, so a formula and a built-in model round alike); Jet uses
// std::exp.
template <typename ExpFn>
inline Unary exp_rule(double a, ExpFn exp_fn) noexcept {
  const double v = exp_fn(a);
  return {v, v};
}
inline Unary exp_rule(double a) noexcept {
  return exp_rule(a, [](double x) { return std::exp(x); });
}
// d log(a) = da / a. `log_fn` computes log: the formula tape passes the library's vectorisable log
// (as for exp_rule); Jet uses std::log.
template <typename LogFn>
inline Unary log_rule(double a, LogFn log_fn) noexcept {
  return {log_fn(a), 1.0 / a};
}
inline Unary log_rule(double a) noexcept { return {std::log(a), 1.0 / a}; }
// d log10(a) = da / (a ln 10)
inline Unary log10_rule(double a) noexcept {
  return {std::log10(a), 1.0 / (a * std::numbers::ln10)};
}
// d log2(a) = da / (a ln 2)
inline Unary log2_rule(double a) noexcept { return {std::log2(a), 1.0 / (a * std::numbers::ln2)}; }

// ---- trigonometric ---------------------------------------------------------------------------

// d sin(a) = cos(a) da
inline Unary sin_rule(double a) noexcept { return {std::sin(a), std::cos(a)}; }
// d cos(a) = -sin(a) da
inline Unary cos_rule(double a) noexcept { return {std::cos(a), -std::sin(a)}; }
// d tan(a) = (1 + tan(a)^2) da
inline Unary tan_rule(double a) noexcept {
  const double v = std::tan(a);
  return {v, 1.0 + v * v};
}
// d asin(a) = da / sqrt(1 - a^2)
inline Unary asin_rule(double a) noexcept { return {std::asin(a), 1.0 / std::sqrt(1.0 - a * a)}; }
// d acos(a) = -da / sqrt(1 - a^2)
inline Unary acos_rule(double a) noexcept { return {std::acos(a), -1.0 / std::sqrt(1.0 - a * a)}; }
// d atan(a) = da / (1 + a^2)
inline Unary atan_rule(double a) noexcept { return {std::atan(a), 1.0 / (1.0 + a * a)}; }
// d atan2(a, b) = (b da - a db) / (a^2 + b^2)
inline Binary atan2_rule(double a, double b) noexcept {
  const double inv = 1.0 / (a * a + b * b);
  return {std::atan2(a, b), b * inv, -a * inv};
}

// ---- hyperbolic ------------------------------------------------------------------------------

// d sinh(a) = cosh(a) da
inline Unary sinh_rule(double a) noexcept { return {std::sinh(a), std::cosh(a)}; }
// d cosh(a) = sinh(a) da
inline Unary cosh_rule(double a) noexcept { return {std::cosh(a), std::sinh(a)}; }
// d tanh(a) = (1 - tanh(a)^2) da
inline Unary tanh_rule(double a) noexcept {
  const double v = std::tanh(a);
  return {v, 1.0 - v * v};
}

// ---- error function --------------------------------------------------------------------------

// d erf(a) = (2 / sqrt(pi)) exp(-a^2) da
inline Unary erf_rule(double a) noexcept {
  return {std::erf(a), std::numbers::inv_sqrtpi * 2.0 * std::exp(-a * a)};
}
// d erfc(a) = -(2 / sqrt(pi)) exp(-a^2) da
inline Unary erfc_rule(double a) noexcept {
  return {std::erfc(a), -std::numbers::inv_sqrtpi * 2.0 * std::exp(-a * a)};
}

// ---- piecewise -------------------------------------------------------------------------------

// d|a| = sign(a) da, with sign(0) = 0 (the subgradient in the middle of [-1, 1]).
inline Unary abs_rule(double a) noexcept {
  return {std::fabs(a), a > 0.0 ? 1.0 : (a < 0.0 ? -1.0 : 0.0)};
}
// d min(a, b) = da where a <= b, else db (a tie takes the first argument). NaN if either is NaN.
inline Binary min_rule(double a, double b) noexcept {
  if (a <= b) return {a, 1.0, 0.0};
  if (b < a) return {b, 0.0, 1.0};
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  return {nan, nan, nan};
}
// d max(a, b) = da where a >= b, else db (a tie takes the first argument). NaN if either is NaN.
inline Binary max_rule(double a, double b) noexcept {
  if (a >= b) return {a, 1.0, 0.0};
  if (b > a) return {b, 0.0, 1.0};
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  return {nan, nan, nan};
}
// d hypot(a, b) = (a da + b db) / hypot(a, b)
inline Binary hypot_rule(double a, double b) noexcept {
  const double v = std::hypot(a, b);
  return {v, a / v, b / v};
}

}  // namespace ad

// A value with N partial derivatives. Use N = the number of parameters being differentiated.
template <int N>
struct Jet {
  using Vector = Eigen::Matrix<double, N, 1>;

  double a = 0.0;                  // the value
  Vector v = Vector::Zero();       // d value / d theta_j, j < N

  Jet() = default;
  // A constant: every derivative is 0. Implicit so that `2.0 * jet` and `jet + 1` read naturally.
  Jet(double value) : a(value) {}  // NOLINT(google-explicit-constructor)
  // Variable k of N: derivative 1 in slot k.
  Jet(double value, int k) : a(value) { v[k] = 1.0; }
  Jet(double value, const Vector& derivatives) : a(value), v(derivatives) {}

  Jet& operator+=(const Jet& o) { return *this = *this + o; }
  Jet& operator-=(const Jet& o) { return *this = *this - o; }
  Jet& operator*=(const Jet& o) { return *this = *this * o; }
  Jet& operator/=(const Jet& o) { return *this = *this / o; }
};

namespace jet_detail {
template <int N>
Jet<N> apply(const ad::Unary& r, const Jet<N>& x) {
  return Jet<N>(r.value, r.d * x.v);
}
template <int N>
Jet<N> apply(const ad::Binary& r, const Jet<N>& x, const Jet<N>& y) {
  return Jet<N>(r.value, r.da * x.v + r.db * y.v);
}
template <int N>
Jet<N> apply_a(const ad::Binary& r, const Jet<N>& x) {
  return Jet<N>(r.value, r.da * x.v);
}
template <int N>
Jet<N> apply_b(const ad::Binary& r, const Jet<N>& y) {
  return Jet<N>(r.value, r.db * y.v);
}
}  // namespace jet_detail

// ---- operators -------------------------------------------------------------------------------

template <int N> Jet<N> operator+(const Jet<N>& x) { return x; }
template <int N> Jet<N> operator-(const Jet<N>& x) { return jet_detail::apply(ad::neg_rule(x.a), x); }

template <int N> Jet<N> operator+(const Jet<N>& x, const Jet<N>& y) { return jet_detail::apply(ad::add_rule(x.a, y.a), x, y); }
template <int N> Jet<N> operator+(const Jet<N>& x, double s) { return jet_detail::apply_a(ad::add_rule(x.a, s), x); }
template <int N> Jet<N> operator+(double s, const Jet<N>& y) { return jet_detail::apply_b(ad::add_rule(s, y.a), y); }

template <int N> Jet<N> operator-(const Jet<N>& x, const Jet<N>& y) { return jet_detail::apply(ad::sub_rule(x.a, y.a), x, y); }
template <int N> Jet<N> operator-(const Jet<N>& x, double s) { return jet_detail::apply_a(ad::sub_rule(x.a, s), x); }
template <int N> Jet<N> operator-(double s, const Jet<N>& y) { return jet_detail::apply_b(ad::sub_rule(s, y.a), y); }

template <int N> Jet<N> operator*(const Jet<N>& x, const Jet<N>& y) { return jet_detail::apply(ad::mul_rule(x.a, y.a), x, y); }
template <int N> Jet<N> operator*(const Jet<N>& x, double s) { return jet_detail::apply_a(ad::mul_rule(x.a, s), x); }
template <int N> Jet<N> operator*(double s, const Jet<N>& y) { return jet_detail::apply_b(ad::mul_rule(s, y.a), y); }

template <int N> Jet<N> operator/(const Jet<N>& x, const Jet<N>& y) { return jet_detail::apply(ad::div_rule(x.a, y.a), x, y); }
template <int N> Jet<N> operator/(const Jet<N>& x, double s) { return jet_detail::apply_a(ad::div_rule(x.a, s), x); }
template <int N> Jet<N> operator/(double s, const Jet<N>& y) { return jet_detail::apply_b(ad::div_rule(s, y.a), y); }

// Comparisons look at the value only, so functors may branch (piecewise models).
template <int N> bool operator<(const Jet<N>& x, const Jet<N>& y) { return x.a < y.a; }
template <int N> bool operator>(const Jet<N>& x, const Jet<N>& y) { return x.a > y.a; }
template <int N> bool operator<=(const Jet<N>& x, const Jet<N>& y) { return x.a <= y.a; }
template <int N> bool operator>=(const Jet<N>& x, const Jet<N>& y) { return x.a >= y.a; }
template <int N> bool operator==(const Jet<N>& x, const Jet<N>& y) { return x.a == y.a; }
template <int N> bool operator<(const Jet<N>& x, double s) { return x.a < s; }
template <int N> bool operator>(const Jet<N>& x, double s) { return x.a > s; }
template <int N> bool operator<=(const Jet<N>& x, double s) { return x.a <= s; }
template <int N> bool operator>=(const Jet<N>& x, double s) { return x.a >= s; }
template <int N> bool operator<(double s, const Jet<N>& y) { return s < y.a; }
template <int N> bool operator>(double s, const Jet<N>& y) { return s > y.a; }
template <int N> bool operator<=(double s, const Jet<N>& y) { return s <= y.a; }
template <int N> bool operator>=(double s, const Jet<N>& y) { return s >= y.a; }

// ---- functions (found by argument-dependent lookup, so `exp(t)` works for T = double or Jet) ---

#define PARAFIT_JET_UNARY(fn)                                    \
  template <int N>                                               \
  Jet<N> fn(const Jet<N>& x) {                                   \
    return jet_detail::apply(ad::fn##_rule(x.a), x);             \
  }
PARAFIT_JET_UNARY(exp)
PARAFIT_JET_UNARY(log)
PARAFIT_JET_UNARY(log10)
PARAFIT_JET_UNARY(log2)
PARAFIT_JET_UNARY(sqrt)
PARAFIT_JET_UNARY(cbrt)
PARAFIT_JET_UNARY(abs)
PARAFIT_JET_UNARY(sin)
PARAFIT_JET_UNARY(cos)
PARAFIT_JET_UNARY(tan)
PARAFIT_JET_UNARY(asin)
PARAFIT_JET_UNARY(acos)
PARAFIT_JET_UNARY(atan)
PARAFIT_JET_UNARY(sinh)
PARAFIT_JET_UNARY(cosh)
PARAFIT_JET_UNARY(tanh)
PARAFIT_JET_UNARY(erf)
PARAFIT_JET_UNARY(erfc)
#undef PARAFIT_JET_UNARY

template <int N> Jet<N> fabs(const Jet<N>& x) { return abs(x); }

#define PARAFIT_JET_BINARY(fn)                                                                    \
  template <int N>                                                                                \
  Jet<N> fn(const Jet<N>& x, const Jet<N>& y) {                                                   \
    return jet_detail::apply(ad::fn##_rule(x.a, y.a), x, y);                                      \
  }                                                                                               \
  template <int N>                                                                                \
  Jet<N> fn(const Jet<N>& x, double s) {                                                          \
    return jet_detail::apply_a(ad::fn##_rule(x.a, s), x);                                         \
  }                                                                                               \
  template <int N>                                                                                \
  Jet<N> fn(double s, const Jet<N>& y) {                                                          \
    return jet_detail::apply_b(ad::fn##_rule(s, y.a), y);                                         \
  }
PARAFIT_JET_BINARY(atan2)
PARAFIT_JET_BINARY(hypot)
PARAFIT_JET_BINARY(min)
PARAFIT_JET_BINARY(max)
#undef PARAFIT_JET_BINARY

template <int N> Jet<N> fmin(const Jet<N>& x, const Jet<N>& y) { return min(x, y); }
template <int N> Jet<N> fmax(const Jet<N>& x, const Jet<N>& y) { return max(x, y); }

// Powers pick the rule by which side carries derivatives, so that a constant exponent never
// evaluates log(base) (NaN for a negative base) and a constant base never evaluates base^(b-1).
template <int N> Jet<N> pow(const Jet<N>& x, const Jet<N>& y) { return jet_detail::apply(ad::pow_rule(x.a, y.a), x, y); }
template <int N> Jet<N> pow(const Jet<N>& x, double s) { return jet_detail::apply_a(ad::pow_base_rule(x.a, s), x); }
template <int N> Jet<N> pow(double s, const Jet<N>& y) { return jet_detail::apply_b(ad::pow_exponent_rule(s, y.a), y); }

template <int N> bool isfinite(const Jet<N>& x) { return std::isfinite(x.a) && x.v.allFinite(); }
template <int N> bool isnan(const Jet<N>& x) { return std::isnan(x.a) || x.v.hasNaN(); }

}  // namespace parafit
