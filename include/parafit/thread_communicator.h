// parafit/thread_communicator.h — several ranks inside one process, one thread each.
//
// For tests of distributed code without mpirun: a ThreadGroup of `size` ranks hands out one
// Communicator per rank, and run_ranks() runs a function on `size` std::threads, each with its own
// rank. The semantics follow MPI's where they matter to parafit:
// - collectives (allreduce_sum, broadcast, barrier) must be called by every rank in the same order,
//   with the same length (and root); a mismatch is reported as an error, not silently mixed up;
// - allreduce_sum adds the ranks' values in rank order (0, 1, 2, ...), so even the double overload
//   is deterministic here (MPI does not promise that);
// - send is buffered (it copies and returns at once); recv blocks until a message from `source`
//   with `tag` arrives, and messages with the same source and tag arrive in the order sent. The
//   message must have exactly the size of the receive buffer.
//
// It never hangs. When a rank fails — its function throws inside run_ranks(), it calls abort(), it
// misuses a collective, or one of its waits times out — the group is marked failed, and every rank
// that is blocked in, or later enters, a collective or recv throws RankFailed("rank 2 failed: ...")
// within milliseconds. A rank whose function has returned while others wait for it in a collective
// or a recv fails the group too. Each blocking wait gives up after the group's timeout.
//
// Each rank's Communicator must be used by one thread at a time (like MPI_THREAD_FUNNELED).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parafit/error.h"

namespace parafit {

// Thrown on the ranks of a failed group other than the one that failed: names the failing rank and
// its reason, "rank 2 failed: <reason>".
class RankFailed : public Error {
 public:
  RankFailed(int failed_rank, const std::string& reason);
  int failed_rank() const { return failed_rank_; }
  const std::string& reason() const { return reason_; }

 private:
  int failed_rank_;
  std::string reason_;
};

class ThreadGroup;

// One rank of a ThreadGroup. Obtained from ThreadGroup::rank() or given to run_ranks()'s function.
class ThreadCommunicator final : public Communicator {
 public:
  int rank() const override { return rank_; }
  int size() const override;
  void allreduce_sum(std::span<std::int64_t> values) override;
  void allreduce_sum(std::span<double> values) override;
  void broadcast(std::span<std::byte> data, int root) override;
  void barrier() override;
  void send(std::span<const std::byte> data, int destination, int tag) override;
  void recv(std::span<std::byte> data, int source, int tag) override;

  // Fails the whole group on behalf of this rank (see ThreadGroup::abort); returns normally.
  void abort(const std::string& reason);

 private:
  friend class ThreadGroup;
  ThreadCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}

  ThreadGroup& group_;
  int rank_;
};

class ThreadGroup {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};

  // A group of `size` >= 1 ranks. Every blocking wait (a collective, a recv) throws after `timeout`
  // and fails the group; a timeout of zero waits forever.
  explicit ThreadGroup(int size, std::chrono::milliseconds timeout = kDefaultTimeout);
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // The communicator of rank r, 0 <= r < size().
  ThreadCommunicator& rank(int r);

  // Marks the group failed on behalf of `rank` with `reason`. Only the first failure is kept;
  // from then on every collective and recv, on every rank, throws RankFailed naming it.
  void abort(int rank, const std::string& reason);
  // Whether the group has failed.
  bool failed() const;

  // Runs body(rank(r)) on size() threads, r = 0..size()-1, and joins them. A rank whose body throws
  // fails the group (its reason is the exception's what()). Then rethrows the root cause: the
  // exception of the lowest rank that threw something other than RankFailed, else (every error was
  // a consequence of abort()) the lowest rank's RankFailed. Call it at most once per group.
  void run(const std::function<void(Communicator&)>& body);

 private:
  friend class ThreadCommunicator;
  struct State;

  int size_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<State> state_;
  std::vector<std::unique_ptr<ThreadCommunicator>> ranks_;
};

// ThreadGroup(size, timeout).run(body).
void run_ranks(int size, const std::function<void(Communicator&)>& body,
               std::chrono::milliseconds timeout = ThreadGroup::kDefaultTimeout);

}  // namespace parafit
