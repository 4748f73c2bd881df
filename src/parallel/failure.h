// The failure record the ThreadGroup and MPI backends keep per communicator, and how a failure
// passes from a communicator to the ones split from it.
#pragma once

#include <string>

#include "parafit/communicator.h"

namespace parafit {

// The first failure a communicator learned of. levels == 0: the failing rank is rank `rank` of this
// communicator. levels == k > 0: it failed in the communicator k splits up (this one's parent for
// k == 1), where it is rank `rank`, and it is not a member of this one.
struct Failure {
  int rank = 0;
  int levels = 0;
  std::string reason;
  bool timed_out = false;  // the failing rank's wait ran out of time (RankFailed::after_timeout)
};

// `parent`'s failure as seen by a communicator split from it. rank_in_child is the failing rank's
// number in the child, or -1 when it is not a member (pass -1 whenever parent.levels > 0).
Failure inherited(const Failure& parent, int rank_in_child);

// What every call of a failed communicator throws: RankFailed(rank, reason) for a member of it;
// for a rank outside it, RankFailed(-1, "rank 3 of the parent communicator failed: reason").
RankFailed rank_failed(const Failure& failure);

}  // namespace parafit
