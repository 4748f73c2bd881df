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
// Reproducibility: MPI_SUM on doubles adds in an order the MPI implementation chooses (it may
// depend on the number of ranks, their placement and message sizes), so the double overload of
// allreduce_sum is not bitwise reproducible in general. parafit uses it only for values that need
// not be, or whose sum is exact in any order: the training passes' tree nodes (src/train/
// tree_reduce.h), where every value has one non-zero contributor (x + 0 is exact) or two (a + b
// is b + a). The chunked sums of fit() are all-reduced through the int64 overload, as ExactSum
// limbs, whose integer sum does not depend on the order.
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

// A Communicator over an MPI communicator. It works on a private duplicate (MPI_Comm_dup) of the
// one given, so parafit's messages never mix with the program's own, and sets MPI_ERRORS_RETURN on
// it, so that a failing MPI call throws parafit::Error with MPI's error string instead of aborting.
// The constructor is a collective: every rank of `comm` must construct one. Destroy it before MPI
// is finalized (before the MpiSession).
class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() : MpiCommunicator(MPI_COMM_WORLD) {}
  explicit MpiCommunicator(MPI_Comm comm);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // MPI_Allreduce(MPI_IN_PLACE, ..., MPI_SUM): MPI_INT64_T is exact; MPI_DOUBLE is in an order
  // MPI chooses (see the top of this file).
  void allreduce_sum(std::span<std::int64_t> values) override;
  void allreduce_sum(std::span<double> values) override;
  void broadcast(std::span<std::byte> data, int root) override;
  void barrier() override;
  // MPI_Send (standard mode: may block until the receiver posts a matching receive) and MPI_Recv;
  // the message must have exactly data.size() bytes.
  void send(std::span<const std::byte> data, int destination, int tag) override;
  void recv(std::span<std::byte> data, int source, int tag) override;

  // Ends every process of the run with exit code `code` (MPI_Abort): for a failure on one rank that
  // the others cannot learn about, so that nobody waits forever.
  [[noreturn]] void abort(int code);

  // The duplicated communicator parafit uses.
  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace parafit
