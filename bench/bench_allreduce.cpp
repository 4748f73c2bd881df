// All-reduce cost under mpirun, for the alpha-beta model of how an iteration's cost grows with the
// number of ranks: time(n bytes) ~ alpha + beta * n. Run it as
//   mpirun -np 2 build/bench/bench_allreduce
// It all-reduces int64 buffers (what parafit's exact sums send) of 8 B to 1 MiB through parafit's
// MpiCommunicator, prints the median time per call for each size, and the least-squares alpha, beta.
#include <fmt/format.h>

#ifdef PARAFIT_HAVE_MPI
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "parafit/mpi_communicator.h"

int main(int argc, char** argv) {
  parafit::MpiSession session(argc, argv);
  parafit::MpiCommunicator comm;
  std::vector<double> sizes, times;
  for (std::size_t bytes = 8; bytes <= (1u << 20); bytes *= 4) {
    std::vector<std::int64_t> buffer(bytes / 8, 1);
    std::vector<double> samples;
    const int reps = bytes < 65536 ? 2000 : 200;
    for (int rep = 0; rep < reps; ++rep) {
      comm.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      comm.allreduce_sum(buffer);
      samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(samples.begin(), samples.begin() + reps / 2, samples.end());
    // Every rank must agree on the figure: take rank 0's median.
    std::vector<double> median = {comm.rank() == 0 ? samples[std::size_t(reps / 2)] : 0.0};
    comm.allreduce_sum(median);
    sizes.push_back(double(bytes));
    times.push_back(median[0]);
    if (comm.rank() == 0) fmt::print("allreduce {:>8} B on {} ranks: {:8.2f} us\n", bytes, comm.size(), median[0] * 1e6);
  }
  // Least squares for time = alpha + beta * bytes.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = double(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    sx += sizes[i], sy += times[i], sxx += sizes[i] * sizes[i], sxy += sizes[i] * times[i];
  }
  const double beta = (n * sxy - sx * sy) / (n * sxx - sx * sx), alpha = (sy - beta * sx) / n;
  if (comm.rank() == 0)
    fmt::print("alpha = {:.2f} us, beta = {:.3f} ns/B ({:.2f} GB/s) on {} ranks\n", alpha * 1e6, beta * 1e9,
               1e-9 / beta, comm.size());
  return 0;
}
#else
int main() {
  fmt::print("bench_allreduce: parafit was built without MPI\n");
  return 0;
}
#endif
