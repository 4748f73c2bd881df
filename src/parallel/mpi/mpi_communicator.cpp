// MpiCommunicator: every call of communicator.h on MPI (mpi_communicator.h describes the design).
#include "parafit/mpi_communicator.h"

#include <fmt/format.h>

#include <algorithm>
#include <fmt/ranges.h>

#include <cstdlib>
#include <numeric>

#include "state.h"

namespace parafit {

using mpi_backend::check;
using mpi_backend::in_pieces;
using mpi_backend::int_count;
using mpi_backend::mpi_op;
using mpi_backend::mpi_type;
using mpi_backend::RequestKind;

namespace {

std::byte* at(void* base, std::size_t elements, DataType type) {
  return static_cast<std::byte*>(base) + elements * size_of(type);
}

// MPI's int counts and displacements for the ranks' counts; Error if a count or the total does not fit.
struct IntCounts {
  IntCounts(std::span<const std::size_t> counts, const char* call) {
    int_count(std::accumulate(counts.begin(), counts.end(), std::size_t{0}), call);
    for (std::size_t c : counts) {
      displacements.push_back(total);
      this->counts.push_back(int_count(c, call));
      total += this->counts.back();
    }
  }
  std::vector<int> counts, displacements;
  int total = 0;
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : MpiCommunicator(comm, Options{}) {}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, Options options)
    : MpiCommunicator(mpi_backend::make_state(comm, options.timeout)) {}

MpiCommunicator::MpiCommunicator(std::shared_ptr<mpi_backend::State> state)
    : state_(std::move(state)), rank_(state_->rank), size_(state_->size) {}

MpiCommunicator::~MpiCommunicator() = default;

MPI_Comm MpiCommunicator::comm() const { return state_->data; }

void MpiCommunicator::set_timeout(std::chrono::milliseconds timeout) { state_->timeout = timeout; }

void MpiCommunicator::abort_job(int code) {
  MPI_Abort(state_->data, code);
  std::abort();  // MPI_Abort does not return; should an implementation return anyway, end here.
}

void MpiCommunicator::do_allreduce(void* values, std::size_t count, DataType type, ReduceOp op) {
  const auto what = [&] { return fmt::format("allreduce({} x {}, {})", to_string(type), count, to_string(op)); };
  // In pieces of at most 1 MiB: Open MPI allocates scratch of the message's size for each call,
  // and a gradient of millions of weights (67 MB for W4) would be a fresh mapping, and page faults,
  // every step (W4 replicated on 2 ranks: 0.69 s/step before, 0.25 after). Each element's
  // reduction is the same operation whatever the pieces.
  constexpr std::size_t kPieceBytes = std::size_t{1} << 20;
  const std::size_t piece = std::max<std::size_t>(1, kPieceBytes / size_of(type));
  mpi_backend::guarded(*state_, what, [&] {
    std::size_t offset = 0;
    do {  // once for none, as every rank must call
      const int n = static_cast<int>(std::min(piece, count - offset));
      check(MPI_Allreduce(MPI_IN_PLACE, at(values, offset, type), n, mpi_type(type), mpi_op(op), state_->data),
            [&] { return "MPI_Allreduce in " + what(); });
      offset += std::size_t(n);
    } while (offset < count);
  });
}

void MpiCommunicator::do_allgather(const void* mine, void* all, std::size_t count, DataType type) {
  const auto what = [&] { return fmt::format("allgather({} x {} per rank)", to_string(type), count); };
  int_count(count * static_cast<std::size_t>(size_), "allgather");  // MPI indexes the whole buffer with ints
  const int n = int_count(count, "allgather");
  mpi_backend::guarded(*state_, what, [&] {
    check(MPI_Allgather(mine, n, mpi_type(type), all, n, mpi_type(type), state_->data),
          [&] { return "MPI_Allgather in " + what(); });
  });
}

void MpiCommunicator::do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts,
                                    DataType type) {
  const auto what = [&] { return fmt::format("allgatherv({}, counts {})", to_string(type), fmt::join(counts, ", ")); };
  const IntCounts ints(counts, "allgatherv");
  mpi_backend::guarded(*state_, what, [&] {
    check(MPI_Allgatherv(mine, ints.counts[static_cast<std::size_t>(rank_)], mpi_type(type), all, ints.counts.data(),
                         ints.displacements.data(), mpi_type(type), state_->data),
          [&] { return "MPI_Allgatherv in " + what(); });
  });
}

void MpiCommunicator::do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts,
                                        DataType type, ReduceOp op) {
  const auto what = [&] {
    return fmt::format("reduce_scatter({}, counts {}, {})", to_string(type), fmt::join(counts, ", "), to_string(op));
  };
  const IntCounts ints(counts, "reduce_scatter");
  mpi_backend::guarded(*state_, what, [&] {
    check(MPI_Reduce_scatter(in, out, ints.counts.data(), mpi_type(type), mpi_op(op), state_->data),
          [&] { return "MPI_Reduce_scatter in " + what(); });
  });
}

