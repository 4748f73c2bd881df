// Every collective, with every element type it takes (and every reduce op), at sizes 0, 1, 7 and
// 10^6 elements, uneven counts included.
#include <algorithm>
#include <chrono>
#include <thread>

#include "conformance.h"

namespace parafit::conformance {
namespace {

using Clock = std::chrono::steady_clock;

template <class T>
const char* type_name() {
  return to_string(DataTypeOf<T>::value);
}

// op over the ranks' value<T>(r, i).
template <class T>
T reduced(int ranks, std::size_t i, ReduceOp op) {
  auto result = value<std::int64_t>(0, i);
  for (int r = 1; r < ranks; ++r) {
    const auto v = value<std::int64_t>(r, i);
    result = op == ReduceOp::kSum ? result + v : op == ReduceOp::kMax ? std::max(result, v) : std::min(result, v);
  }
  return static_cast<T>(result);
}

std::string call(const char* name, const char* type, std::size_t n, const char* detail = nullptr) {
  return std::string(name) + "(" + type + " x " + std::to_string(n) + (detail ? std::string(", ") + detail : "") + ")";
}

template <class T>
void check_allreduce(Communicator& comm, ReduceOp op) {
  for (std::size_t n : kSizes) {
    std::vector<T> v = values<T>(comm.rank(), n);
    comm.allreduce(v, op);
    require_each<T>(v, [&](std::size_t i) { return reduced<T>(comm.size(), i, op); }, comm,
                    call("allreduce", type_name<T>(), n, to_string(op)));
  }
}

// Half the sizes wait, the other half poll test() until it says done.
template <class T>
void check_iallreduce(Communicator& comm, ReduceOp op) {
  for (std::size_t k = 0; k < std::size(kSizes); ++k) {
    const std::size_t n = kSizes[k];
    std::vector<T> v = values<T>(comm.rank(), n);
    Work work = comm.iallreduce(std::span<T>(v), op);
    if (k % 2 == 0) {
      const auto give_up = Clock::now() + std::chrono::seconds(20);
      while (!work.test()) require(Clock::now() < give_up, comm, "iallreduce: test() never said done");
      require(work.test(), comm, "iallreduce: test() after done");
    }
    work.wait();
    require_each<T>(v, [&](std::size_t i) { return reduced<T>(comm.size(), i, op); }, comm,
                    call("iallreduce", type_name<T>(), n, to_string(op)));
  }
}

template <class T>
void check_allgather(Communicator& comm) {
  for (std::size_t n : kSizes) {
    const std::vector<T> mine = values<T>(comm.rank(), n);
    std::vector<T> all(n * std::size_t(comm.size()));
    comm.allgather<T>(mine, std::span<T>(all));
    require_each<T>(all, [&](std::size_t i) { return value<T>(int(i / n), i % n); }, comm,
                    call("allgather", type_name<T>(), n, "per rank"));
  }
}

// Counts per rank: uneven with zeros, all zero, one rank with 10^6, one each.
std::vector<std::vector<std::size_t>> count_patterns(int size) {
  std::vector<std::vector<std::size_t>> patterns(4, std::vector<std::size_t>(std::size_t(size)));
  for (int r = 0; r < size; ++r) {
    const auto i = std::size_t(r);
    patterns[0][i] = r % 3 == 1 ? 0 : std::size_t(2 * r + 1);
    patterns[1][i] = 0;
    patterns[2][i] = r == size - 1 ? 1'000'000 : 7;
    patterns[3][i] = 1;
  }
  if (size > 2) patterns[0][0] = 0;  // the first rank has none too
  return patterns;
}

std::string show_counts(const std::vector<std::size_t>& counts) {
  std::string text;
  for (std::size_t c : counts) text += (text.empty() ? "" : ",") + std::to_string(c);
  return "counts " + text;
}

template <class T>
void check_allgatherv(Communicator& comm) {
  for (const auto& counts : count_patterns(comm.size())) {
    const std::vector<T> mine = values<T>(comm.rank(), counts[std::size_t(comm.rank())]);
    std::vector<std::size_t> first(counts.size() + 1, 0);
    for (std::size_t r = 0; r < counts.size(); ++r) first[r + 1] = first[r] + counts[r];
    const auto expected = [&](std::size_t i) {
      const auto r = std::size_t(std::upper_bound(first.begin(), first.end(), i) - first.begin()) - 1;
      return value<T>(int(r), i - first[r]);
    };
    std::vector<T> all(first.back());
    comm.allgatherv<T>(mine, std::span<T>(all), counts);
    const std::string what = std::string("allgatherv(") + type_name<T>() + ", " + show_counts(counts) + ")";
    require_each<T>(all, expected, comm, what);
    // The overload that gathers the counts first.
    std::vector<std::size_t> gathered;
    const std::vector<T> again = comm.allgatherv(mine, &gathered);
    require_equal<std::size_t>(gathered, counts, comm, what + " (counts gathered)");
    require_each<T>(again, expected, comm, what + " (counts gathered)");
  }
}

template <class T>
void check_reduce_scatter(Communicator& comm, ReduceOp op) {
  auto patterns = count_patterns(comm.size());
  patterns.push_back(std::vector<std::size_t>(std::size_t(comm.size()), 1'000'000 / std::size_t(comm.size())));
  for (const auto& counts : patterns) {
    std::size_t total = 0, offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      if (int(r) == comm.rank()) offset = total;
      total += counts[r];
    }
    const std::vector<T> in = values<T>(comm.rank(), total);
    std::vector<T> out(counts[std::size_t(comm.rank())]);
    comm.reduce_scatter<T>(in, std::span<T>(out), counts, op);
    require_each<T>(out, [&](std::size_t i) { return reduced<T>(comm.size(), offset + i, op); }, comm,
                    std::string("reduce_scatter(") + type_name<T>() + ", " + show_counts(counts) + ", " +
                        to_string(op) + ")");
  }
}

template <class T>
void check_broadcast(Communicator& comm) {
  for (int root = 0; root < comm.size(); ++root) {
    for (std::size_t n : kSizes) {
      std::vector<T> data = comm.rank() == root ? values<T>(root, n) : values<T>(comm.rank() + 100, n);
      comm.broadcast(data, root);
      require_each<T>(data, [&](std::size_t i) { return value<T>(root, i); }, comm,
                      call("broadcast", type_name<T>(), n, ("root " + std::to_string(root)).c_str()));
    }
  }
}

// The ranks that wait at a barrier for a late rank wait until it comes; then many in a row. (A
// first barrier lines the ranks up, so that the wait is measured from about the same moment.)
void check_barrier(Communicator& comm) {
  for (int late : {0, comm.size() - 1}) {
    comm.barrier();
    const auto start = Clock::now();
    if (comm.rank() == late) std::this_thread::sleep_for(std::chrono::milliseconds(80));
    comm.barrier();
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    require(waited >= 0.04, comm,
            "barrier returned after " + std::to_string(waited) + " s, before rank " + std::to_string(late) +
                " (80 ms late) arrived");
  }
  for (int i = 0; i < 200; ++i) comm.barrier();
}

template <class T>
void add_reductions(std::vector<ConformanceCheck>& checks) {
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin}) {
    const std::string suffix = std::string(type_name<T>()) + "_" + to_string(op);
    checks.push_back({"allreduce_" + suffix, 1, [op](Communicator& c) { check_allreduce<T>(c, op); }});
    checks.push_back({"iallreduce_" + suffix, 1, [op](Communicator& c) { check_iallreduce<T>(c, op); }});
    checks.push_back({"reduce_scatter_" + suffix, 1, [op](Communicator& c) { check_reduce_scatter<T>(c, op); }});
  }
}

template <class T>
void add_copies(std::vector<ConformanceCheck>& checks) {
  const std::string type = type_name<T>();
  checks.push_back({"allgather_" + type, 1, check_allgather<T>});
  checks.push_back({"allgatherv_" + type, 1, check_allgatherv<T>});
  checks.push_back({"broadcast_" + type, 1, check_broadcast<T>});
}

}  // namespace

void add_collective_checks(std::vector<ConformanceCheck>& checks) {
  add_reductions<std::int64_t>(checks);
  add_reductions<float>(checks);
  add_reductions<double>(checks);
  add_copies<std::byte>(checks);
  add_copies<std::int64_t>(checks);
  add_copies<float>(checks);
  add_copies<double>(checks);
  checks.push_back({"barrier", 1, check_barrier});
}

}  // namespace parafit::conformance
