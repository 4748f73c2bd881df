// The cost of each Communicator call under mpirun, for the alpha-beta model of how an iteration's
// cost grows with the number of ranks: time(n bytes) ~ alpha + beta * n. Run it as
//   mpirun -np 2 build/bench/bench_collectives
// For each call (allreduce sum and max, allgather, allgatherv, reduce_scatter, broadcast, barrier,
// an isend/irecv ping-pong, iallreduce + wait) it measures the median time per call through
// parafit's MpiCommunicator for messages of 8 B to 1 MiB (x4 steps; per rank: what each rank
// passes in), fits alpha and beta by least squares (relative errors) and prints them. Then the
// cost of the failure guard of blocking collectives (an MPI_Ibarrier before the blocking call, mpi_communicator.h):
// raw MPI_Allreduce and MPI_Barrier on the same communicator against MpiCommunicator's.
#include <fmt/format.h>

#ifdef PARAFIT_HAVE_MPI
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "parafit/mpi_communicator.h"

namespace {

using Clock = std::chrono::steady_clock;

// Median seconds per call of `call` (every rank calls it), rank 0's figure on every rank. A
// barrier before each call starts the ranks together.
double median_seconds(parafit::Communicator& comm, std::size_t bytes, const std::function<void()>& call) {
  const int reps = bytes <= 8192 ? 2000 : bytes <= 131072 ? 300 : 60;
  for (int i = 0; i < 10; ++i) call();  // warm up
  std::vector<double> samples;
  samples.reserve(std::size_t(reps));
  for (int rep = 0; rep < reps; ++rep) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t0 = Clock::now();
    call();
    samples.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::nth_element(samples.begin(), samples.begin() + reps / 2, samples.end());
  std::vector<double> median{samples[std::size_t(reps / 2)]};
  comm.broadcast(median, 0);
  return median[0];
}

struct Fit {
  double alpha = 0, beta = 0;
};

// Least squares for time = alpha + beta * bytes, each size weighted by 1 / time^2: the relative
// errors count alike, so that the 1 MiB messages (1000 times slower than 8 B) do not decide alpha
// alone — an unweighted fit can put alpha below zero.
Fit fit(const std::vector<double>& bytes, const std::vector<double>& seconds) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const double w = 1.0 / (seconds[i] * seconds[i]);
    sw += w, sx += w * bytes[i], sy += w * seconds[i], sxx += w * bytes[i] * bytes[i], sxy += w * bytes[i] * seconds[i];
  }
  const double beta = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
  return Fit{(sy - beta * sx) / sw, beta};
}

// A call measured at a message size: builds its buffers for `bytes` and returns the call.
using Bench = std::function<std::function<void()>(std::size_t bytes)>;

}  // namespace

