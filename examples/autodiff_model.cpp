// A model written as a C++ functor, differentiated exactly by parafit::AutoDiffModel, fitted with
// the Levenberg–Marquardt solver. The model is the Hill equation of enzyme kinetics,
//   v = vmax * s^n / (k^n + s^n),
// (Michaelis–Menten when n = 1). The program makes noisy data from known parameters, fits them,
// prints the estimates, and exits 1 if they are not close to the truth (it doubles as a test).
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "parafit/autodiff.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/problem.h"

namespace {

struct Hill {
  // T is double for values and parafit::Jet<3> for values with derivatives. `using std::pow` makes
  // the double case work; for Jet, argument-dependent lookup finds parafit::pow.
  template <typename T>
  T operator()(const T* theta, const double* x) const {
    using std::pow;
    const T& vmax = theta[0];
    const T& k = theta[1];
    const T& n = theta[2];
    const T sn = pow(x[0], n);
    return vmax * sn / (pow(k, n) + sn);
  }
};

}  // namespace

int main() {
  const parafit::AutoDiffModel<Hill, 3> model(Hill{}, {"vmax", "k", "n"}, "hill", "vmax*s^n/(k^n + s^n)");

  // Substrate concentrations on a log scale and rates with 1% noise.
  const double truth[] = {12.0, 3.5, 1.8};
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0.0, 0.12);
  std::vector<double> s, v;
  for (int i = 0; i < 400; ++i) {
    const double si = 0.1 * std::pow(10.0, 2.5 * i / 399.0);
    s.push_back(si);
    v.push_back(Hill{}(truth, &si) + noise(rng));
  }

  parafit::Problem problem;
  problem.model = &model;
  problem.inputs = {s};
  problem.y = v;
  parafit::LevenbergMarquardt solver(problem);
  const parafit::LevenbergMarquardtSummary summary = solver.Minimize(std::vector<double>{5.0, 1.0, 1.0});

  std::printf("%s\n", summary.BriefReport().c_str());
  bool close = summary.IsSolutionUsable();
  for (int j = 0; j < 3; ++j) {
    const double estimate = summary.parameters[std::size_t(j)];
    std::printf("%-5s truth %8.4f  estimate %8.4f\n", model.parameter_names()[std::size_t(j)].c_str(), truth[j],
                estimate);
    close = close && std::abs(estimate - truth[j]) < 0.05 * truth[j];
  }
  if (!close) {
    std::printf("estimates are not within 5%% of the truth\n");
    return 1;
  }
  return 0;
}
