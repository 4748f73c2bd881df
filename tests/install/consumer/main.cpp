// A user program built against an installed parafit: fits y = 1 + 2x exactly.
#include <parafit/fit.h>

#include <cstdio>

int main() {
  parafit::Dataset data;
  data.add_column("x", {0, 1, 2, 3, 4});
  data.add_column("y", {1, 3, 5, 7, 9});
  parafit::FitSpec spec;
  spec.model = "poly:1";
  const parafit::FitResult r = parafit::fit(data, spec);
  std::printf("b0 = %.6f, b1 = %.6f\n", r.summary.parameters[0], r.summary.parameters[1]);
  return r.summary.IsSolutionUsable() ? 0 : 1;
}
