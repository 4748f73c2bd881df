// parafit/mpi_communicator.h — the Communicator of a run under mpirun (Open MPI or another MPI).
//
// Available when parafit was built with MPI (PARAFIT_HAVE_MPI is defined to 1 for users of the
// library then; the package config finds MPI for them).
//
//   int main(int argc, char** argv) {
//     parafit::MpiSession mpi(argc, argv);     // MPI_Init_thread ... MPI_Finalize
//     parafit::MpiCommunicator world;          // every rank, on MPI_COMM_WORLD
//     parafit::Context ctx;
//     ctx.communicator = &world;
//     ...
//   }
//
// Every call of communicator.h is implemented: allreduce and iallreduce map to MPI_Allreduce and
// MPI_Iallreduce (sum, max, min as MPI_SUM, MPI_MAX, MPI_MIN; std::byte, int64, float, double as
// MPI_BYTE, MPI_INT64_T, MPI_FLOAT, MPI_DOUBLE), allgather(v) to MPI_Allgather(v), reduce_scatter
// to MPI_Reduce_scatter, broadcast to MPI_Bcast, isend / irecv to MPI_Isend / MPI_Irecv, split to
// MPI_Comm_split (a negative color is MPI_UNDEFINED: nullptr). Buffers longer than 2^30 elements go
// in pieces where the call allows it (allreduce, iallreduce, broadcast, isend / irecv: the pieces
// of one message keep their order); allgather, allgatherv and reduce_scatter throw Error for counts
// or totals beyond INT_MAX. MPI errors (the communicators use MPI_ERRORS_RETURN) become
// parafit::Error with MPI's error string.
//
// Failure. Each MpiCommunicator works on a private MPI_Comm_dup of the given communicator (so
// parafit's messages never mix with the program's own) plus a second duplicate, the control
// channel, which carries only failure notices. abort(reason) marks this communicator and the ones
// split from it failed and sends a notice (the reason, and how many guarded collectives this rank
// had entered) to every other rank with MPI_Isend: it never blocks, and the requests are completed
// later (MPI_Test in later calls and in the destructor, which never waits for them). Every wait —
// Work::wait and test, point-to-point, iallreduce, the guard below — is a polling loop: MPI_Test on
// the request, then MPI_Iprobe on the control channel of this communicator and of every ancestor
// (a failure of a communicator fails those split from it). A rank that learns of a failure marks
// the communicator failed and passes a notice on to the other ranks too, then throws
// RankFailed(rank, reason), the rank numbered in this communicator; when the failing rank is not a
// member of it (a failure inherited from an ancestor), RankFailed(-1, "rank N of the parent
// communicator failed: reason").
//
// Blocking collectives are guarded, so that a failed rank never leaves the others stuck inside a
// blocking MPI call: first an MPI_Ibarrier, polled as above, then the blocking call (MPI_Allreduce,
// MPI_Allgather(v), MPI_Reduce_scatter, MPI_Bcast, MPI_Comm_split; barrier is the guard alone). A
// rank that has entered a guard's MPI_Ibarrier leaves it early only when a notice shows that some
// member gave up before entering it (the notices carry that count): then the barrier can never
// complete. Otherwise it waits for the barrier — whose completion on any rank means every rank is
// past it and will make the blocking call too — does the blocking call, and then throws RankFailed
// for the failure it learned of. So no rank blocks in MPI for a rank that will never come. The
// guard costs one MPI_Ibarrier per collective (bench/bench_collectives measures it). Every rank
// uses the same form for each call (MPI forbids matching a blocking collective with a nonblocking
// one); that is automatic since every rank runs this code.
//
// Options::timeout (default: none) bounds every wait: when it runs out, the rank pings the others
// on the control channel and waits up to a second for their answers, aborts the communicator with
// "<call> timed out after N ms" (adding ": rank M does not answer (...)" for the ranks that did not
// answer: a hung or stopped rank) and throws TimedOut naming the call. Several ranks that time out
// together ping each other; only the lowest of them throws TimedOut, the others RankFailed. A timeout is a
// last resort against a rank that never calls again: if a rank times out inside a guard's barrier
// and the missing rank enters that barrier before it has seen the notice, the others complete the
// barrier and wait in the blocking call for the rank that gave up. Choose it far above any
// computing time between calls.
//
// After a failure, operations that could not complete are abandoned: pending receives are
// cancelled, sends are left to MPI (keep their buffers until the communicator is destroyed),
// nonblocking collectives (iallreduce, the guards' barriers) are kept, never freed (MPI forbids
// freeing them). A failed communicator's MPI communicators are not freed either: other ranks' late
// notices may still arrive on them, and freeing would let MPI reuse their context ids.
//
// Progress: Open MPI 4.1 has no progress thread; messages move only while a rank is inside an MPI
// call. parafit's operations therefore progress whenever the rank is inside any call of any
// communicator (Work::test() included). A rank that computes for long while a large message is in
// flight should call test() on one of its Works now and then (between micro-batches, say): the
// conformance suite checks that a 4 MB message then arrives within milliseconds.
//
// Reproducibility: MPI_SUM on doubles adds in an order the MPI implementation chooses (it may
// depend on the number of ranks, their placement and message sizes), so double allreduces are not
// bitwise reproducible in general. parafit sums doubles across ranks only where the order cannot
// matter: the strata tree (src/parallel/strata_tree.h) all-reduces or reduce-scatters two nodes
// (a + b is b + a) and otherwise all-gathers the nodes and adds them itself in a fixed order; the
// chunked sums of fit() are all-reduced as int64 ExactSum limbs, whose integer sum does not depend
// on the order.
//
// Threads: MpiSession asks for MPI_THREAD_FUNNELED. Only the thread that created the session may
// call the communicator; parafit's OpenMP worker threads never do.
#pragma once

