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
  MpiCommunicator* world = nullptr;  // comm_ itself, or what the test seam wraps
};
#else
struct ParallelRun::Mpi {};
#endif

ParallelRun::ParallelRun([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#ifdef PARAFIT_HAVE_MPI
  if (started_by_mpirun()) {
    mpi_ = std::make_unique<Mpi>(argc, argv);
    auto world = std::make_unique<MpiCommunicator>();
    mpi_->world = world.get();
    comm_ = std::move(world);
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

void ParallelRun::set_rank_timeout([[maybe_unused]] std::chrono::milliseconds timeout) {
#ifdef PARAFIT_HAVE_MPI
  if (mpi_) mpi_->world->set_timeout(timeout);
#endif
}

void ParallelRun::abort_job([[maybe_unused]] int code) {
#ifdef PARAFIT_HAVE_MPI
  std::fflush(stdout);
  std::fflush(stderr);
  // Leaving without MPI_Finalize makes mpirun end the other ranks. MPI_Abort would too, but Open
  // MPI 4.1's mpirun then sometimes crashes (a segmentation fault in pmix_server_finalize) or logs
  // ORTE_ERROR_LOG lines when a rank is hung.
  if (mpi_) std::_Exit(code);
#endif
}

ParallelRun::~ParallelRun() {
  comm_.reset();  // before MPI is finalized
  mpi_.reset();
}

}  // namespace parafit::cli
