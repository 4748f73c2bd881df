// The process's place in a run: alone, or one rank of several started by mpirun.
#pragma once

#include <cstddef>
#include <memory>

#include "parafit/communicator.h"

namespace parafit::cli {

// What this rank has sent to the others (all-reduce payloads count once per call).
struct CommunicationStats {
  std::size_t collectives = 0;
  std::size_t collective_bytes = 0;
  std::size_t point_to_point_bytes = 0;
};

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
  const CommunicationStats& stats() const { return stats_; }

 private:
  struct Mpi;
  std::unique_ptr<Mpi> mpi_;
  std::unique_ptr<Communicator> comm_;
  CommunicationStats stats_;
};

}  // namespace parafit::cli
