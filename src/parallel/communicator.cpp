// The parts of Communicator every backend shares: names, Work handles, the argument checks of the
// public calls, and the count exchange of allgatherv.
#include "parafit/communicator.h"

#include <fmt/format.h>

#include <numeric>

namespace parafit {

// A rank outside the communicator (a failure inherited from the communicator it was split from) has
// no number here: backends pass -1 and a reason that names the rank where it has one.
RankFailed::RankFailed(int failed_rank, const std::string& reason, bool after_timeout)
    : Error(failed_rank >= 0 ? fmt::format("rank {} failed: {}", failed_rank, reason) : reason),
      failed_rank_(failed_rank),
      reason_(reason),
      after_timeout_(after_timeout) {}

const char* to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kMin:
      return "min";
  }
  return "?";
}

const char* to_string(DataType type) {
  switch (type) {
    case DataType::kByte:
      return "byte";
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat32:
      return "float";
    case DataType::kFloat64:
      return "double";
  }
  return "?";
}

std::size_t size_of(DataType type) {
  switch (type) {
    case DataType::kByte:
      return 1;
    case DataType::kInt64:
      return sizeof(std::int64_t);
    case DataType::kFloat32:
      return sizeof(float);
    case DataType::kFloat64:
      return sizeof(double);
  }
  return 0;
}

Work& Work::operator=(Work&& other) noexcept {
  if (this != &other) {
    Work finished(std::move(*this));  // waits for the operation this handle held
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Work::~Work() {
  if (!impl_) return;
  try {
    impl_->wait();
  } catch (...) {
    // Documented: a destroyed handle swallows its operation's error; wait() shows it.
  }
}

bool Work::test() { return impl_ ? impl_->test() : true; }

void Work::wait() {
  if (impl_) impl_->wait();
}

Work Communicator::isend(std::span<const std::byte> data, int destination, int tag) {
  check_peer(destination, "isend to");
  if (tag < 0 || tag >= kMaxTag)
    throw Error(fmt::format("isend to rank {}: tag {} is outside [0, {})", destination, tag, kMaxTag));
  ++stats_.messages_sent;
  stats_.bytes_sent += data.size();
  return do_isend(data, destination, tag);
}

Work Communicator::irecv(std::span<std::byte> data, int source, int tag) {
  check_peer(source, "irecv from");
  if (tag < 0 || tag >= kMaxTag)
    throw Error(fmt::format("irecv from rank {}: tag {} is outside [0, {})", source, tag, kMaxTag));
  return do_irecv(data, source, tag);
}

std::vector<std::size_t> Communicator::gather_counts(std::size_t mine) {
  const std::int64_t count = static_cast<std::int64_t>(mine);
  std::vector<std::int64_t> all(static_cast<std::size_t>(size()));
  allgather<std::int64_t>(std::span<const std::int64_t>(&count, 1), std::span<std::int64_t>(all));
  return std::vector<std::size_t>(all.begin(), all.end());
}

void Communicator::check_peer(int peer, const char* what) const {
  if (peer < 0 || peer >= size())
    throw Error(fmt::format("{} rank {}: no such rank (size {})", what, peer, size()));
}

void Communicator::check_allgather(std::size_t mine, std::size_t all) const {
  const std::size_t ranks = static_cast<std::size_t>(size());
  if (all != mine * ranks)
    throw Error(fmt::format("allgather: {} element(s) from each of {} ranks need {} in `all`, not {}", mine,
                            ranks, mine * ranks, all));
}

namespace {

// The checks of a call whose ranks contribute or receive counts[r] elements each.
std::size_t checked_total(const char* call, std::span<const std::size_t> counts, int size) {
  if (counts.size() != static_cast<std::size_t>(size))
    throw Error(fmt::format("{}: {} counts for {} ranks", call, counts.size(), size));
  return std::accumulate(counts.begin(), counts.end(), std::size_t{0});
}

}  // namespace

void Communicator::check_allgatherv(std::size_t mine, std::size_t all,
                                    std::span<const std::size_t> counts) const {
  const std::size_t total = checked_total("allgatherv", counts, size());
  const std::size_t expected = counts[static_cast<std::size_t>(rank())];
  if (mine != expected)
    throw Error(fmt::format("allgatherv: rank {} passes {} element(s) but counts[{}] is {}", rank(), mine,
                            rank(), expected));
  if (all != total)
    throw Error(fmt::format("allgatherv: the counts add up to {} element(s) but `all` has {}", total, all));
}

void Communicator::check_reduce_scatter(std::size_t in, std::size_t out,
                                        std::span<const std::size_t> counts) const {
  const std::size_t total = checked_total("reduce_scatter", counts, size());
  if (in != total)
    throw Error(fmt::format("reduce_scatter: the counts add up to {} element(s) but `in` has {}", total, in));
  const std::size_t expected = counts[static_cast<std::size_t>(rank())];
  if (out != expected)
    throw Error(fmt::format("reduce_scatter: rank {} receives counts[{}] = {} element(s) but `out` has {}",
                            rank(), rank(), expected, out));
}

}  // namespace parafit
