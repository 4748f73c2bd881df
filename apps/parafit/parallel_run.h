// The process's place in a run: alone, or one rank of several started by mpirun.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "parafit/communicator.h"

namespace parafit::cli {

class ParallelRun {
 public:
  // Joins the MPI job when the process was started by mpirun (and parafit was built with MPI);
  // otherwise runs alone. Call once, at the start of main.
  ParallelRun(int& argc, char**& argv);
  ~ParallelRun();
  ParallelRun(const ParallelRun&) = delete;
  ParallelRun& operator=(const ParallelRun&) = delete;

  Communicator& comm() { return *comm_; }
  // Rank 0 speaks and writes files; the other ranks stay quiet unless they fail.
  bool is_root() const { return comm_->rank() == 0; }
  // What this rank has sent to the others through comm() (collectives count the bytes this rank
  // passed in, once per call); all zero for a process alone.
  CommunicatorStats stats() const;

  // How long a rank waits for the others in any call before it gives up (zero: forever). A rank
  // alone never waits.
  void set_rank_timeout(std::chrono::milliseconds timeout);
  // Ends this process now, without MPI_Finalize, so that mpirun ends every rank of the job: for a
  // rank that timed out (a rank that does not answer would keep the others from finishing
  // together). Returns when the process runs alone.
  void abort_job(int code);

 private:
  struct Mpi;
  std::unique_ptr<Mpi> mpi_;
  std::unique_ptr<Communicator> comm_;
};

}  // namespace parafit::cli
