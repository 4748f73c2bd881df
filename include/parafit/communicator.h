// parafit/communicator.h — how parallel workers (ranks) talk to each other.
//
// Solvers never call MPI or threads directly: the parallel layer (src/parallel/) computes the sums
// over this process's rows on its threads and combines them across ranks through a Communicator.
// The vocabulary is PyTorch c10d's and Gloo's:
//
//   collectives     allreduce (sum, max, min), allgather, allgatherv, reduce_scatter, broadcast,
//                   barrier — every rank of the communicator calls them in the same order, with
//                   matching arguments
//   point-to-point  isend / irecv (and blocking send / recv), nonblocking iallreduce: each returns
//                   a Work handle with wait() and test()
//   subgroups       split(color, key) — a communicator of the ranks that gave the same color
//   failure         abort(reason): this rank gives up; every other rank's pending or next call
//                   throws RankFailed naming it. No rank ever waits forever for a failed one.
//
// Backends: LocalCommunicator (one process alone, below), ThreadGroup ranks (several ranks as
// threads of one process, for tests: thread_communicator.h) and MpiCommunicator (mpi_communicator.h).
// All three implement every call; one conformance suite (tests/parallel/conformance/) runs against
// each.
//
// Element types: std::byte, std::int64_t, float and double. Reductions take the numeric ones.
// Determinism: int64 sums are exact in any order. Floating-point sums are exact only when the
// values make them so (one non-zero contributor per element, or two: a + b == b + a); the MPI
// backend adds in an order MPI chooses, so parafit never relies on more (see docs/design.md).
// max and min are exact in any order (for NaN-free input).
//
// Progress: nonblocking operations make progress whenever this rank is inside any call of the
// communicator (test(), wait(), or any other operation). Open MPI 4.1 has no asynchronous progress
// of its own: a rank that computes for a long time while it has operations in flight should call
// test() on one of them now and then (for example between micro-batches). See the backends' notes.
//
// Threads: each Communicator is used by one thread at a time (MPI_THREAD_FUNNELED); parafit's OpenMP
// workers never call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "parafit/error.h"

namespace parafit {

enum class ReduceOp { kSum, kMax, kMin };
// "sum", "max", "min".
const char* to_string(ReduceOp op);

// The element types a Communicator moves; DataTypeOf<T>::value for T in {std::byte, std::int64_t,
// float, double}.
enum class DataType { kByte, kInt64, kFloat32, kFloat64 };
const char* to_string(DataType type);
std::size_t size_of(DataType type);
template <class T> struct DataTypeOf;
template <> struct DataTypeOf<std::byte> { static constexpr DataType value = DataType::kByte; };
template <> struct DataTypeOf<std::int64_t> { static constexpr DataType value = DataType::kInt64; };
template <> struct DataTypeOf<float> { static constexpr DataType value = DataType::kFloat32; };
template <> struct DataTypeOf<double> { static constexpr DataType value = DataType::kFloat64; };
template <class T>
concept CommElement = requires { DataTypeOf<std::remove_const_t<T>>::value; };
template <class T>
concept CommNumber = CommElement<T> && !std::is_same_v<std::remove_const_t<T>, std::byte>;

// Thrown on every rank but the failing one when a rank has failed (abort(), an exception inside a
// ThreadGroup rank, a mismatched call, a timeout): "rank 2 failed: <reason>".
class RankFailed : public Error {
 public:
  RankFailed(int failed_rank, const std::string& reason, bool after_timeout = false);
  int failed_rank() const { return failed_rank_; }
  const std::string& reason() const { return reason_; }
  // The failing rank gave up because a wait ran out of time (MPI: TimedOut): the rank it waited
  // for may never call again, not even MPI_Finalize, so a process must not wait for it at its end
  // either.
  bool after_timeout() const { return after_timeout_; }

 private:
  int failed_rank_;
  std::string reason_;
  bool after_timeout_;
};

// Thrown by the rank whose wait ran out of time (MpiCommunicator's Options::timeout), after it
// failed the communicator: "rank 0: allreduce(...) timed out after 60000 ms: rank 2 does not answer
// (...)". The other ranks get RankFailed naming it.
class TimedOut : public Error {
 public:
  using Error::Error;
};

// A nonblocking operation in flight. Its buffers must stay valid, and (for a send) unchanged, until
// it has completed. wait() blocks until it completes; test() makes progress and says whether it
// has. Both throw RankFailed when another rank failed before the operation could complete (the
// message names that rank), and parafit::Error for a local failure (a message of the wrong size,
// an MPI error). Once complete, test() and wait() return at once (a failed operation throws again).
// A default-constructed Work is complete. Destroying a Work that has not completed waits for it,
// swallowing any error (call wait() to see errors).
class Work {
 public:
  // What a backend implements.
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual bool test() = 0;
    virtual void wait() = 0;
  };

