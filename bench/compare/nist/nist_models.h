// nist_models.h — the 27 NIST StRD nonlinear-regression models as templated functions, written
// from the model line of each .dat header ([ ] -> ( ), x**p -> pow(x, p), arctan -> atan).
// Each model is a struct with `name`, `kParams` and
//   template <class T> static T f(const T* b, double x, double x2)
// (b[0] is NIST's b1; x2 is Nelson's second predictor, 0 elsewhere). T is double, ceres::Jet
// (nist_ceres) or nistbench::Dual (nist_gsl); the math functions are found by ADL for Jet and Dual
// and through the using-declarations below for double.
#pragma once

#include <cmath>

namespace nistbench::models {

using std::atan;
using std::cos;
using std::exp;
using std::log;
using std::pow;
using std::sin;
using std::sqrt;

// Roszman1's value of pi, as its .dat file gives it (ENSO uses pi without giving a value).
inline constexpr double pi = 3.141592653589793238462643383279;

#define NIST_MODEL(NAME, NPARAMS) \
  struct NAME {                   \
    static constexpr const char* name = #NAME; \
    static constexpr int kParams = NPARAMS;    \
    template <class T>            \
    static T f([[maybe_unused]] const T* b, [[maybe_unused]] double x, [[maybe_unused]] double x2)

// y = b1*(1-exp[-b2*x])
NIST_MODEL(Misra1a, 2) { return b[0] * (1.0 - exp(-b[1] * x)); } };
// y = exp(-b1*x)/(b2+b3*x)
NIST_MODEL(Chwirut2, 3) { return exp(-b[0] * x) / (b[1] + b[2] * x); } };
// y = exp[-b1*x]/(b2+b3*x)
NIST_MODEL(Chwirut1, 3) { return exp(-b[0] * x) / (b[1] + b[2] * x); } };
// y = b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)
#define NIST_LANCZOS return b[0] * exp(-b[1] * x) + b[2] * exp(-b[3] * x) + b[4] * exp(-b[5] * x)
NIST_MODEL(Lanczos3, 6) { NIST_LANCZOS; } };
// y = b1*exp( -b2*x ) + b3*exp( -(x-b4)**2 / b5**2 ) + b6*exp( -(x-b7)**2 / b8**2 )
#define NIST_GAUSS                                                                        \
  return b[0] * exp(-b[1] * x) + b[2] * exp(-pow(x - b[3], 2.0) / pow(b[4], 2.0)) + \
         b[5] * exp(-pow(x - b[6], 2.0) / pow(b[7], 2.0))
NIST_MODEL(Gauss1, 8) { NIST_GAUSS; } };
NIST_MODEL(Gauss2, 8) { NIST_GAUSS; } };
// y = b1*x**b2
NIST_MODEL(DanWood, 2) { return b[0] * pow(x, b[1]); } };
// y = b1 * (1-(1+b2*x/2)**(-2))
NIST_MODEL(Misra1b, 2) { return b[0] * (1.0 - pow(1.0 + b[1] * x / 2.0, -2.0)); } };
// y = (b1 + b2*x + b3*x**2) / (1 + b4*x + b5*x**2)
NIST_MODEL(Kirby2, 5) {
  return (b[0] + b[1] * x + b[2] * pow(x, 2.0)) / (1.0 + b[3] * x + b[4] * pow(x, 2.0));
} };
// y = (b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3)
#define NIST_CUBIC_CUBIC                                                  \
  return (b[0] + b[1] * x + b[2] * pow(x, 2.0) + b[3] * pow(x, 3.0)) / \
         (1.0 + b[4] * x + b[5] * pow(x, 2.0) + b[6] * pow(x, 3.0))
