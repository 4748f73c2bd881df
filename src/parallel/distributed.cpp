#include "parafit/distributed.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "parafit/error.h"

namespace parafit {
namespace {

std::span<std::byte> bytes_of(std::vector<double>& v) {
  return {reinterpret_cast<std::byte*>(v.data()), v.size() * sizeof(double)};
}

}  // namespace

void agree_or_throw(Communicator& comm, const std::string& error, Error::Kind kind) {
  if (comm.size() == 1) {
    if (!error.empty()) throw Error(error, kind);
    return;
  }
  // Which ranks failed, how long their messages are and of which kind: 2 * (length + 1) + usage
  // (0: this rank did not fail).
  const std::int64_t mine =
      error.empty() ? 0 : 2 * (std::int64_t(error.size()) + 1) + (kind == Error::Kind::kUsage ? 1 : 0);
  std::vector<std::int64_t> failed(std::size_t(comm.size()));
  comm.allgather<std::int64_t>(std::span(&mine, 1), std::span(failed));
  const auto first = std::find_if(failed.begin(), failed.end(), [](std::int64_t n) { return n != 0; });
  if (first == failed.end()) return;
  const int root = int(first - failed.begin());
  std::string message = comm.rank() == root ? error : std::string(std::size_t(*first / 2 - 1), '\0');
  comm.broadcast(std::as_writable_bytes(std::span(message)), root);
  const auto others = std::count_if(failed.begin(), failed.end(), [](std::int64_t n) { return n != 0; }) - 1;
  throw AgreedError(fmt::format("rank {}: {}{}", root, message,
                                others > 0 ? fmt::format(" (and {} other rank(s) failed)", others) : ""),
                    *first % 2 == 1 ? Error::Kind::kUsage : Error::Kind::kData);
}

namespace {

// Every rank's row count, in rank order.
std::vector<std::size_t> rows_per_rank(Communicator& comm, std::size_t local_rows) {
  const std::int64_t mine = std::int64_t(local_rows);
  std::vector<std::int64_t> counts(std::size_t(comm.size()));
  comm.allgather<std::int64_t>(std::span(&mine, 1), std::span(counts));
  return std::vector<std::size_t>(counts.begin(), counts.end());
}

// Global row index of rank r's first row, for r = 0..size (the last entry is the total).
std::vector<std::size_t> first_rows(std::span<const std::size_t> counts) {
  std::vector<std::size_t> first(counts.size() + 1, 0);
  for (std::size_t r = 0; r < counts.size(); ++r) first[r + 1] = first[r] + counts[r];
  return first;
}

}  // namespace

RowLayout row_layout(Communicator& comm, std::size_t local_rows) {
  const std::vector<std::size_t> first = first_rows(rows_per_rank(comm, local_rows));
  return RowLayout{first[std::size_t(comm.rank())], first.back()};
}

namespace {
void move_rows(Dataset& local, Communicator& comm, std::span<const std::size_t> have,
               std::span<const std::size_t> want);
}  // namespace

void align_to_chunks(Dataset& local, Communicator& comm, std::size_t chunk_rows) {
  const int size = comm.size();
  if (size == 1) return;
  const std::vector<std::size_t> have = first_rows(rows_per_rank(comm, local.rows()));
  std::vector<std::size_t> want(std::size_t(size) + 1, 0);
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
  const std::vector<std::size_t> have = first_rows(rows_per_rank(comm, local.rows()));
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
  const std::vector<std::size_t> first = first_rows(rows_per_rank(comm, local_rows));
  const std::size_t total = first.back();
  const std::size_t m = std::min(max_rows, total);
  const std::size_t columns = local_columns.size();
  // Sample i is global row floor(i * total / m) (i < m <= max_rows keeps the product small). The
  // rows grow with i and every rank holds a contiguous range of them, so rank r holds the samples
  // [begin(r), begin(r + 1)), and gathering each rank's samples in rank order gives them all in
  // order: the same doubles, bit for bit, whatever the number of ranks.
  const auto begin = [&](std::size_t r) {  // the first sample whose row is at or after first[r]
    return first[r] == 0 ? 0 : std::min(m, (first[r] * m + total - 1) / total);
  };
  const std::size_t ranks = std::size_t(comm.size()), me = std::size_t(comm.rank());
  std::vector<std::size_t> counts(ranks);
  for (std::size_t r = 0; r < ranks; ++r) counts[r] = (begin(r + 1) - begin(r)) * columns;
  std::vector<double> mine;  // row-major: this rank's samples, each with every column
  mine.reserve(counts[me]);
  for (std::size_t i = begin(me); i < begin(me + 1); ++i)
    for (std::size_t c = 0; c < columns; ++c) mine.push_back(local_columns[c][i * total / m - first[me]]);
  std::vector<double> all(m * columns);
  comm.allgatherv<double>(std::span(mine), std::span(all), std::span(counts));
  std::vector<std::vector<double>> sample(columns, std::vector<double>(m));
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t c = 0; c < columns; ++c) sample[c][i] = all[i * columns + c];
  return sample;
}

}  // namespace parafit