  Work() = default;
  explicit Work(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
  Work(Work&&) noexcept = default;
  Work& operator=(Work&& other) noexcept;
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;
  ~Work();

  bool test();
  void wait();

 private:
  std::unique_ptr<Impl> impl_;
};

// What this rank has done through a communicator (not its subgroups): for the JSON "run" section,
// the benchmarks and the tests that count collectives.
struct CommunicatorStats {
  std::uint64_t collectives = 0;        // collective calls, blocking and nonblocking
  std::uint64_t collective_bytes = 0;   // bytes this rank passed in to them
  std::uint64_t messages_sent = 0;      // point-to-point sends
  std::uint64_t bytes_sent = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // ---- collectives -----------------------------------------------------------------------------
  // values[i] = op over all ranks of values[i], on every rank. Every rank passes the same size.
  template <CommNumber T>
  void allreduce(std::span<T> values, ReduceOp op = ReduceOp::kSum) {
    count_collective(values.size_bytes());
    do_allreduce(values.data(), values.size(), DataTypeOf<T>::value, op);
  }
  template <CommNumber T>
  void allreduce(std::vector<T>& values, ReduceOp op = ReduceOp::kSum) {
    allreduce(std::span<T>(values), op);
  }
  // Rank r's `mine` lands in all[r*n, (r+1)*n), n = mine.size() (the same on every rank);
  // all.size() == n * size().
  template <CommElement T>
  void allgather(std::span<const std::type_identity_t<T>> mine, std::span<T> all) {
    count_collective(mine.size_bytes());
    check_allgather(mine.size(), all.size());
    do_allgather(mine.data(), all.data(), mine.size(), DataTypeOf<T>::value);
  }
  // Rank r contributes counts[r] elements (mine.size() == counts[rank()]); they land in `all` in
  // rank order (all.size() == the sum of counts). `counts` is the same on every rank.
  template <CommElement T>
  void allgatherv(std::span<const std::type_identity_t<T>> mine, std::span<T> all,
                  std::span<const std::size_t> counts) {
    count_collective(mine.size_bytes());
    check_allgatherv(mine.size(), all.size(), counts);
    do_allgatherv(mine.data(), all.data(), counts, DataTypeOf<T>::value);
  }
  // The same, when the ranks do not know each other's counts: one allgather of the counts first.
  // Returns every rank's elements in rank order; `counts`, if given, receives the counts.
  template <CommElement T>
  std::vector<T> allgatherv(std::span<const T> mine, std::vector<std::size_t>* counts = nullptr) {
    std::vector<std::size_t> n = gather_counts(mine.size());
    std::size_t total = 0;
    for (std::size_t c : n) total += c;
    std::vector<T> all(total);
    allgatherv<T>(mine, std::span<T>(all), std::span<const std::size_t>(n));
    if (counts != nullptr) *counts = std::move(n);
    return all;
  }
  template <CommElement T>
  std::vector<T> allgatherv(const std::vector<T>& mine, std::vector<std::size_t>* counts = nullptr) {
    return allgatherv(std::span<const T>(mine), counts);
  }
  // Reduces `in` (sum of counts elements, the same size on every rank) over the ranks with `op`
  // and leaves block r — elements [counts[0] + ... + counts[r-1], ... + counts[r]) of the result —
  // in rank r's `out` (out.size() == counts[rank()]). `counts` is the same on every rank.
  template <CommNumber T>
  void reduce_scatter(std::span<const std::type_identity_t<T>> in, std::span<T> out,
                      std::span<const std::size_t> counts,
                      ReduceOp op = ReduceOp::kSum) {
    count_collective(in.size_bytes());
    check_reduce_scatter(in.size(), out.size(), counts);
    do_reduce_scatter(in.data(), out.data(), counts, DataTypeOf<T>::value, op);
  }
  // Copies `data` from rank `root` to every rank (every rank passes the same size).
  template <CommElement T>
  void broadcast(std::span<T> data, int root) {
    count_collective(data.size_bytes());
    check_peer(root, "broadcast root");
    do_broadcast(data.data(), data.size(), DataTypeOf<T>::value, root);
  }
  template <CommElement T>
  void broadcast(std::vector<T>& data, int root) {
    broadcast(std::span<T>(data), root);
  }
  void barrier() {
    count_collective(0);
    do_barrier();
  }

