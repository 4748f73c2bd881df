#include "parallel_run.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

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

// Test-only fault injection, for the tests that a dying rank stops the whole job: with
// PARAFIT_TEST_EXIT_RANK=r and PARAFIT_TEST_EXIT_AFTER=n, rank r exits with code 3 (without any
// goodbye to the other ranks) when it enters its n-th all-reduce.
class ExitingCommunicator final : public ForwardingCommunicator {
 public:
  ExitingCommunicator(std::unique_ptr<Communicator> inner, long after)
      : ForwardingCommunicator(std::move(inner)), after_(after) {}

 protected:
  void before(const char* operation) override {
    if (std::string_view(operation) != "allreduce" || ++count_ < after_) return;
    fmt::print(stderr, "parafit: rank {}: exiting on purpose in all-reduce {} (PARAFIT_TEST_EXIT_RANK)\n",
               rank(), count_);
    std::fflush(stderr);
    std::_Exit(3);
  }

 private:
  long after_;
  long count_ = 0;
};

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
  const char* exit_rank = std::getenv("PARAFIT_TEST_EXIT_RANK");
  if (exit_rank != nullptr && std::atoi(exit_rank) == comm_->rank()) {
    const char* after = std::getenv("PARAFIT_TEST_EXIT_AFTER");
    comm_ = std::make_unique<ExitingCommunicator>(std::move(comm_), after ? std::atol(after) : 1);
  }
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
