// bench/bench_csv.cpp — throughput of parafit::read_csv on one core.
//
// Usage: bench_csv [path [rows]]
// Writes `rows` (default 10,000,000) rows of an x,y CSV with full-precision doubles to `path`
// (default: a file in the temp directory), reads it back with read_csv three times and prints
// the best time as MB/s and rows/s, then deletes the file. The file is in the page cache when it
// is read, so this measures parsing, not the disk.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "parafit/csv.h"
#include "parafit/error.h"

namespace {

// Data like a real fit input: y = 2.5 exp(-1.3 x) + 0.5 plus noise, printed with "{}" (the
// shortest text that reads back to the same double, typically 16-18 significant digits).
void write_file(const std::string& path, std::size_t rows) {
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) throw std::runtime_error("cannot create " + path);
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> x_dist(0.0, 5.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "x,y\n");
  for (std::size_t i = 0; i < rows; ++i) {
    const double x = x_dist(rng);
    const double y = 2.5 * std::exp(-1.3 * x) + 0.5 + noise(rng);
    fmt::format_to(std::back_inserter(buffer), "{},{}\n", x, y);
    if (buffer.size() > (1u << 20)) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  if (std::fclose(out) != 0) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1]
               : (std::filesystem::temp_directory_path() /
                  fmt::format("parafit_bench_csv_{}.csv", ::getpid()))
                     .string();
  const std::size_t rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000'000;
  if (rows == 0) {
    fmt::print(stderr, "usage: bench_csv [path [rows]] (rows > 0)\n");
    return 2;
  }

  try {
    write_file(path, rows);
    double best = 1e300;
    parafit::CsvReport report;
    double checksum = 0;
    for (int run = 0; run < 3; ++run) {
      const auto start = std::chrono::steady_clock::now();
      const parafit::Dataset data = parafit::read_csv(path, {}, &report);
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      best = std::min(best, took.count());
      // Use the result so the read cannot be optimised away, and check it is whole.
      checksum = data.column(0)[rows - 1] + data.column(1)[rows / 2];
      if (data.rows() != rows) throw std::runtime_error("row count mismatch");
    }
    std::filesystem::remove(path);
    const double mb = static_cast<double>(report.bytes) / 1e6;
    fmt::print("file        {} ({} rows, {:.1f} MB)\n", path, report.rows_read, mb);
    fmt::print("read_csv    best of 3: {:.3f} s\n", best);
    fmt::print("throughput  {:.0f} MB/s, {:.2f} M rows/s   (checksum {:.6g})\n", mb / best,
               static_cast<double>(report.rows_read) / best / 1e6, checksum);
  } catch (const std::exception& e) {
    std::filesystem::remove(path);
    fmt::print(stderr, "bench_csv: {}\n", e.what());
    return 1;
  }
  return 0;
}
