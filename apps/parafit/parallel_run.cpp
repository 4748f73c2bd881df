#include "parallel_run.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "test_seam.h"

#ifdef PARAFIT_HAVE_MPI
#include "parafit/mpi_communicator.h"
#endif

namespace parafit::cli {
namespace {

// True when a launcher started this process as one of several ranks (Open MPI, MPICH/Hydra, PMIx).
bool started_by_mpirun() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

}  // namespace

#ifdef PARAFIT_HAVE_MPI
struct ParallelRun::Mpi {
  explicit Mpi(int& argc, char**& argv) : session(argc, argv) {}
  MpiSession session;
};
#else
struct ParallelRun::Mpi {};
#endif

ParallelRun::ParallelRun([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#ifdef PARAFIT_HAVE_MPI
  if (started_by_mpirun()) {
    mpi_ = std::make_unique<Mpi>(argc, argv);
    comm_ = std::make_unique<MpiCommunicator>();
  }
#else
  if (started_by_mpirun())
    fmt::print(stderr, "parafit: warning: started by mpirun, but this parafit was built without MPI: "
                       "every process runs alone\n");
#endif
  if (!comm_) comm_ = std::make_unique<LocalCommunicator>();
  if (test_seam().wrap_communicator) comm_ = test_seam().wrap_communicator(std::move(comm_));
}

CommunicatorStats ParallelRun::stats() const {
  // One process sends nothing to anyone: the JSON says 0 then.
  return comm_->size() > 1 ? comm_->stats() : CommunicatorStats{};
}

ParallelRun::~ParallelRun() {
  comm_.reset();  // before MPI is finalized
  mpi_.reset();
}

}  // namespace parafit::cli
