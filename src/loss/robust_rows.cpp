#include "loss/robust_rows.h"

namespace parafit::detail {

void robust_row_weights(const Loss& loss, RowWeighting weighting, std::size_t n, const double* y, const double* f,
                        const double* w, double* out, std::array<double, 4>& lanes) {
  std::array<double, 4> block{};
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = w != nullptr ? w[i] : 1.0;
    const double r = y[i] - f[i];
    const double s = wi * r * r;
    const LossValue v = evaluate_loss(loss, s);
    block[i % 4] += v.rho;
    switch (weighting) {
      case RowWeighting::kIrls: out[i] = wi * v.d1; break;
      case RowWeighting::kCurvature: out[i] = wi * (v.d1 + 2.0 * s * v.d2); break;
      case RowWeighting::kScore: out[i] = wi * s * v.d1 * v.d1; break;
    }
  }
  for (std::size_t l = 0; l < 4; ++l) lanes[l] += block[l];
}

}  // namespace parafit::detail