// parafit needs only MPI's C interface; skip the deprecated C++ bindings (and their warnings).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <chrono>
#include <memory>

#include "parafit/communicator.h"

namespace parafit {

// Initializes MPI (MPI_Init_thread with MPI_THREAD_FUNNELED) for the lifetime of the object and
// finalizes it at the end. If MPI was already initialized by someone else, it does neither.
// Throws parafit::Error if MPI cannot be initialized or provides less than MPI_THREAD_FUNNELED.
class MpiSession {
 public:
  MpiSession();
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // The thread support level MPI provides.
  int thread_level() const { return thread_level_; }

 private:
  void init(int* argc, char*** argv);

  bool owns_ = false;
  int thread_level_ = MPI_THREAD_SINGLE;
};

namespace mpi_backend {
struct State;
}

// A Communicator over an MPI communicator (see the top of this file). The constructor is a
// collective: every rank of `comm` must construct one. Destroy it before MPI is finalized (before
// the MpiSession), and after every communicator split from it.
class MpiCommunicator final : public Communicator {
 public:
  struct Options {
    // How long any wait may take; zero: no limit.
    std::chrono::milliseconds timeout{0};
  };

  MpiCommunicator() : MpiCommunicator(MPI_COMM_WORLD) {}
  explicit MpiCommunicator(MPI_Comm comm);
  MpiCommunicator(MPI_Comm comm, Options options);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  // Ends every process of the run with exit code `code` (MPI_Abort): for a failure on one rank
  // that the others cannot learn about otherwise, so that nobody waits forever.
  [[noreturn]] void abort_job(int code);

  // The duplicated communicator parafit's data moves on.
  MPI_Comm comm() const;

  // Replaces Options::timeout, for this communicator and those split from it afterwards.
  void set_timeout(std::chrono::milliseconds timeout);

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
  explicit MpiCommunicator(std::shared_ptr<mpi_backend::State> state);

  std::shared_ptr<mpi_backend::State> state_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace parafit
