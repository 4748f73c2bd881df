// parafit/thread_communicator.h — several ranks inside one process, one thread each.
//
// For tests of distributed code without mpirun: a ThreadGroup of `size` ranks hands out one
// Communicator per rank, and run_ranks() runs a function on `size` std::threads, each with its own
// rank. Every call of communicator.h is implemented. The semantics follow MPI's where they matter
// to parafit, and are stricter where that catches bugs:
// - collectives must be called by every rank in the same order with matching arguments (the same
//   call, element type, reduce op, length, root, counts). They are matched by sequence number:
//   each rank counts its collective calls (blocking, iallreduce and split alike), and call k of one
//   rank meets call k of the others, so a nonblocking iallreduce can still be pending while later
//   collectives run. A mismatch is an error naming both calls ("allreduce(double x 1, sum) does
//   not match barrier() called by rank 0"), not silently mixed up;
// - reductions combine the ranks' values in rank order (0, 1, 2, ...), so even double sums are
//   deterministic here (MPI does not promise that);
// - iallreduce completes when every rank has posted it; the last rank to post writes the result
//   into every rank's buffer, which must stay valid until then;
// - isend is buffered (it copies and completes at once); irecv completes when a message from
//   `source` with `tag` arrives (at once if one is waiting). Messages with the same source and tag
//   arrive in the order sent, and receives with the same source and tag are filled in the order
//   posted. The message must have exactly the size of the receive buffer;
// - split(color, key) makes a child group shared by the ranks of one color, ranked by key, then
//   by parent rank. A failure of a group fails all its descendants, not its ancestors.
//
// It never hangs. When a rank fails — its function throws inside run(), it calls abort(), it
// misuses a collective, or one of its waits times out — its group (and every group split from it)
// is marked failed, and every rank that is waiting in, or later enters, a call of that group
// throws RankFailed("rank 2 failed: ...") within milliseconds. A rank whose function has returned
// (or that destroyed its communicator) while others wait for it fails the group too. Each wait
// (a collective, Work::wait) gives up after the group's timeout and fails the group.
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

namespace thread_backend {
struct Group;
}

// One rank of a ThreadGroup (or of a group split from one). Obtained from ThreadGroup::rank(),
// given to run()'s function, or returned by split().
class ThreadCommunicator final : public Communicator {
 public:
  ~ThreadCommunicator() override;
  ThreadCommunicator(const ThreadCommunicator&) = delete;
  ThreadCommunicator& operator=(const ThreadCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override;

 protected:
  void do_allreduce(void* values, std::size_t count, DataType type, ReduceOp op) override;
  void do_allgather(const void* mine, void* all, std::size_t count, DataType type) override;
  void do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts, DataType type) override;
  void do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts, DataType type,
                         ReduceOp op) override;
  void do_broadcast(void* data, std::size_t count, DataType type, int root) override;
  void do_barrier() override;
  Work do_isend(std::span<const std::byte> data, int destination, int tag) override;
  Work do_irecv(std::span<std::byte> data, int source, int tag) override;
  Work do_iallreduce(void* values, std::size_t count, DataType type, ReduceOp op) override;
  std::unique_ptr<Communicator> do_split(int color, int key) override;
  void do_abort(const std::string& reason) override;

 private:
  friend class ThreadGroup;
  ThreadCommunicator(std::shared_ptr<thread_backend::Group> group, int rank);

  std::shared_ptr<thread_backend::Group> group_;
  int rank_;
};

class ThreadGroup {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};

  // A group of `size` >= 1 ranks. Every wait (a collective, Work::wait) throws after `timeout` and
  // fails the group; a timeout of zero waits forever. Groups split from it share the timeout.
  explicit ThreadGroup(int size, std::chrono::milliseconds timeout = kDefaultTimeout);
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // The communicator of rank r, 0 <= r < size().
  ThreadCommunicator& rank(int r);

  // Marks the group (and every group split from it) failed on behalf of `rank` with `reason`, as
  // rank(rank).abort(reason) does. Only the first failure is kept; from then on every call, on
  // every rank, throws RankFailed naming it.
  void abort(int rank, const std::string& reason);
  // Whether the group has failed.
  bool failed() const;

  // Runs body(rank(r)) on size() threads, r = 0..size()-1, and joins them. A rank whose body throws
  // fails the group (its reason is the exception's what()). Then rethrows the root cause: the
  // exception of the lowest rank that threw something other than RankFailed, else (every error was
  // a consequence of abort()) the lowest rank's RankFailed. Call it at most once per group.
  void run(const std::function<void(Communicator&)>& body);

 private:
  int size_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<thread_backend::Group> group_;
  std::vector<std::unique_ptr<ThreadCommunicator>> ranks_;
};

// ThreadGroup(size, timeout).run(body).
void run_ranks(int size, const std::function<void(Communicator&)>& body,
               std::chrono::milliseconds timeout = ThreadGroup::kDefaultTimeout);

}  // namespace parafit
