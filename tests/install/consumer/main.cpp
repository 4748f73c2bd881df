// A user program built against an installed parafit: fits y = 1 + 2x exactly, trains the same
// line by L-BFGS, and steps a Trainer by hand (every public header comes in through parafit.h).
#include <parafit/parafit.h>

#include <cmath>
#include <cstdio>

int main() {
  parafit::Dataset data;
  data.add_column("x", {0, 1, 2, 3, 4});
  data.add_column("y", {1, 3, 5, 7, 9});
  parafit::FitSpec spec;
  spec.model = "poly:1";
  const parafit::FitResult r = parafit::fit(data, spec);
  std::printf("b0 = %.6f, b1 = %.6f\n", r.summary.parameters[0], r.summary.parameters[1]);
  parafit::TrainSpec ts;
  ts.model.name = "poly:1";
  ts.optimizer.name = "lbfgs";
  const parafit::TrainResult t = parafit::train(data, ts);
  std::printf("trained: b0 = %.6f, b1 = %.6f\n", t.parameters[0], t.parameters[1]);
  const bool same = std::abs(t.parameters[0] - 1) < 1e-6 && std::abs(t.parameters[1] - 2) < 1e-6;
  parafit::Trainer trainer(data, ts);
  trainer.Init();
  while (trainer.running()) {
    while (trainer.Step()) {
    }
    if (trainer.running()) trainer.EndEpoch();
  }
  const bool stepped = trainer.Finish().parameters == t.parameters;
  std::printf("step by step: %s\n", stepped ? "the same weights" : "DIFFERENT weights");
  return r.summary.IsSolutionUsable() && t.summary.IsSolutionUsable() && same && stepped ? 0 : 1;
}
