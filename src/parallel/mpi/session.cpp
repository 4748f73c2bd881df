#include "mpi_call.h"

namespace parafit {

MpiSession::MpiSession() { init(nullptr, nullptr); }

MpiSession::MpiSession(int& argc, char**& argv) { init(&argc, &argv); }

void MpiSession::init(int* argc, char*** argv) {
  using mpi_backend::check;
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) {
    check(MPI_Query_thread(&thread_level_), "MPI_Query_thread");
  } else {
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &thread_level_), "MPI_Init_thread");
    owns_ = true;
  }
  if (thread_level_ < MPI_THREAD_FUNNELED) {
    if (owns_) MPI_Finalize();
    owns_ = false;
    throw Error("MPI provides thread level " + std::to_string(thread_level_) +
                ", less than the MPI_THREAD_FUNNELED parafit needs");
  }
}

MpiSession::~MpiSession() {
  if (!owns_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace parafit