  // ---- point-to-point and nonblocking ---------------------------------------------------------
  // The message must have exactly the size of the receive buffer; messages with the same source,
  // destination and tag arrive in the order sent. Tags are 0 <= tag < kMaxTag.
  static constexpr int kMaxTag = 32767;
  Work isend(std::span<const std::byte> data, int destination, int tag);
  Work irecv(std::span<std::byte> data, int source, int tag);
  void send(std::span<const std::byte> data, int destination, int tag) { isend(data, destination, tag).wait(); }
  void recv(std::span<std::byte> data, int source, int tag) { irecv(data, source, tag).wait(); }
  // allreduce without waiting: `values` holds the result once the Work has completed. It is a
  // collective: every rank starts it in the same order relative to the other collectives.
  template <CommNumber T>
  Work iallreduce(std::span<T> values, ReduceOp op = ReduceOp::kSum) {
    count_collective(values.size_bytes());
    return do_iallreduce(values.data(), values.size(), DataTypeOf<T>::value, op);
  }

  // ---- subgroups -------------------------------------------------------------------------------
  // A collective: the ranks that pass the same color >= 0 form a new communicator, ranked by
  // (key, rank in this one). A rank that passes a negative color gets nullptr. The new
  // communicator is independent of this one (its own message space) except that a failure of this
  // one fails it too. It must be destroyed before this one.
  std::unique_ptr<Communicator> split(int color, int key) {
    count_collective(2 * sizeof(std::int64_t));
    return do_split(color, key);
  }

  // ---- failure ---------------------------------------------------------------------------------
  // This rank gives up, with `reason`: every other rank that is waiting in, or later enters, a call
  // of this communicator (or of one split from it) throws RankFailed(rank(), reason); so does this
  // rank's own next call. Returns at once; never blocks. Only the first failure is kept.
  void abort(const std::string& reason) { do_abort(reason); }

  const CommunicatorStats& stats() const { return stats_; }

 protected:
  friend class ForwardingCommunicator;
  // What a backend implements; the public calls above have checked the arguments that can be
  // checked locally (sizes, peers, tags) and counted the call.
  virtual void do_allreduce(void* values, std::size_t count, DataType type, ReduceOp op) = 0;
  virtual void do_allgather(const void* mine, void* all, std::size_t count, DataType type) = 0;
  virtual void do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts,
                             DataType type) = 0;
  virtual void do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts,
                                 DataType type, ReduceOp op) = 0;
  virtual void do_broadcast(void* data, std::size_t count, DataType type, int root) = 0;
  virtual void do_barrier() = 0;
  virtual Work do_isend(std::span<const std::byte> data, int destination, int tag) = 0;
  virtual Work do_irecv(std::span<std::byte> data, int source, int tag) = 0;
  virtual Work do_iallreduce(void* values, std::size_t count, DataType type, ReduceOp op) = 0;
  virtual std::unique_ptr<Communicator> do_split(int color, int key) = 0;
  virtual void do_abort(const std::string& reason) = 0;

 private:
  void count_collective(std::size_t bytes) {
    ++stats_.collectives;
    stats_.collective_bytes += bytes;
  }
  std::vector<std::size_t> gather_counts(std::size_t mine);
  void check_peer(int peer, const char* what) const;
  void check_allgather(std::size_t mine, std::size_t all) const;
  void check_allgatherv(std::size_t mine, std::size_t all, std::span<const std::size_t> counts) const;
  void check_reduce_scatter(std::size_t in, std::size_t out, std::span<const std::size_t> counts) const;

  CommunicatorStats stats_;
};

// One process alone (size 1): collectives copy or do nothing, split gives another LocalCommunicator
// (or nullptr), point-to-point with itself works (a send is buffered until the matching receive).
class LocalCommunicator final : public Communicator {
 public:
  LocalCommunicator();
  ~LocalCommunicator() override;
  int rank() const override { return 0; }
  int size() const override { return 1; }

 protected:
  void do_allreduce(void*, std::size_t, DataType, ReduceOp) override;
  void do_allgather(const void* mine, void* all, std::size_t count, DataType type) override;
  void do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts, DataType type) override;
  void do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts, DataType type,
                         ReduceOp op) override;
  void do_broadcast(void*, std::size_t, DataType, int) override;
  void do_barrier() override;
  Work do_isend(std::span<const std::byte> data, int destination, int tag) override;
  Work do_irecv(std::span<std::byte> data, int source, int tag) override;
  Work do_iallreduce(void* values, std::size_t count, DataType type, ReduceOp op) override;
  std::unique_ptr<Communicator> do_split(int color, int key) override;
  void do_abort(const std::string& reason) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Forwards every call to another communicator: the base of wrappers that watch or inject faults
// into the calls (tests, instrumentation). Override before() to see each call first.
class ForwardingCommunicator : public Communicator {
 public:
  explicit ForwardingCommunicator(std::unique_ptr<Communicator> inner);
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  Communicator& inner() { return *inner_; }

 protected:
  // Called before each forwarded operation, with its name ("allreduce", "isend", ...).
  virtual void before(const char* operation) { (void)operation; }

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
  std::unique_ptr<Communicator> inner_;
};

}  // namespace parafit