void MpiCommunicator::do_broadcast(void* data, std::size_t count, DataType type, int root) {
  const auto what = [&] { return fmt::format("broadcast({} x {}, root {})", to_string(type), count, root); };
  mpi_backend::guarded(*state_, what, [&] {
    in_pieces(count, [&](std::size_t offset, int n) {
      check(MPI_Bcast(at(data, offset, type), n, mpi_type(type), root, state_->data),
            [&] { return "MPI_Bcast in " + what(); });
    });
  });
}

void MpiCommunicator::do_barrier() {
  mpi_backend::guarded(*state_, [] { return std::string("barrier()"); }, [] {});
}

Work MpiCommunicator::do_isend(std::span<const std::byte> data, int destination, int tag) {
  mpi_backend::throw_if_failed(*state_);
  std::string what = fmt::format("isend({} bytes) to rank {}, tag {}", data.size(), destination, tag);
  std::vector<MPI_Request> requests;
  in_pieces(data.size(), [&](std::size_t offset, int n) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Isend(data.data() + offset, n, MPI_BYTE, destination, tag, state_->data, &request),
          [&] { return "MPI_Isend in " + what; });
    requests.push_back(request);
  });
  return mpi_backend::request_work(state_, RequestKind::kSend, std::move(requests), {}, std::move(what));
}

Work MpiCommunicator::do_irecv(std::span<std::byte> data, int source, int tag) {
  mpi_backend::throw_if_failed(*state_);
  std::string what = fmt::format("irecv({} bytes) from rank {}, tag {}", data.size(), source, tag);
  std::vector<MPI_Request> requests;
  std::vector<int> expected;
  in_pieces(data.size(), [&](std::size_t offset, int n) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Irecv(data.data() + offset, n, MPI_BYTE, source, tag, state_->data, &request),
          [&] { return "MPI_Irecv in " + what; });
    requests.push_back(request);
    expected.push_back(n);
  });
  return mpi_backend::request_work(state_, RequestKind::kReceive, std::move(requests), std::move(expected),
                                   std::move(what));
}

Work MpiCommunicator::do_iallreduce(void* values, std::size_t count, DataType type, ReduceOp op) {
  mpi_backend::throw_if_failed(*state_);
  std::string what = fmt::format("iallreduce({} x {}, {})", to_string(type), count, to_string(op));
  std::vector<MPI_Request> requests;
  in_pieces(count, [&](std::size_t offset, int n) {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, at(values, offset, type), n, mpi_type(type), mpi_op(op), state_->data,
                         &request),
          [&] { return "MPI_Iallreduce in " + what; });
    requests.push_back(request);
  });
  return mpi_backend::request_work(state_, RequestKind::kCollective, std::move(requests), {}, std::move(what));
}

std::unique_ptr<Communicator> MpiCommunicator::do_split(int color, int key) {
  const auto what = [&] { return fmt::format("split(color {}, key {})", color, key); };
  mpi_backend::throw_if_failed(*state_);
  if (size_ > 1) mpi_backend::guard(*state_, what);
  MPI_Comm split = MPI_COMM_NULL;
  check(MPI_Comm_split(state_->data, color < 0 ? MPI_UNDEFINED : color, key, &split),
        [&] { return "MPI_Comm_split in " + what(); });
  // Every member makes its control channel now (a collective over the new communicator), before
  // any of them can learn of a failure and leave.
  std::unique_ptr<Communicator> child;
  if (split != MPI_COMM_NULL) child.reset(new MpiCommunicator(mpi_backend::make_child_state(state_, split)));
  if (state_->failure) throw rank_failed(*state_->failure);
  return child;
}

void MpiCommunicator::do_abort(const std::string& reason) {
  mpi_backend::mark_failed(*state_, Failure{rank_, 0, reason});
}

}  // namespace parafit
