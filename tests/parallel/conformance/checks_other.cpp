// Argument checks, statistics, nonblocking collectives overlapping everything else, and the exact
// sums of chunked_sum across ranks.
#include <cmath>
#include <cstring>

#include "conformance.h"
#include "parafit/context.h"

namespace parafit::conformance {
namespace {

// Arguments that are wrong on this rank alone throw Error at once, and leave the communicator
// usable.
void check_argument_errors(Communicator& comm) {
  const auto n = std::size_t(comm.size());
  const std::vector<double> three(3, 1.0);
  std::vector<double> out(3 * n + 1);
  std::vector<std::byte> bytes(4);
  const auto wrong = [&](const std::function<void()>& f, const std::string& what) { require_error(comm, f, what); };
  wrong([&] { comm.allgather<double>(three, std::span(out)); }, "allgather into a buffer of the wrong size");
  wrong([&] { comm.allgatherv<double>(three, std::span(out), std::vector<std::size_t>(n + 1, 3)); },
        "allgatherv with a count too many");
  wrong([&] { comm.allgatherv<double>(three, std::span(out).first(3 * n), std::vector<std::size_t>(n, 2)); },
        "allgatherv with counts[rank] unlike `mine`");
  wrong([&] { comm.allgatherv<double>(three, std::span(out), std::vector<std::size_t>(n, 3)); },
        "allgatherv into a buffer of the wrong size");
  wrong([&] { comm.reduce_scatter<double>(three, std::span(out).first(4), std::vector<std::size_t>(n, 4)); },
        "reduce_scatter with `in` unlike the counts");
  wrong(
      [&] {
        comm.reduce_scatter<double>(std::span(out).first(2 * n), std::span(out).first(1),
                                    std::vector<std::size_t>(n, 2));
      },
      "reduce_scatter with `out` unlike counts[rank]");
  std::vector<double> data(2);
  wrong([&] { comm.broadcast(data, comm.size()); }, "broadcast from a root that does not exist");
  wrong([&] { comm.broadcast(data, -1); }, "broadcast from root -1");
  wrong([&] { comm.isend(bytes, comm.size(), 0); }, "isend to a rank that does not exist");
  wrong([&] { comm.isend(bytes, 0, -1); }, "isend with tag -1");
  wrong([&] { comm.isend(bytes, 0, Communicator::kMaxTag); }, "isend with tag kMaxTag");
  wrong([&] { comm.irecv(bytes, -1, 0); }, "irecv from rank -1");
  std::vector<std::int64_t> one{1};
  comm.allreduce(one);
  require(one[0] == comm.size(), comm, "allreduce after the errors");
}

void check_stats(Communicator& comm) {
  const CommunicatorStats before = comm.stats();
  std::vector<double> three(3, 1.0);
  comm.allreduce(three);
  comm.barrier();
  const std::vector<std::byte> five(5);
  std::vector<std::byte> in(5);
  Work receive = comm.irecv(in, comm.rank(), 1);
  comm.isend(five, comm.rank(), 1).wait();
  receive.wait();
  const CommunicatorStats after = comm.stats();
  require(after.collectives - before.collectives == 2, comm,
          "collectives counted: " + std::to_string(after.collectives - before.collectives) + ", expected 2");
  require(after.collective_bytes - before.collective_bytes == 24, comm,
          "collective bytes counted: " + std::to_string(after.collective_bytes - before.collective_bytes));
  require(after.messages_sent - before.messages_sent == 1 && after.bytes_sent - before.bytes_sent == 5, comm,
          "messages counted: " + std::to_string(after.messages_sent - before.messages_sent) + ", bytes " +
              std::to_string(after.bytes_sent - before.bytes_sent));
}

// Nonblocking allreduces in flight while blocking collectives, messages and other nonblocking
// allreduces run, waited out of order.
void check_overlap(Communicator& comm) {
  const int n = comm.size(), me = comm.rank();
  std::vector<double> a = values<double>(me, 1000);
  Work wa = comm.iallreduce(std::span(a));
  std::vector<std::int64_t> b = values<std::int64_t>(me, 7);
  comm.allreduce(b, ReduceOp::kMax);
  std::vector<float> c = values<float>(me, 3);
  comm.broadcast(c, n - 1);
  std::vector<std::int64_t> d = values<std::int64_t>(me, 100);
  Work wd = comm.iallreduce(std::span(d), ReduceOp::kMin);
  const std::vector<std::byte> out = values<std::byte>(me, 33);
  std::vector<std::byte> in(33);
  Work receive = comm.irecv(in, (me + n - 1) % n, 0);
  comm.send(out, (me + 1) % n, 0);
  std::vector<Work> many;
  std::vector<std::vector<double>> buffers(10);
  for (std::size_t k = 0; k < buffers.size(); ++k) {
    buffers[k] = values<double>(me + int(k), 50);
    many.push_back(comm.iallreduce(std::span(buffers[k])));
  }
  comm.barrier();
  for (std::size_t k = many.size(); k-- > 0;) many[k].wait();
  wd.wait();
  receive.wait();
  wa.wait();
  const auto over_ranks = [&](std::size_t i, ReduceOp op, int shift) {
    std::int64_t r = value<std::int64_t>(shift, i);
    for (int q = 1; q < n; ++q) {
      const auto v = value<std::int64_t>(q + shift, i);
      r = op == ReduceOp::kSum ? r + v : op == ReduceOp::kMax ? std::max(r, v) : std::min(r, v);
    }
    return r;
  };
  require_each<double>(a, [&](std::size_t i) { return double(over_ranks(i, ReduceOp::kSum, 0)); }, comm, "iallreduce a");
  require_each<std::int64_t>(b, [&](std::size_t i) { return over_ranks(i, ReduceOp::kMax, 0); }, comm, "allreduce b");
  require_each<float>(c, [&](std::size_t i) { return value<float>(n - 1, i); }, comm, "broadcast c");
  require_each<std::int64_t>(d, [&](std::size_t i) { return over_ranks(i, ReduceOp::kMin, 0); }, comm, "iallreduce d");
  require_each<std::byte>(in, [&](std::size_t i) { return value<std::byte>((me + n - 1) % n, i); }, comm, "message");
  for (std::size_t k = 0; k < buffers.size(); ++k)
    require_each<double>(buffers[k], [&](std::size_t i) { return double(over_ranks(i, ReduceOp::kSum, int(k))); },
                         comm, "iallreduce " + std::to_string(k) + " of 10 in flight");
}

// Each rank computes only its share of the chunks (round-robin); the ExactSum limbs are summed
// across ranks, and the result equals one process computing every chunk, bit for bit.
void check_chunked_sum(Communicator& comm) {
  const std::size_t rows = 100'003;
  std::vector<double> data(rows);
  for (std::size_t i = 0; i < rows; ++i) data[i] = std::sin(double(i)) * std::exp(double(i % 23) - 11.0);
  Context ctx;
  ctx.threads = 1 + comm.rank() % 2;
  ctx.chunk_rows = 1000;
  const auto sums = [&](bool mine_only) {
    return [&, mine_only](std::size_t b, std::size_t e, std::span<double> p) {
      if (mine_only && (b / ctx.chunk_rows) % std::size_t(comm.size()) != std::size_t(comm.rank())) return;
      for (std::size_t i = b; i < e; ++i) {
        p[0] += data[i];
        p[1] += data[i] * data[i];
        p[2] += 1e250 * data[i];
      }
    };
  };
  const std::vector<double> single = chunked_sum(ctx, rows, 3, sums(false));
  ctx.communicator = &comm;
  const std::vector<double> distributed = chunked_sum(ctx, rows, 3, sums(true));
  for (std::size_t k = 0; k < single.size(); ++k)
    require(std::memcmp(&single[k], &distributed[k], sizeof(double)) == 0, comm,
            "chunked_sum [" + std::to_string(k) + "]: " + show(distributed[k]) + " across ranks, " + show(single[k]) +
                " in one process");
}

}  // namespace

void add_other_checks(std::vector<ConformanceCheck>& checks) {
  checks.push_back({"argument_errors", 1, check_argument_errors});
  checks.push_back({"stats_count_calls", 1, check_stats});
  checks.push_back({"iallreduce_overlaps_everything", 1, check_overlap});
  checks.push_back({"chunked_sum_across_ranks_is_exact", 1, check_chunked_sum});
}

}  // namespace parafit::conformance
