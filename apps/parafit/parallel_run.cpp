#include "parallel_run.h"

#include "test_seam.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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

// Counts what this rank sends through collectives, for the JSON "run" section and the benchmarks.
class CountingCommunicator final : public Communicator {
 public:
  CountingCommunicator(std::unique_ptr<Communicator> inner, CommunicationStats& stats)
      : inner_(std::move(inner)), stats_(stats) {}
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  void allreduce_sum(std::span<std::int64_t> v) override { count(v.size_bytes()); inner_->allreduce_sum(v); }
  void allreduce_sum(std::span<double> v) override { count(v.size_bytes()); inner_->allreduce_sum(v); }
  void broadcast(std::span<std::byte> d, int root) override { count(d.size()); inner_->broadcast(d, root); }
  void barrier() override { count(0); inner_->barrier(); }
  void send(std::span<const std::byte> d, int to, int tag) override {
    stats_.point_to_point_bytes += d.size();
    inner_->send(d, to, tag);
  }
  void recv(std::span<std::byte> d, int from, int tag) override { inner_->recv(d, from, tag); }

 private:
  void count(std::size_t bytes) {
    ++stats_.collectives;
    stats_.collective_bytes += bytes;
  }
  std::unique_ptr<Communicator> inner_;
  CommunicationStats& stats_;
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
  if (comm_->size() > 1) comm_ = std::make_unique<CountingCommunicator>(std::move(comm_), stats_);
  if (test_seam().wrap_communicator) comm_ = test_seam().wrap_communicator(std::move(comm_));
}

ParallelRun::~ParallelRun() {
  comm_.reset();  // before MPI is finalized
  mpi_.reset();
}

}  // namespace parafit::cli
