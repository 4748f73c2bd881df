#include "parallel/failure.h"

#include <fmt/format.h>

namespace parafit {

Failure inherited(const Failure& parent, int rank_in_child) {
  if (parent.levels == 0 && rank_in_child >= 0) return Failure{rank_in_child, 0, parent.reason, parent.timed_out};
  return Failure{parent.rank, parent.levels + 1, parent.reason, parent.timed_out};
}

RankFailed rank_failed(const Failure& failure) {
  if (failure.levels == 0) return RankFailed(failure.rank, failure.reason, failure.timed_out);
  const std::string where = failure.levels == 1
                                ? std::string("the parent communicator")
                                : fmt::format("the communicator {} splits up", failure.levels);
  return RankFailed(-1, fmt::format("rank {} of {} failed: {}", failure.rank, where, failure.reason),
                    failure.timed_out);
}

}  // namespace parafit
