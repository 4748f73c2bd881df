// bench/bench_load.cpp — loading the same table from CSV and from a .npy directory.
//
// Usage: bench_load [rows [dir]]
// Writes `rows` (default 10,000,000: the W1 size) rows of x,y — y = 2.5 exp(-1.3 x) + 0.5 plus
// noise, as bench_csv — to dir/data.csv (shortest round-trip text) and dir/npy/{x,y}.npy (default
// dir: a fresh folder in the temp directory), then times, best of 3 each:
//   whole     one reader loads every row (read_csv / read_npy_dir);
//   2 shards  two readers, each on its own thread, load shard 0 and shard 1 of 2 at the same time,
//             as two MPI ranks on one machine would (wall time until both are done);
// and prints MB/s of input (file bytes), rows/s and the .npy/CSV speed ratio, then deletes the
// files it wrote (and `dir` if it created it). The files are in the page cache when read: this measures the readers, not the disk.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "parafit/csv.h"
#include "parafit/error.h"
#include "parafit/npy.h"

namespace {

namespace fs = std::filesystem;

void write_files(const fs::path& dir, std::size_t rows) {
  std::vector<double> xs(rows), ys(rows);
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> x_dist(0.0, 5.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (std::size_t i = 0; i < rows; ++i) {
    xs[i] = x_dist(rng);
    ys[i] = 2.5 * std::exp(-1.3 * xs[i]) + 0.5 + noise(rng);
  }
  const std::string csv = (dir / "data.csv").string();
  std::FILE* out = std::fopen(csv.c_str(), "wb");
  if (out == nullptr) throw std::runtime_error("cannot create " + csv);
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "x,y\n");
  for (std::size_t i = 0; i < rows; ++i) {
    fmt::format_to(std::back_inserter(buffer), "{},{}\n", xs[i], ys[i]);
    if (buffer.size() > (1u << 20)) {
      std::fwrite(buffer.data(), 1, buffer.size(), out);
      buffer.clear();
    }
  }
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  if (std::fclose(out) != 0) throw std::runtime_error("cannot write " + csv);
  fs::create_directories(dir / "npy");
  parafit::write_npy((dir / "npy" / "x.npy").string(), xs);
  parafit::write_npy((dir / "npy" / "y.npy").string(), ys);
}

// Loads shard `r` of `k` and returns its number of rows (after checking the data is usable).
using Loader = std::function<std::size_t(std::size_t r, std::size_t k)>;

// Best wall time of 3 runs of `k` loaders at once, one thread each (k = 1: on this thread).
double best_of_3(const Loader& load, std::size_t k, std::size_t rows) {
  double best = 1e300;
  for (int run = 0; run < 3; ++run) {
    std::vector<std::size_t> got(k);
    const auto start = std::chrono::steady_clock::now();
    if (k == 1) {
      got[0] = load(0, 1);
    } else {
      std::vector<std::thread> threads;
      for (std::size_t r = 0; r < k; ++r) threads.emplace_back([&, r] { got[r] = load(r, k); });
      for (auto& t : threads) t.join();
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::size_t total = 0;
    for (const std::size_t n : got) total += n;
    if (total != rows) throw std::runtime_error("row count mismatch");
    best = std::min(best, took.count());
  }
  return best;
}

// Removes the files write_files made, and `dir` itself if this run created it.
void clean_up(const fs::path& dir, bool created) {
  std::error_code ec;
  fs::remove(dir / "data.csv", ec);
  fs::remove(dir / "npy" / "x.npy", ec);
  fs::remove(dir / "npy" / "y.npy", ec);
  fs::remove(dir / "npy", ec);  // only if now empty
  if (created) fs::remove(dir, ec);
}

std::size_t dir_bytes(const fs::path& dir) {
  std::size_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += e.file_size();
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const fs::path dir = argc > 2 ? fs::path(argv[2])
                                : fs::temp_directory_path() /
                                      fmt::format("parafit_bench_load_{}", ::getpid());
  if (rows == 0) {
    fmt::print(stderr, "usage: bench_load [rows [dir]] (rows > 0)\n");
    return 2;
  }
  if (fs::exists(dir / "data.csv") || fs::exists(dir / "npy")) {
    fmt::print(stderr, "bench_load: {} already holds data.csv or npy/; give another dir\n",
               dir.string());
    return 2;
  }
  const bool created = !fs::exists(dir);
  try {
    fs::create_directories(dir);
    write_files(dir, rows);
    const std::string csv = (dir / "data.csv").string();
    const std::string npy = (dir / "npy").string();
    const double csv_mb = static_cast<double>(fs::file_size(csv)) / 1e6;
    const double npy_mb = static_cast<double>(dir_bytes(npy)) / 1e6;

    const Loader load_csv = [&](std::size_t r, std::size_t k) {
      parafit::CsvOptions o;
      o.shard_index = r;
      o.shard_count = k;
      const parafit::Dataset d = parafit::read_csv(csv, o);
      if (d.rows() > 0 && !std::isfinite(d.column(0)[d.rows() - 1] + d.column(1)[0]))
        throw std::runtime_error("bad data");
      return d.rows();
    };
    const Loader load_npy = [&](std::size_t r, std::size_t k) {
      parafit::NpyOptions o;
      o.shard_index = r;
      o.shard_count = k;
      const parafit::Dataset d = parafit::read_npy_dir(npy, o);
      if (d.rows() > 0 && !std::isfinite(d.column(0)[d.rows() - 1] + d.column(1)[0]))
        throw std::runtime_error("bad data");
      return d.rows();
    };

    fmt::print("rows {}   CSV {:.1f} MB   .npy directory {:.1f} MB   ({} hardware threads)\n", rows,
               csv_mb, npy_mb, std::thread::hardware_concurrency());
    fmt::print("{:<26} {:>9} {:>10} {:>10} {:>9}\n", "load (best of 3)", "seconds", "MB/s",
               "M rows/s", "npy/CSV");
    for (const std::size_t k : {std::size_t{1}, std::size_t{2}}) {
      const double t_csv = best_of_3(load_csv, k, rows);
      const double t_npy = best_of_3(load_npy, k, rows);
      const std::string how = k == 1 ? "whole" : "2 shards, 2 threads";
      const double mrows = static_cast<double>(rows) / 1e6;
      fmt::print("{:<26} {:>9.3f} {:>10.0f} {:>10.1f}\n", "CSV, " + how, t_csv, csv_mb / t_csv,
                 mrows / t_csv);
      fmt::print("{:<26} {:>9.3f} {:>10.0f} {:>10.1f} {:>8.1f}x\n", ".npy, " + how, t_npy,
                 npy_mb / t_npy, mrows / t_npy, t_csv / t_npy);
    }
    clean_up(dir, created);
  } catch (const std::exception& e) {
    clean_up(dir, created);
    fmt::print(stderr, "bench_load: {}\n", e.what());
    return 1;
  }
  return 0;
}
