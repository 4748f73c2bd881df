// The state the ranks of a ThreadGroup share, and the operations on it (thread_communicator.h
// describes the semantics). Everything here is guarded by the tree's one mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parallel/failure.h"
#include "parafit/communicator.h"

namespace parafit::thread_backend {

using Clock = std::chrono::steady_clock;

// What a ThreadGroup and every group split from it share: one lock and one condition variable
// (every change of state wakes every waiter: the groups are small, so this is simpler than
// per-rank condition variables and just as fast), and which ranks' functions have returned.
struct Tree {
  explicit Tree(int size) : returned(static_cast<std::size_t>(size), false) {}
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<bool> returned;  // by rank of the ThreadGroup
  bool ran = false;            // ThreadGroup::run has been called
};

enum class Kind { kAllreduce, kIallreduce, kAllgather, kAllgatherv, kReduceScatter, kBroadcast, kBarrier, kSplit };

// A collective call as one rank made it; the calls with the same sequence number must match.
struct Call {
  Kind kind = Kind::kBarrier;
  DataType type = DataType::kByte;
  ReduceOp op = ReduceOp::kSum;
  std::size_t count = 0;            // elements (per rank for allgather)
  int root = 0;                     // broadcast
  std::vector<std::size_t> counts;  // allgatherv, reduce_scatter
  bool operator==(const Call&) const = default;
};
// "allreduce(double x 3, sum)", "barrier()", ...
std::string describe(const Call& call);

struct Group;

// One collective, from the first rank's arrival until every rank has joined it. The last rank to
// join does the work for all (the others' buffers are still valid: they are waiting, or their
// iallreduce has not completed).
struct Collective {
  Collective(const Call& call, int first_rank, int size);
  Call call;
  int first_rank;
  int joined = 0;
  bool done = false;
  std::vector<bool> here;
  std::vector<const void*> in;
  std::vector<void*> out;
  std::vector<int> color, key;                 // split
  std::vector<std::shared_ptr<Group>> child;   // split: each rank's new group (null: negative color)
  std::vector<int> child_rank;
};

struct Message {
  int source;
  int tag;
  std::vector<std::byte> data;
};

struct Receive {
  int source;
  int tag;
  std::span<std::byte> buffer;
  bool done = false;
  std::string error;  // the message had the wrong size
};

struct Group {
  Group(std::shared_ptr<Tree> tree, std::vector<int> tree_rank, std::vector<int> parent_rank,
        std::chrono::milliseconds timeout);

  int size() const { return static_cast<int>(tree_rank.size()); }

  // Records the first failure, here and in every group split from this one, and wakes every waiter.
  void fail(const Failure& failure);
  void throw_if_failed() const;
  // `rank` found a problem (a mismatch, a timeout, a rank that is gone): fails the group and throws
  // Error("rank R: why") on this rank. The others' RankFailed says after_timeout() for a timeout.
  [[noreturn]] void fail_by(int rank, const std::string& why, bool timed_out = false);
  // Whether `rank` can never make another call: its function returned, or it destroyed its
  // communicator; and which of the two, for messages.
  bool gone(int rank) const;
  const char* gone_how(int rank) const;
  // The first rank that has not joined `c` and never will, or -1.
  int blocker(const Collective& c) const;

  Clock::time_point deadline() const { return Clock::now() + timeout; }
  // Waits until pred() holds; false if the timeout ran out first.
  template <class Predicate>
  bool wait(std::unique_lock<std::mutex>& lock, Clock::time_point until, Predicate pred) {
    if (timeout.count() <= 0) {
      tree->changed.wait(lock, pred);
      return true;
    }
    return tree->changed.wait_until(lock, until, pred);
  }

  std::shared_ptr<Tree> tree;
  const std::vector<int> tree_rank;    // each rank's rank in the ThreadGroup
  const std::vector<int> parent_rank;  // each rank's rank in the group this one was split from
  const std::chrono::milliseconds timeout;
  std::vector<std::weak_ptr<Group>> children;
  std::optional<Failure> failure;
  std::vector<bool> left;                                   // destroyed its communicator
  std::vector<std::uint64_t> calls;                         // collectives each rank has started
  std::map<std::uint64_t, std::shared_ptr<Collective>> pending;  // by sequence number
  std::vector<std::deque<Message>> unexpected;              // per destination, in the order sent
  std::vector<std::list<std::shared_ptr<Receive>>> posted;  // per destination, in the order posted
};

// collectives.cpp. Joins call number calls[rank] with `rank`'s buffers; completes it if `rank` is
// the last to join. Throws RankFailed if the group has failed, Error on a mismatch.
std::shared_ptr<Collective> join(Group& group, int rank, const Call& call, const void* in, void* out,
                                 int color = 0, int key = 0);
// Waits until `c` is done; throws if the group fails, the wait times out or a rank that has not
// joined is gone.
void await(Group& group, std::unique_lock<std::mutex>& lock, int rank, const Collective& c);
// The Work of an iallreduce that `rank` has joined.
Work iallreduce_work(std::shared_ptr<Group> group, int rank, std::shared_ptr<Collective> c);

// combine.cpp. The last rank's work: reduces, gathers, copies or splits for every rank.
void complete(Group& group, Collective& c);

// messages.cpp.
void send(Group& group, int rank, std::span<const std::byte> data, int destination, int tag);
Work receive(std::shared_ptr<Group> group, int rank, std::span<std::byte> data, int source, int tag);

}  // namespace parafit::thread_backend
