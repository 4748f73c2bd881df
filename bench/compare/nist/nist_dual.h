// nist_dual.h — a minimal forward-mode dual number for nist_gsl's exact Jacobian: value plus the N
// partial derivatives, with the operations the NIST models use. Bench-only.
#pragma once

#include <array>
#include <cmath>

namespace nistbench {

template <int N>
struct Dual {
  double v = 0;
  std::array<double, N> d{};

  Dual() = default;
  Dual(double value) : v(value) {}  // NOLINT: constants promote implicitly, as for Jet
  static Dual variable(double value, int k) {
    Dual r(value);
    r.d[k] = 1;
    return r;
  }
};

// r = (a.v op b.v) with derivative da*ca + db*cb
template <int N>
Dual<N> chain(double v, const Dual<N>& a, double ca) {
  Dual<N> r(v);
  for (int k = 0; k < N; ++k) r.d[k] = ca * a.d[k];
  return r;
}
template <int N>
Dual<N> chain(double v, const Dual<N>& a, double ca, const Dual<N>& b, double cb) {
  Dual<N> r(v);
  for (int k = 0; k < N; ++k) r.d[k] = ca * a.d[k] + cb * b.d[k];
  return r;
}

template <int N> Dual<N> operator-(const Dual<N>& a) { return chain(-a.v, a, -1.0); }
template <int N> Dual<N> operator+(const Dual<N>& a, const Dual<N>& b) { return chain(a.v + b.v, a, 1.0, b, 1.0); }
template <int N> Dual<N> operator-(const Dual<N>& a, const Dual<N>& b) { return chain(a.v - b.v, a, 1.0, b, -1.0); }
template <int N> Dual<N> operator*(const Dual<N>& a, const Dual<N>& b) { return chain(a.v * b.v, a, b.v, b, a.v); }
template <int N> Dual<N> operator/(const Dual<N>& a, const Dual<N>& b) {
  const double q = a.v / b.v;
  return chain(q, a, 1.0 / b.v, b, -q / b.v);
}
template <int N> Dual<N> operator+(const Dual<N>& a, double c) { return chain(a.v + c, a, 1.0); }
template <int N> Dual<N> operator+(double c, const Dual<N>& a) { return chain(c + a.v, a, 1.0); }
template <int N> Dual<N> operator-(const Dual<N>& a, double c) { return chain(a.v - c, a, 1.0); }
template <int N> Dual<N> operator-(double c, const Dual<N>& a) { return chain(c - a.v, a, -1.0); }
template <int N> Dual<N> operator*(const Dual<N>& a, double c) { return chain(a.v * c, a, c); }
template <int N> Dual<N> operator*(double c, const Dual<N>& a) { return chain(c * a.v, a, c); }
template <int N> Dual<N> operator/(const Dual<N>& a, double c) { return chain(a.v / c, a, 1.0 / c); }
template <int N> Dual<N> operator/(double c, const Dual<N>& a) {
  const double q = c / a.v;
  return chain(q, a, -q / a.v);
}

template <int N> Dual<N> exp(const Dual<N>& a) {
  const double e = std::exp(a.v);
  return chain(e, a, e);
}
template <int N> Dual<N> log(const Dual<N>& a) { return chain(std::log(a.v), a, 1.0 / a.v); }
template <int N> Dual<N> sqrt(const Dual<N>& a) {
  const double s = std::sqrt(a.v);
  return chain(s, a, 0.5 / s);
}
template <int N> Dual<N> sin(const Dual<N>& a) { return chain(std::sin(a.v), a, std::cos(a.v)); }
template <int N> Dual<N> cos(const Dual<N>& a) { return chain(std::cos(a.v), a, -std::sin(a.v)); }
template <int N> Dual<N> atan(const Dual<N>& a) { return chain(std::atan(a.v), a, 1.0 / (1.0 + a.v * a.v)); }
// a**c
template <int N> Dual<N> pow(const Dual<N>& a, double c) {
  return chain(std::pow(a.v, c), a, c * std::pow(a.v, c - 1.0));
}
// c**a (c > 0)
template <int N> Dual<N> pow(double c, const Dual<N>& a) {
  const double p = std::pow(c, a.v);
  return chain(p, a, p * std::log(c));
}
// a**b (a > 0)
template <int N> Dual<N> pow(const Dual<N>& a, const Dual<N>& b) {
  const double p = std::pow(a.v, b.v);
  return chain(p, a, b.v * std::pow(a.v, b.v - 1.0), b, p * std::log(a.v));
}

}  // namespace nistbench
