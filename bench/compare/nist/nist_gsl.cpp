// nist_gsl — fits the 27 NIST StRD nonlinear-regression problems from both starts (54 fits)
// with GSL's gsl_multifit_nlinear and prints the LRE table (bench-only; see README.md here).
//
//   nist_gsl exact|fd [data_dir]
//
// Trust region with Levenberg-Marquardt steps (gsl_multifit_nlinear_trs_lm), More scaling
// (gsl_multifit_nlinear_scale_more), QR solver (the default), gsl_multifit_nlinear_driver with
// xtol = 1e-15, gtol = 1e-15, ftol = 0, at most 10000 iterations. Jacobian:
//   exact: exact derivatives by forward-mode dual numbers (nist_dual.h) through the same model code
//   fd:    GSL's own finite differences (df = NULL; forward differences, the default fdtype)
// "Reported success" means the driver returned GSL_SUCCESS.
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "nist_common.h"
#include "nist_dual.h"
#include "nist_models.h"

namespace {

using namespace nistbench;

template <class M>
int residuals(const gsl_vector* bv, void* data, gsl_vector* r) {
  const Problem& p = *static_cast<const Problem*>(data);
  double b[M::kParams];
  for (int j = 0; j < M::kParams; ++j) b[j] = gsl_vector_get(bv, j);
  for (std::size_t i = 0; i < p.n(); ++i) gsl_vector_set(r, i, M::f(b, p.x1[i], p.x2[i]) - p.y[i]);
  return GSL_SUCCESS;
}

template <class M>
int jacobian(const gsl_vector* bv, void* data, gsl_matrix* J) {
  const Problem& p = *static_cast<const Problem*>(data);
  using D = Dual<M::kParams>;
  D b[M::kParams];
  for (int j = 0; j < M::kParams; ++j) b[j] = D::variable(gsl_vector_get(bv, j), j);
  for (std::size_t i = 0; i < p.n(); ++i) {
    const D f = M::f(b, p.x1[i], p.x2[i]);
    for (int j = 0; j < M::kParams; ++j) gsl_matrix_set(J, i, j, f.d[j]);
  }
  return GSL_SUCCESS;
}

// The dual-number Jacobian against central differences at `b` (a check of nist_dual.h). Step
// h = 1e-6*|b_j|; an entry passes when |exact - central| <= 1e-5 * (the column's largest |entry|)
// + 10 * eps * |f| / h (the rounding noise of the difference quotient).
template <class M>
bool check_jacobian(const Problem& p, const std::vector<double>& b, const char* where) {
  using D = Dual<M::kParams>;
  constexpr double eps = 2.220446049250313e-16;
  double worst = 0;  // max |exact - central| / allowed
  for (int j = 0; j < M::kParams; ++j) {
    const double h = 1e-6 * std::max(std::fabs(b[j]), 1e-12);
    std::vector<double> exact(p.n()), central(p.n()), noise(p.n());
    double size = 0;
    for (std::size_t i = 0; i < p.n(); ++i) {
      D bd[M::kParams];
      for (int k = 0; k < M::kParams; ++k) bd[k] = D::variable(b[k], k);
      const D f = M::f(bd, p.x1[i], p.x2[i]);
      std::vector<double> hi = b, lo = b;
      hi[j] += h;
      lo[j] -= h;
      exact[i] = f.d[j];
      central[i] = (M::f(hi.data(), p.x1[i], p.x2[i]) - M::f(lo.data(), p.x1[i], p.x2[i])) / (2 * h);
      noise[i] = 10 * eps * std::fabs(f.v) / h;
      size = std::max(size, std::fabs(exact[i]));
    }
    for (std::size_t i = 0; i < p.n(); ++i)
      worst = std::max(worst, std::fabs(exact[i] - central[i]) / (1e-5 * size + noise[i] + 1e-300));
  }
  const bool ok = worst <= 1;
  if (!ok) std::printf("check %-9s Jacobian at %s differs from central differences (%.1f x the allowance)  WRONG\n",
                       p.name.c_str(), where, worst);
  return ok;
}

template <class M>
Outcome fit(Problem& p, int start, bool exact) {
  Outcome o;
  o.problem = p.name;
  o.start = start;
  const std::size_t n = p.n(), np = M::kParams;

  gsl_multifit_nlinear_fdf fdf;
  fdf.f = residuals<M>;
  fdf.df = exact ? jacobian<M> : nullptr;  // NULL: GSL's finite differences
  fdf.fvv = nullptr;
  fdf.n = n;
  fdf.p = np;
  fdf.params = &p;

  gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
  params.trs = gsl_multifit_nlinear_trs_lm;
  params.scale = gsl_multifit_nlinear_scale_more;
  params.solver = gsl_multifit_nlinear_solver_qr;
  gsl_multifit_nlinear_workspace* w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, n, np);
  std::vector<double> start_values = p.start(start);
  gsl_vector_view b0 = gsl_vector_view_array(start_values.data(), np);
  int status = gsl_multifit_nlinear_init(&b0.vector, &fdf, w);
  int info = 0;
  if (status == GSL_SUCCESS)
    status = gsl_multifit_nlinear_driver(10000, 1e-15, 1e-15, 0.0, nullptr, nullptr, &info, w);
  const gsl_vector* b = gsl_multifit_nlinear_position(w);
  o.b.assign(b->data, b->data + np);
  const gsl_vector* r = gsl_multifit_nlinear_residual(w);
  double rss = 0;
  gsl_blas_ddot(r, r, &rss);
  o.success = status == GSL_SUCCESS;
  o.status = gsl_strerror(status);
  if (o.success) o.status += info == 1 ? " (small step, xtol)" : info == 2 ? " (small gradient, gtol)" : "";
  o.iterations = int(gsl_multifit_nlinear_niter(w));
  o.min_lre = min_lre(o.b, p.certified);
  o.rss_lre = lre(rss, p.certified_rss);
  gsl_multifit_nlinear_free(w);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "exact" && mode != "fd") {
    std::fprintf(stderr, "usage: nist_gsl exact|fd [data_dir]\n");
    return 2;
  }
  const bool exact = mode == "exact";
  const std::string dir = data_dir(argc, argv, 2);
  gsl_set_error_handler_off();  // report errors through return codes, never abort

  std::vector<Problem> problems;
  bool ok = true;
  for_each_model([&]<class M>() {
    problems.push_back(read_problem(dir, M::name));
    const Problem& p = problems.back();
    if (int(p.p()) != M::kParams) die(std::string(M::name) + ": parameter count differs");
    ok &= check_model(p, [](const double* b, double x, double x2) { return M::f(b, x, x2); });
    if (exact)
      ok &= check_jacobian<M>(p, p.certified, "certified") && check_jacobian<M>(p, p.start1, "start 1") &&
            check_jacobian<M>(p, p.start2, "start 2");
  });
  if (!ok) {
    std::fprintf(stderr, "nist_gsl: a model or Jacobian check failed; not fitting\n");
    return 1;
  }
  if (exact) std::printf("check: dual-number Jacobians agree with central differences at the certified values and both starts\n");

  std::printf("options: gsl_multifit_nlinear_trust, trs_lm, scale_more, solver_qr, xtol 1e-15, gtol 1e-15, "
              "ftol 0, max 10000 iterations, Jacobian %s (default h_df %.3g)\n",
              exact ? "exact (dual numbers)" : "GSL forward differences",
              gsl_multifit_nlinear_default_parameters().h_df);
  Report report(exact ? "GSL multifit_nlinear LM, More scaling, exact J (dual numbers)"
                      : "GSL multifit_nlinear LM, More scaling, finite-difference J (GSL)");
  std::size_t k = 0;
  for_each_model([&]<class M>() {
    Problem& p = problems[k++];
    for (int start : {1, 2}) report.add(fit<M>(p, start, exact));
  });
  report.finish();
  return 0;
}
