// Checks MpiCommunicator under mpirun (any number of processes): collectives, point-to-point, an
// MPI error turned into parafit::Error, and chunked_sum over ranks equal, bit for bit, to one
// process. Every rank checks its own values; the failure counts are summed so that every rank exits
// with the same status: 0 when all passed, 1 otherwise. An unexpected exception aborts the run.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "parafit/context.h"
#include "parafit/error.h"
#include "parafit/mpi_communicator.h"

namespace {

int failures = 0;
int my_rank = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "rank %d: FAILED: %s\n", my_rank, what.c_str());
  }
}

void check_allreduce(parafit::Communicator& comm) {
  const std::int64_t r = comm.rank();
  const std::int64_t n = comm.size();
  // Large values: the int64 sum must be exact beyond 2^53.
  std::vector<std::int64_t> ints{r + 1, -r, (std::int64_t{1} << 60) + r, 0};
  comm.allreduce_sum(ints);
  expect(ints[0] == n * (n + 1) / 2, "allreduce int64 [0] = " + std::to_string(ints[0]));
  expect(ints[1] == -n * (n - 1) / 2, "allreduce int64 [1] = " + std::to_string(ints[1]));
  expect(ints[2] == n * (std::int64_t{1} << 60) + n * (n - 1) / 2,
         "allreduce int64 [2] = " + std::to_string(ints[2]));
  expect(ints[3] == 0, "allreduce int64 [3] = " + std::to_string(ints[3]));

  // Exactly representable partial sums: the same result in any order.
  std::vector<double> doubles{0.5 * double(r + 1), -1.0, double(r) * 0.25};
  comm.allreduce_sum(doubles);
  expect(doubles[0] == 0.25 * double(n * (n + 1)),
         "allreduce double [0] = " + std::to_string(doubles[0]));
  expect(doubles[1] == -double(n), "allreduce double [1] = " + std::to_string(doubles[1]));
  expect(doubles[2] == 0.125 * double(n * (n - 1)),
         "allreduce double [2] = " + std::to_string(doubles[2]));

  std::vector<std::int64_t> none;
  comm.allreduce_sum(none);  // zero elements: fine, and still in step with the other ranks
}

void check_broadcast(parafit::Communicator& comm) {
  for (int root = 0; root < comm.size(); ++root) {
    std::vector<std::byte> data(37);
    for (std::size_t i = 0; i < data.size(); ++i) {
      data[i] = comm.rank() == root ? std::byte(static_cast<unsigned char>(i * 7 + root))
                                    : std::byte{0xEE};
    }
    comm.broadcast(data, root);
    bool ok = true;
    for (std::size_t i = 0; i < data.size(); ++i) {
      ok = ok && data[i] == std::byte(static_cast<unsigned char>(i * 7 + root));
    }
    expect(ok, "broadcast from root " + std::to_string(root));
  }
  comm.barrier();
}

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
  return std::as_bytes(std::span(v));
}
template <class T>
std::span<std::byte> bytes_of(std::vector<T>& v) {
  return std::as_writable_bytes(std::span(v));
}

// Rank 0 sends each other rank two messages with different tags; each answers with what it got
// plus its rank. Every receive is posted in the order of the sends, so no buffering is assumed.
void check_point_to_point(parafit::Communicator& comm) {
  if (comm.size() < 2) return;
  const int n = comm.size();
  if (comm.rank() == 0) {
    for (int dest = 1; dest < n; ++dest) {
      const std::vector<double> first{1.5 * dest, -2.0};
      const std::vector<std::int64_t> second{dest, dest * 100, -7};
      comm.send(bytes_of(first), dest, 11);
      comm.send(bytes_of(second), dest, 12);
    }
    for (int source = 1; source < n; ++source) {
      std::vector<std::int64_t> answer(4);
      comm.recv(bytes_of(answer), source, 13);
      expect(answer == std::vector<std::int64_t>{source, source * 100, -7, source},
             "answer from rank " + std::to_string(source));
    }
  } else {
    const int r = comm.rank();
    std::vector<double> first(2);
    std::vector<std::int64_t> second(3);
    comm.recv(bytes_of(first), 0, 11);
    comm.recv(bytes_of(second), 0, 12);
    expect(first == std::vector<double>{1.5 * r, -2.0},
           "first message on rank " + std::to_string(r));
    expect(second == std::vector<std::int64_t>{r, r * 100, -7},
           "second message on rank " + std::to_string(r));
    std::vector<std::int64_t> answer = second;
    answer.push_back(r);
    comm.send(bytes_of(answer), 0, 13);
  }
  comm.barrier();
}

// MPI errors come back as parafit::Error with MPI's message, not as an abort.
void check_errors(parafit::Communicator& comm) {
  const std::vector<double> one{1.0};
  try {
    comm.send(bytes_of(one), comm.size() + 5, 1);
    expect(false, "send to a rank that does not exist did not throw");
  } catch (const parafit::Error& e) {
    expect(std::string(e.what()).find("MPI_Send") != std::string::npos,
           std::string("unexpected message: ") + e.what());
  }
}

// Each rank computes only its share of the chunks (round-robin); the ExactSum limbs are summed
// across ranks, and the result must equal one process computing every chunk, bit for bit.
void check_chunked_sum(parafit::Communicator& comm) {
  const std::size_t rows = 100'003;
  std::vector<double> data(rows);
  for (std::size_t i = 0; i < rows; ++i)
    data[i] = std::sin(double(i)) * std::exp(double(i % 23) - 11.0);
  parafit::Context ctx;
  ctx.threads = 2;
  ctx.chunk_rows = 1000;
  const auto sums = [&](bool mine_only) {
    return [&, mine_only](std::size_t b, std::size_t e, std::span<double> p) {
      if (mine_only && (b / ctx.chunk_rows) % std::size_t(comm.size()) != std::size_t(comm.rank()))
        return;
      for (std::size_t i = b; i < e; ++i) {
        p[0] += data[i];
        p[1] += data[i] * data[i];
        p[2] += 1e250 * data[i];
      }
    };
  };
  const std::vector<double> single = parafit::chunked_sum(ctx, rows, 3, sums(false));
  ctx.communicator = &comm;
  const std::vector<double> distributed = parafit::chunked_sum(ctx, rows, 3, sums(true));
  for (std::size_t k = 0; k < single.size(); ++k) {
    expect(std::memcmp(&single[k], &distributed[k], sizeof(double)) == 0,
           "chunked_sum [" + std::to_string(k) + "]: " + std::to_string(distributed[k]) +
               " != " + std::to_string(single[k]));
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    parafit::MpiSession session(argc, argv);
    int status = 0;
    {
      parafit::MpiCommunicator comm;
      my_rank = comm.rank();
      int world_size = 0;
      MPI_Comm_size(MPI_COMM_WORLD, &world_size);
      expect(comm.size() == world_size, "size " + std::to_string(comm.size()));
      try {
        check_allreduce(comm);
        check_broadcast(comm);
        check_point_to_point(comm);
        check_errors(comm);
        check_chunked_sum(comm);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: unexpected exception: %s\n", my_rank, e.what());
        comm.abort(2);
      }
      std::vector<std::int64_t> total{failures};
      comm.allreduce_sum(total);
      if (comm.rank() == 0) {
        std::printf("mpi_communicator_check: %d ranks, %lld failures\n", comm.size(),
                    static_cast<long long>(total[0]));
      }
      status = total[0] == 0 ? 0 : 1;
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", my_rank, e.what());
    return 3;
  }
}
