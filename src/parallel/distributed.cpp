#include "parafit/distributed.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "parafit/error.h"

namespace parafit {
namespace {

std::span<std::byte> bytes_of(std::vector<double>& v) {
  return {reinterpret_cast<std::byte*>(v.data()), v.size() * sizeof(double)};
}

}  // namespace

void agree_or_throw(Communicator& comm, const std::string& error) {
  if (comm.size() == 1) {
    if (!error.empty()) throw Error(error);
    return;
  }
  // One slot per rank: which ranks failed, and how long their messages are.
  std::vector<std::int64_t> failed(std::size_t(comm.size()), 0);
  failed[std::size_t(comm.rank())] = error.empty() ? 0 : std::int64_t(error.size()) + 1;
  comm.allreduce_sum(failed);
  const auto first = std::find_if(failed.begin(), failed.end(), [](std::int64_t n) { return n != 0; });
  if (first == failed.end()) return;
  const int root = int(first - failed.begin());
  std::string message = comm.rank() == root ? error : std::string(std::size_t(*first - 1), '\0');
  comm.broadcast({reinterpret_cast<std::byte*>(message.data()), message.size()}, root);
  const auto others = std::count_if(failed.begin(), failed.end(), [](std::int64_t n) { return n != 0; }) - 1;
  throw AgreedError(fmt::format("rank {}: {}{}", root, message,
                          others > 0 ? fmt::format(" (and {} other rank(s) failed)", others) : ""));
}

RowLayout row_layout(Communicator& comm, std::size_t local_rows) {
  std::vector<std::int64_t> counts(std::size_t(comm.size()), 0);
  counts[std::size_t(comm.rank())] = std::int64_t(local_rows);
  comm.allreduce_sum(counts);
  RowLayout layout;
  for (int r = 0; r < comm.size(); ++r) {
    if (r < comm.rank()) layout.offset += std::size_t(counts[std::size_t(r)]);
    layout.total += std::size_t(counts[std::size_t(r)]);
  }
  return layout;
}

namespace {
void move_rows(Dataset& local, Communicator& comm, std::span<const std::size_t> have,
               std::span<const std::size_t> want);
}  // namespace

void align_to_chunks(Dataset& local, Communicator& comm, std::size_t chunk_rows) {
  const int size = comm.size();
  if (size == 1) return;
  std::vector<std::int64_t> counts(std::size_t(size), 0);
  counts[std::size_t(comm.rank())] = std::int64_t(local.rows());
  comm.allreduce_sum(counts);
  std::vector<std::size_t> have(std::size_t(size) + 1, 0), want(std::size_t(size) + 1, 0);
  for (int r = 0; r < size; ++r) have[std::size_t(r) + 1] = have[std::size_t(r)] + std::size_t(counts[std::size_t(r)]);
  const std::size_t total = have.back();
  for (int r = 1; r < size; ++r)
    want[std::size_t(r)] = std::min(total, (have[std::size_t(r)] + chunk_rows - 1) / chunk_rows * chunk_rows);
  want.back() = total;
  for (int r = 1; r < size; ++r) want[std::size_t(r)] = std::max(want[std::size_t(r)], want[std::size_t(r) - 1]);
  if (have == want) return;
  move_rows(local, comm, have, want);
}

void redistribute_rows(Dataset& local, Communicator& comm, std::span<const std::size_t> want) {
  const int size = comm.size();
  if (want.size() != std::size_t(size) + 1) throw Error("redistribute_rows: want needs size() + 1 bounds");
  std::vector<std::int64_t> counts(std::size_t(size), 0);
  counts[std::size_t(comm.rank())] = std::int64_t(local.rows());
  comm.allreduce_sum(counts);
  std::vector<std::size_t> have(std::size_t(size) + 1, 0);
  for (int r = 0; r < size; ++r) have[std::size_t(r) + 1] = have[std::size_t(r)] + std::size_t(counts[std::size_t(r)]);
  if (want.front() != 0 || want.back() != have.back())
    throw Error(fmt::format("redistribute_rows: bounds cover rows [{}, {}) but the ranks hold {}", want.front(),
                            want.back(), have.back()));
  if (std::equal(have.begin(), have.end(), want.begin())) return;
  move_rows(local, comm, have, want);
}

namespace {

// Rank r holds global rows [have[r], have[r+1]) and is to hold [want[r], want[r+1]).
void move_rows(Dataset& local, Communicator& comm, std::span<const std::size_t> have,
               std::span<const std::size_t> want) {
  const int size = comm.size();
  const std::size_t me = std::size_t(comm.rank());
  const std::vector<std::string> names = local.names();
  std::vector<std::vector<double>> old = local.release_columns();
  Dataset aligned;
  aligned.set_source(local.source());
  // Column by column, freeing each old column once its new one is built: the rank never holds
  // more than its rows plus one column. Only the rows that change rank travel. Every (column, source, destination) step with overlapping ranges
  // is walked by all ranks in the same order: the first unfinished step always has both of its
  // ranks waiting on it, so blocking sends and receives cannot deadlock.
  for (std::size_t c = 0; c < old.size(); ++c) {
    std::vector<double> out;
    out.reserve(want[me + 1] - want[me]);
    for (std::size_t src = 0; src < std::size_t(size); ++src) {
      for (std::size_t dst = 0; dst < std::size_t(size); ++dst) {
        const std::size_t lo = std::max(have[src], want[dst]), hi = std::min(have[src + 1], want[dst + 1]);
        if (lo >= hi || (src != me && dst != me)) continue;
        if (src == me && dst == me) {
          const auto first = old[c].begin() + std::ptrdiff_t(lo - have[src]);
          out.insert(out.end(), first, first + std::ptrdiff_t(hi - lo));
        } else if (src == me) {
          std::vector<double> slice(old[c].begin() + std::ptrdiff_t(lo - have[src]),
                                    old[c].begin() + std::ptrdiff_t(hi - have[src]));
          comm.send(bytes_of(slice), int(dst), int(c));
        } else {
          std::vector<double> slice(hi - lo);
          comm.recv(bytes_of(slice), int(src), int(c));
          out.insert(out.end(), slice.begin(), slice.end());
        }
      }
    }
    std::vector<double>().swap(old[c]);
    aligned.add_column(names[c], std::move(out));
  }
  local = std::move(aligned);
}

}  // namespace

std::vector<std::vector<double>> global_sample(const std::vector<std::span<const double>>& local_columns,
                                               Communicator& comm, std::size_t max_rows) {
  const std::size_t local_rows = local_columns.empty() ? 0 : local_columns.front().size();
  const RowLayout layout = row_layout(comm, local_rows);
  const std::size_t m = std::min(max_rows, layout.total);
  const std::size_t columns = local_columns.size();
  // Each sample slot is filled by the one rank that holds the row, as the bits of the double; the
  // others add zeros, so the integer sum reproduces those bits exactly (even -0.0 and NaN).
  std::vector<std::int64_t> bits(m * columns, 0);
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t row = i * layout.total / m;  // i < m <= max_rows keeps this product small
    if (row < layout.offset || row >= layout.offset + local_rows) continue;
    for (std::size_t c = 0; c < columns; ++c)
      std::memcpy(&bits[c * m + i], &local_columns[c][row - layout.offset], sizeof(double));
  }
  if (comm.size() > 1) comm.allreduce_sum(bits);
  std::vector<std::vector<double>> sample(columns, std::vector<double>(m));
  for (std::size_t c = 0; c < columns; ++c) std::memcpy(sample[c].data(), &bits[c * m], m * sizeof(double));
  return sample;
}

}  // namespace parafit
