// A rank that fails inside each call: the last rank calls abort("injected failure in X") instead
// of X, and every other rank — those already waiting in X and one that enters X later — throws
// RankFailed naming that rank and that reason within seconds. The failing rank's own next call
// throws it too. A failure of a communicator fails those split from it, not the one it was split
// from.
#include <chrono>
#include <memory>
#include <thread>

#include "conformance.h"

namespace parafit::conformance {
namespace {

using std::chrono::milliseconds;

std::string reason_for(const std::string& call) { return "injected failure in " + call; }

// Rank 0 enters X after the failure; the others are waiting in it when it happens.
void enter_late_if_first(const Communicator& comm) {
  if (comm.rank() == 0) std::this_thread::sleep_for(milliseconds(80));
}

void fail_in(Communicator& comm, const std::string& call, const std::function<void(Communicator&)>& x) {
  const int last = comm.size() - 1;
  const std::string reason = reason_for(call);
  if (comm.rank() == last) {
    std::this_thread::sleep_for(milliseconds(20));
    comm.abort(reason);
    require_rank_failed(comm, last, reason, [&] { comm.barrier(); }, "the failed rank's own next call");
    return;
  }
  enter_late_if_first(comm);
  require_rank_failed(comm, last, reason, [&] { x(comm); }, call + " while the last rank fails");
  require_rank_failed(comm, last, reason, [&] { comm.barrier(); }, "the next call after " + call);
}

void add_failure_in(std::vector<ConformanceCheck>& checks, const std::string& call,
                    const std::function<void(Communicator&)>& x) {
  checks.push_back({"failure_in_" + call, 2, [call, x](Communicator& comm) { fail_in(comm, call, x); }});
}

// The last rank aborts the parent while the others wait in the child and then in the grandchild.
void check_parent_failure(Communicator& comm) {
  const int last = comm.size() - 1;
  const std::string reason = "injected failure of the parent";
  std::unique_ptr<Communicator> child = comm.split(0, comm.rank());
  std::unique_ptr<Communicator> grandchild = child->split(0, child->rank());
  if (comm.rank() == last) {
    std::this_thread::sleep_for(milliseconds(20));
    comm.abort(reason);
    require_rank_failed(comm, last, reason, [&] { grandchild->barrier(); }, "the failed rank's grandchild");
    return;
  }
  enter_late_if_first(comm);
  std::vector<double> v{1.0};
  require_rank_failed(comm, last, reason, [&] { child->allreduce(v); }, "allreduce in the child");
  require_rank_failed(comm, last, reason, [&] { grandchild->barrier(); }, "barrier in the grandchild");
  std::vector<std::byte> in(4);
  require_rank_failed(comm, last, reason, [&] { grandchild->irecv(in, last, 0).wait(); }, "irecv in the grandchild");
  require_rank_failed(comm, last, reason, [&] { comm.barrier(); }, "barrier in the parent");
}

// The last rank, which is in no subgroup, aborts the parent while the others run collectives in
// theirs: each of them throws RankFailed(-1, "rank L of the parent communicator failed: ...") soon,
// none waits forever (a subgroup's collective may still complete once or twice before its ranks
// hear of the failure).
void check_parent_failure_by_nonmember(Communicator& comm) {
  const int last = comm.size() - 1;
  const std::string reason = "injected failure of the parent by a rank outside the subgroup";
  std::unique_ptr<Communicator> child = comm.split(comm.rank() == last ? -1 : 0, comm.rank());
  if (comm.rank() == last) {
    std::this_thread::sleep_for(milliseconds(20));
    comm.abort(reason);
    return;
  }
  const std::string expected = "rank " + std::to_string(last) + " of the parent communicator failed: " + reason;
  require_rank_failed(comm, -1, expected,
                      [&] {
                        for (;;) child->barrier();
                      },
                      "barriers in a subgroup without the failing rank");
}

// The last rank aborts a child; the parent goes on.
void check_child_failure(Communicator& comm) {
  const int last = comm.size() - 1;
  const std::string reason = "injected failure of the child";
  {
    std::unique_ptr<Communicator> child = comm.split(0, comm.rank());
    if (comm.rank() == last) {
      child->abort(reason);
    } else {
      require_rank_failed(comm, last, reason, [&] { child->barrier(); }, "barrier in the failed child");
    }
  }
  std::vector<std::int64_t> one{1};
  comm.allreduce(one);
  require(one[0] == comm.size(), comm, "allreduce in the parent after its child failed");
  std::unique_ptr<Communicator> again = comm.split(0, comm.rank());
  again->barrier();
}

// On one rank (a LocalCommunicator, or a rank alone): abort fails this rank's own calls.
void check_own_calls_fail(Communicator& comm) {
  const int last = comm.size() - 1;
  const std::string reason = "injected failure, then more calls";
  std::unique_ptr<Communicator> child = comm.split(0, 0);
  if (comm.rank() != last) {
    require_rank_failed(comm, last, reason, [&] { comm.barrier(); }, "barrier while the last rank fails");
    return;
  }
  comm.abort(reason);
  comm.abort("a second failure is not kept");
  std::vector<double> v{1.0};
  std::vector<std::byte> bytes(4);
  require_rank_failed(comm, last, reason, [&] { comm.allreduce(v); }, "allreduce");
  require_rank_failed(comm, last, reason, [&] { comm.iallreduce(std::span(v)).wait(); }, "iallreduce");
  require_rank_failed(comm, last, reason, [&] { comm.broadcast(v, 0); }, "broadcast");
  require_rank_failed(comm, last, reason, [&] { comm.isend(bytes, last, 0).wait(); }, "isend");
  require_rank_failed(comm, last, reason, [&] { comm.irecv(bytes, last, 0).wait(); }, "irecv");
  require_rank_failed(comm, last, reason, [&] { comm.split(0, 0); }, "split");
  require_rank_failed(comm, child->rank(), reason, [&] { child->barrier(); }, "barrier in a child");
}

}  // namespace

void add_failure_checks(std::vector<ConformanceCheck>& checks) {
  add_failure_in(checks, "allreduce", [](Communicator& c) {
    std::vector<double> v(7, 1.0);
    c.allreduce(v, ReduceOp::kMax);
  });
  add_failure_in(checks, "iallreduce", [](Communicator& c) {
    std::vector<std::int64_t> v(7, 1);
    Work w = c.iallreduce(std::span(v));
    w.wait();
  });
  add_failure_in(checks, "allgather", [](Communicator& c) {
    const std::vector<float> mine(3, 1.0f);
    std::vector<float> all(3 * std::size_t(c.size()));
    c.allgather<float>(mine, std::span(all));
  });
  add_failure_in(checks, "allgatherv", [](Communicator& c) {
    const std::vector<std::byte> mine(1);
    c.allgatherv(mine);
  });
  add_failure_in(checks, "reduce_scatter", [](Communicator& c) {
    const std::vector<std::size_t> counts(std::size_t(c.size()), 2);
    const std::vector<double> in(2 * std::size_t(c.size()), 1.0);
    std::vector<double> out(2);
    c.reduce_scatter<double>(in, std::span(out), counts);
  });
  add_failure_in(checks, "broadcast", [](Communicator& c) {
    std::vector<double> v(5, 1.0);
    c.broadcast(v, c.size() - 1);
  });
  add_failure_in(checks, "barrier", [](Communicator& c) { c.barrier(); });
  add_failure_in(checks, "irecv", [](Communicator& c) {
    std::vector<std::byte> in(16);
    c.irecv(in, c.size() - 1, 1).wait();
  });
  add_failure_in(checks, "isend_irecv", [](Communicator& c) {
    const std::vector<std::byte> out(16, std::byte{7});
    std::vector<std::byte> in(16);
    Work send = c.isend(out, c.size() - 1, 2);
    Work receive = c.irecv(in, c.size() - 1, 2);
    send.wait();
    receive.wait();
  });
  add_failure_in(checks, "split", [](Communicator& c) { c.split(0, c.rank()); });
  checks.push_back({"failure_of_parent_fails_subgroups", 2, check_parent_failure});
  checks.push_back({"failure_of_parent_by_a_nonmember", 2, check_parent_failure_by_nonmember});
  checks.push_back({"failure_of_subgroup_spares_parent", 2, check_child_failure});
  checks.push_back({"failure_fails_own_calls", 1, check_own_calls_fail});
}

}  // namespace parafit::conformance
