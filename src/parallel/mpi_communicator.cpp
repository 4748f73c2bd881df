// Built only when CMake finds MPI (PARAFIT_WITH_MPI, see src/CMakeLists.txt).
#include "parafit/mpi_communicator.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "parafit/error.h"

namespace parafit {
namespace {

// MPI counts are ints: longer buffers go in pieces of at most this many elements.
constexpr std::size_t kMaxCount = std::size_t{1} << 30;

std::string error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(std::max(length, 0)));
}

void check(int code, const std::string& what) {
  if (code != MPI_SUCCESS) throw Error(what + " failed: " + error_string(code));
}

// Calls f(offset, count) for consecutive pieces of at most kMaxCount elements; once for none.
template <class F>
void in_pieces(std::size_t total, F f) {
  std::size_t offset = 0;
  do {
    const std::size_t count = std::min(total - offset, kMaxCount);
    f(offset, static_cast<int>(count));
    offset += count;
  } while (offset < total);
}

}  // namespace

MpiSession::MpiSession() { init(nullptr, nullptr); }

MpiSession::MpiSession(int& argc, char**& argv) { init(&argc, &argv); }

void MpiSession::init(int* argc, char*** argv) {
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

MpiCommunicator::MpiCommunicator(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  try {
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  } catch (...) {
    MPI_Comm_free(&comm_);
    throw;
  }
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::allreduce_sum(std::span<std::int64_t> values) {
  in_pieces(values.size(), [&](std::size_t offset, int count) {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data() + offset, count, MPI_INT64_T, MPI_SUM, comm_),
          "MPI_Allreduce(MPI_INT64_T x " + std::to_string(count) + ")");
  });
}

void MpiCommunicator::allreduce_sum(std::span<double> values) {
  in_pieces(values.size(), [&](std::size_t offset, int count) {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data() + offset, count, MPI_DOUBLE, MPI_SUM, comm_),
          "MPI_Allreduce(MPI_DOUBLE x " + std::to_string(count) + ")");
  });
}

void MpiCommunicator::broadcast(std::span<std::byte> data, int root) {
  in_pieces(data.size(), [&](std::size_t offset, int count) {
    check(MPI_Bcast(data.data() + offset, count, MPI_BYTE, root, comm_),
          "MPI_Bcast(" + std::to_string(count) + " bytes, root " + std::to_string(root) + ")");
  });
}

void MpiCommunicator::barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

void MpiCommunicator::send(std::span<const std::byte> data, int destination, int tag) {
  in_pieces(data.size(), [&](std::size_t offset, int count) {
    check(MPI_Send(data.data() + offset, count, MPI_BYTE, destination, tag, comm_),
          "MPI_Send(" + std::to_string(count) + " bytes) to rank " + std::to_string(destination) +
              ", tag " + std::to_string(tag));
  });
}

void MpiCommunicator::recv(std::span<std::byte> data, int source, int tag) {
  in_pieces(data.size(), [&](std::size_t offset, int count) {
    const std::string what = "MPI_Recv(" + std::to_string(count) + " bytes) from rank " +
                             std::to_string(source) + ", tag " + std::to_string(tag);
    MPI_Status status;
    check(MPI_Recv(data.data() + offset, count, MPI_BYTE, source, tag, comm_, &status), what);
    int received = 0;
    check(MPI_Get_count(&status, MPI_BYTE, &received), "MPI_Get_count");
    if (received != count) {
      throw Error(what + ": the message has " + std::to_string(received) + " bytes");
    }
  });
}

void MpiCommunicator::abort(int code) {
  MPI_Abort(comm_, code);
  std::abort();  // MPI_Abort does not return; should an implementation return anyway, end here.
}

}  // namespace parafit
