// W1 with GSL: gsl_multifit_nlinear, trust region with Levenberg-Marquardt steps, More scaling,
// Cholesky solver, analytic Jacobian (fdf), stopped by gsl_multifit_nlinear_driver with
// xtol = gtol = 1e-8, ftol = 0. Single-threaded (GSL has no threading of its own).
// Times the whole fit: workspace allocation, init (first f and J) and the driver.
//
//   w1_gsl [rows=10000000] [reps=3]
#include <gsl/gsl_blas.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include <cstdio>
#include <string>

#include "w1_common.h"

namespace {

// f_i = a exp(-b x_i) + c - y_i
int residual(const gsl_vector* p, void* data, gsl_vector* f) {
  const auto& d = *static_cast<const w1::Data*>(data);
  const double a = gsl_vector_get(p, 0), b = gsl_vector_get(p, 1), c = gsl_vector_get(p, 2);
  for (std::size_t i = 0; i < d.x.size(); ++i) gsl_vector_set(f, i, a * std::exp(-b * d.x[i]) + c - d.y[i]);
  return GSL_SUCCESS;
}

int jacobian(const gsl_vector* p, void* data, gsl_matrix* J) {
  const auto& d = *static_cast<const w1::Data*>(data);
  const double a = gsl_vector_get(p, 0), b = gsl_vector_get(p, 1);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const double e = std::exp(-b * d.x[i]);
    gsl_matrix_set(J, i, 0, e);
    gsl_matrix_set(J, i, 1, -a * d.x[i] * e);
    gsl_matrix_set(J, i, 2, 1.0);
  }
  return GSL_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = w1::arg_count(argc, argv, 1, 10'000'000);
  const std::size_t reps = std::max<std::size_t>(1, w1::arg_count(argc, argv, 2, 3));
  w1::Data data = w1::generate(rows);

  w1::Times times;
  double best[3] = {};
  std::size_t iterations = 0, nevalf = 0, nevaldf = 0;
  int status = 0, info = 0;
  for (std::size_t rep = 0; rep < reps; ++rep) {
    const auto t0 = w1::Clock::now();
    gsl_multifit_nlinear_fdf fdf{};
    fdf.f = residual;
    fdf.df = jacobian;
    fdf.fvv = nullptr;
    fdf.n = rows;
    fdf.p = 3;
    fdf.params = &data;
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    params.trs = gsl_multifit_nlinear_trs_lm;
    params.scale = gsl_multifit_nlinear_scale_more;
    params.solver = gsl_multifit_nlinear_solver_cholesky;
    gsl_multifit_nlinear_workspace* w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, rows, 3);
    double start[3] = {w1::kStart[0], w1::kStart[1], w1::kStart[2]};
    gsl_vector_view x0 = gsl_vector_view_array(start, 3);
    gsl_multifit_nlinear_init(&x0.vector, &fdf, w);
    status = gsl_multifit_nlinear_driver(200, 1e-8, 1e-8, 0.0, nullptr, nullptr, &info, w);
    const double s = w1::seconds_since(t0);
    times.add(s);
    const gsl_vector* p = gsl_multifit_nlinear_position(w);
    for (int k = 0; k < 3; ++k) best[k] = gsl_vector_get(p, k);
    iterations = gsl_multifit_nlinear_niter(w);
    nevalf = fdf.nevalf;
    nevaldf = fdf.nevaldf;
    gsl_multifit_nlinear_free(w);
  }
  w1::report("gsl_lm_cholesky", 1, rows, times, long(iterations), best,
             "f_evals=" + std::to_string(nevalf) + " jac_evals=" + std::to_string(nevaldf) +
                 " status=" + (status == GSL_SUCCESS ? std::string("converged") : std::to_string(status)) +
                 " info=" + std::to_string(info));
  return status == GSL_SUCCESS ? 0 : 1;
}