NIST_MODEL(Hahn1, 7) { NIST_CUBIC_CUBIC; } };
// log[y] = b1 - b2*x1 * exp[-b3*x2]   (the response is log(y); x = x1)
NIST_MODEL(Nelson, 3) { return b[0] - b[1] * x * exp(-b[2] * x2); } };
// y = b1 + b2*exp[-x*b4] + b3*exp[-x*b5]
NIST_MODEL(MGH17, 5) { return b[0] + b[1] * exp(-x * b[3]) + b[2] * exp(-x * b[4]); } };
NIST_MODEL(Lanczos1, 6) { NIST_LANCZOS; } };
NIST_MODEL(Lanczos2, 6) { NIST_LANCZOS; } };
NIST_MODEL(Gauss3, 8) { NIST_GAUSS; } };
// y = b1 * (1-(1+2*b2*x)**(-.5))
NIST_MODEL(Misra1c, 2) { return b[0] * (1.0 - pow(1.0 + 2.0 * b[1] * x, -0.5)); } };
// y = b1*b2*x*((1+b2*x)**(-1))
NIST_MODEL(Misra1d, 2) { return b[0] * b[1] * x * pow(1.0 + b[1] * x, -1.0); } };
// y = b1 - b2*x - arctan[b3/(x-b4)]/pi   (plain arctan, as NIST writes it; not atan2)
NIST_MODEL(Roszman1, 4) { return b[0] - b[1] * x - atan(b[2] / (x - b[3])) / pi; } };
// y = b1 + b2*cos( 2*pi*x/12 ) + b3*sin( 2*pi*x/12 )
//        + b5*cos( 2*pi*x/b4 ) + b6*sin( 2*pi*x/b4 )
//        + b8*cos( 2*pi*x/b7 ) + b9*sin( 2*pi*x/b7 )
NIST_MODEL(ENSO, 9) {
  return b[0] + b[1] * cos(2.0 * pi * x / 12.0) + b[2] * sin(2.0 * pi * x / 12.0) +
         b[4] * cos(2.0 * pi * x / b[3]) + b[5] * sin(2.0 * pi * x / b[3]) +
         b[7] * cos(2.0 * pi * x / b[6]) + b[8] * sin(2.0 * pi * x / b[6]);
} };
// y = b1*(x**2+x*b2) / (x**2+x*b3+b4)
NIST_MODEL(MGH09, 4) { return b[0] * (pow(x, 2.0) + x * b[1]) / (pow(x, 2.0) + x * b[2] + b[3]); } };
NIST_MODEL(Thurber, 7) { NIST_CUBIC_CUBIC; } };
// y = b1*(1-exp[-b2*x])
NIST_MODEL(BoxBOD, 2) { return b[0] * (1.0 - exp(-b[1] * x)); } };
// y = b1 / (1+exp[b2-b3*x])
NIST_MODEL(Rat42, 3) { return b[0] / (1.0 + exp(b[1] - b[2] * x)); } };
// y = b1 * exp[b2/(x+b3)]
NIST_MODEL(MGH10, 3) { return b[0] * exp(b[1] / (x + b[2])); } };
// y = (b1/b2) * exp[-0.5*((x-b3)/b2)**2]
NIST_MODEL(Eckerle4, 3) { return (b[0] / b[1]) * exp(-0.5 * pow((x - b[2]) / b[1], 2.0)); } };
// y = b1 / ((1+exp[b2-b3*x])**(1/b4))
NIST_MODEL(Rat43, 4) { return b[0] / pow(1.0 + exp(b[1] - b[2] * x), 1.0 / b[3]); } };
// y = b1 * (b2+x)**(-1/b3)
NIST_MODEL(Bennett5, 3) { return b[0] * pow(b[1] + x, -1.0 / b[2]); } };

#undef NIST_MODEL
#undef NIST_LANCZOS
#undef NIST_GAUSS
#undef NIST_CUBIC_CUBIC

}  // namespace nistbench::models

namespace nistbench {

// Calls fn.template operator()<M>() for each of the 27 models, in the order of the data README
// (by difficulty: Lower, Average, Higher).
template <class Fn>
void for_each_model(Fn&& fn) {
  using namespace models;
  fn.template operator()<Misra1a>();
  fn.template operator()<Chwirut2>();
  fn.template operator()<Chwirut1>();
  fn.template operator()<Lanczos3>();
  fn.template operator()<Gauss1>();
  fn.template operator()<Gauss2>();
  fn.template operator()<DanWood>();
  fn.template operator()<Misra1b>();
  fn.template operator()<Kirby2>();
  fn.template operator()<Hahn1>();
  fn.template operator()<Nelson>();
  fn.template operator()<MGH17>();
  fn.template operator()<Lanczos1>();
  fn.template operator()<Lanczos2>();
  fn.template operator()<Gauss3>();
  fn.template operator()<Misra1c>();
  fn.template operator()<Misra1d>();
  fn.template operator()<Roszman1>();
  fn.template operator()<ENSO>();
  fn.template operator()<MGH09>();
  fn.template operator()<Thurber>();
  fn.template operator()<BoxBOD>();
  fn.template operator()<Rat42>();
  fn.template operator()<MGH10>();
  fn.template operator()<Eckerle4>();
  fn.template operator()<Rat43>();
  fn.template operator()<Bennett5>();
}

}  // namespace nistbench
