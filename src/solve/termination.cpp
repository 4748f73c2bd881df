#include "parafit/termination.h"

namespace parafit {

const char* to_string(Termination t) {
  switch (t) {
    case Termination::kGradientTolerance: return "gradient tolerance";
    case Termination::kFunctionTolerance: return "function tolerance";
    case Termination::kParameterTolerance: return "parameter tolerance";
    case Termination::kCompleted: return "completed";
    case Termination::kEarlyStopped: return "early stopped";
    case Termination::kMaxIterations: return "maximum iterations";
    case Termination::kNoProgress: return "no progress";
    case Termination::kFlatRegion: return "flat region";
    case Termination::kSingularGradient: return "singular gradient";
    case Termination::kNotAMinimum: return "not a minimum";
    case Termination::kLineSearchFailed: return "line search failed";
    case Termination::kNotConverged: return "not converged";
    case Termination::kDiverged: return "diverged";
    case Termination::kUserStopped: return "stopped by callback";
    case Termination::kNonFiniteStart: return "non-finite start";
  }
  return "unknown";
}

bool converged(Termination t) {
  return t == Termination::kGradientTolerance || t == Termination::kFunctionTolerance ||
         t == Termination::kParameterTolerance;
}

}  // namespace parafit