int main(int argc, char** argv) {
  parafit::MpiSession session(argc, argv);
  parafit::MpiCommunicator comm;
  const int ranks = comm.size(), me = comm.rank();
  std::vector<std::size_t> sizes;
  for (std::size_t bytes = 8; bytes <= (1u << 20); bytes *= 4) sizes.push_back(bytes);
  sizes.push_back(1u << 20);

  // Buffers live here, resized per size (every rank alike).
  std::vector<double> a, b;
  std::vector<std::size_t> counts;
  const auto doubles = [](std::size_t bytes) { return std::max<std::size_t>(bytes / 8, 1); };
  const std::vector<std::pair<std::string, Bench>> benches = {
      {"allreduce sum double",
       [&](std::size_t bytes) {
         a.assign(doubles(bytes), 1.0);
         return std::function<void()>([&] { comm.allreduce(a); });
       }},
      {"allreduce max double",
       [&](std::size_t bytes) {
         a.assign(doubles(bytes), 1.0);
         return std::function<void()>([&] { comm.allreduce(a, parafit::ReduceOp::kMax); });
       }},
      {"allgather double",
       [&](std::size_t bytes) {
         a.assign(doubles(bytes), 1.0);
         b.assign(a.size() * std::size_t(ranks), 0.0);
         return std::function<void()>([&] { comm.allgather<double>(a, std::span(b)); });
       }},
      {"allgatherv double",
       [&](std::size_t bytes) {
         a.assign(doubles(bytes), 1.0);
         b.assign(a.size() * std::size_t(ranks), 0.0);
         counts.assign(std::size_t(ranks), a.size());
         return std::function<void()>([&] { comm.allgatherv<double>(a, std::span(b), counts); });
       }},
      {"reduce_scatter double",
       [&](std::size_t bytes) {  // `bytes` in, an equal share of them out
         a.assign(doubles(bytes), 1.0);
         counts.assign(std::size_t(ranks), 0);
         for (std::size_t i = 0; i < a.size(); ++i) ++counts[i % std::size_t(ranks)];
         b.assign(counts[std::size_t(me)], 0.0);
         return std::function<void()>([&] { comm.reduce_scatter<double>(a, std::span(b), counts); });
       }},
      {"broadcast double",
       [&](std::size_t bytes) {
         a.assign(doubles(bytes), 1.0);
         return std::function<void()>([&] { comm.broadcast(a, 0); });
       }},
      {"barrier", [&](std::size_t) { return std::function<void()>([&] { comm.barrier(); }); }},
      {"isend/irecv (one way)",
       [&](std::size_t bytes) {  // half a ping-pong between ranks 0 and 1
         a.assign(doubles(bytes), 1.0);
         b.assign(a.size(), 0.0);
         return std::function<void()>([&] {
           if (me > 1) return;
           const int other = 1 - me;
           const auto out = std::as_bytes(std::span(a));
           const auto in = std::as_writable_bytes(std::span(b));
           if (me == 0) {
             comm.send(out, other, 1);
             comm.recv(in, other, 2);
           } else {
             comm.recv(in, other, 1);
             comm.send(out, other, 2);
           }
         });
       }},
      {"iallreduce + wait",
       [&](std::size_t bytes) {
         a.assign(doubles(bytes), 1.0);
         return std::function<void()>([&] { comm.iallreduce(std::span(a)).wait(); });
       }},
  };

  if (me == 0) {
    fmt::print("bench_collectives: {} ranks, median time per call, messages of 8 B to 1 MiB per rank\n", ranks);
    fmt::print("{:<24} {:>10} {:>12} {:>8}   {}\n", "call", "alpha (us)", "beta (ns/B)", "GB/s",
               "time at 8 B / 2 KiB / 1 MiB (us)");
  }
  for (const auto& [name, bench] : benches) {
    if (name.starts_with("isend") && ranks < 2) continue;
    std::vector<double> x, y;
    for (std::size_t bytes : sizes) {
      const std::function<void()> call = bench(bytes);
      double t = median_seconds(comm, bytes, call);
      if (name.starts_with("isend")) t /= 2;  // a round trip is two messages
      x.push_back(double(bytes));
      y.push_back(t);
    }
    const Fit f = name == "barrier" ? Fit{y[0], 0.0} : fit(x, y);
    if (me == 0)
      fmt::print("{:<24} {:>10.2f} {:>12.4f} {:>8}   {:.2f} / {:.2f} / {:.2f}\n", name, f.alpha * 1e6, f.beta * 1e9,
                 f.beta > 0 ? fmt::format("{:.2f}", 1e-9 / f.beta) : std::string("-"), y.front() * 1e6, y[4] * 1e6,
                 y.back() * 1e6);
  }

  // The guard: the same all-reduce and barrier on the same (duplicated) communicator, raw MPI
  // against MpiCommunicator.
  if (me == 0) fmt::print("failure guard of blocking collectives (median per call):\n");
  for (std::size_t bytes : {std::size_t{8}, std::size_t{42} * 1024}) {
    a.assign(bytes / 8, 1.0);
    const double raw = median_seconds(comm, bytes, [&] {
      MPI_Allreduce(MPI_IN_PLACE, a.data(), int(a.size()), MPI_DOUBLE, MPI_SUM, comm.comm());
    });
    const double guarded = median_seconds(comm, bytes, [&] { comm.allreduce(a); });
    if (me == 0)
      fmt::print("  allreduce {:>6} B: MPI_Allreduce {:7.2f} us, MpiCommunicator::allreduce {:7.2f} us (+{:.2f} us)\n",
                 bytes, raw * 1e6, guarded * 1e6, (guarded - raw) * 1e6);
  }
  const double raw_barrier = median_seconds(comm, 0, [&] { MPI_Barrier(comm.comm()); });
  const double our_barrier = median_seconds(comm, 0, [&] { comm.barrier(); });
  if (me == 0)
    fmt::print("  barrier:          MPI_Barrier   {:7.2f} us, MpiCommunicator::barrier   {:7.2f} us (+{:.2f} us)\n",
               raw_barrier * 1e6, our_barrier * 1e6, (our_barrier - raw_barrier) * 1e6);
  return 0;
}
#else
int main() {
  fmt::print("bench_collectives: parafit was built without MPI\n");
  return 0;
}
#endif
