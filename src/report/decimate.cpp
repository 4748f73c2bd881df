#include "report/decimate.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <unsupported/Eigen/SpecialFunctions>

#include "parallel/strata.h"

namespace parafit::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::size_t count_finite(std::span<const double> key, std::span<const double> value, Communicator& comm) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < key.size(); ++i) n += std::isfinite(key[i]) && std::isfinite(value[i]);
  std::vector<std::int64_t> total = {n};
  comm.allreduce(total);
  return std::size_t(total[0]);
}

// Sorts the points by x, keeping row order among equal x.
void sort_by_x(Points& p) {
  std::vector<std::size_t> order(p.x.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p.x[a] < p.x[b]; });
  std::vector<double> x(order.size()), y(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    x[i] = p.x[order[i]];
    y[i] = p.y[order[i]];
  }
  p.x = std::move(x);
  p.y = std::move(y);
}

// Every finite point of every rank, in rank and row order.
Points gather_all(std::span<const double> key, std::span<const double> value, Communicator& comm) {
  std::vector<double> mine;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::isfinite(key[i]) && std::isfinite(value[i])) {
      mine.push_back(key[i]);
      mine.push_back(value[i]);
    }
  const std::vector<double> all = comm.allgatherv(mine);
  Points p;
  for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
    p.x.push_back(all[i]);
    p.y.push_back(all[i + 1]);
  }
  p.rows = p.x.size();
  return p;
}

// Per column: the key and value of its least and greatest value ([kmin, vmin, kmax, vmax]; vmin
// +inf for an empty column).
struct Envelope {
  explicit Envelope(std::size_t columns) : cells(4 * columns) {
    for (std::size_t c = 0; c < columns; ++c) {
      cells[4 * c + 1] = kInf;
      cells[4 * c + 3] = -kInf;
    }
  }
  // Strict comparisons: the first row on ties stays.
  void add(std::size_t c, double k, double v) {
    double* cell = &cells[4 * c];
    if (v < cell[1]) {
      cell[0] = k;
      cell[1] = v;
    }
    if (v > cell[3]) {
      cell[2] = k;
      cell[3] = v;
    }
  }
  std::vector<double> cells;
};

}  // namespace

Points decimate(std::span<const double> key, std::span<const double> value, Communicator& comm,
                std::size_t first_row, const Decimation& how) {
  const std::size_t columns = std::max<std::size_t>(how.columns, 1);
  const std::size_t n = count_finite(key, value, comm);
  if (n <= how.all) {
    Points p = gather_all(key, value, comm);
    sort_by_x(p);
    return p;
  }
  std::vector<double> range = {kInf, kInf};  // min key, -max key
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::isfinite(key[i]) && std::isfinite(value[i])) {
      range[0] = std::min(range[0], key[i]);
      range[1] = std::min(range[1], -key[i]);
    }
  comm.allreduce(range, ReduceOp::kMin);
  const double lo = range[0], hi = -range[1];
  const double width = hi > lo ? (hi - lo) / double(columns) : 1.0;
  const auto column_of = [&](double k) {
    return std::min(columns - 1, std::size_t(std::max(0.0, std::floor((k - lo) / width))));
  };
  Envelope mine(columns);
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::isfinite(key[i]) && std::isfinite(value[i])) mine.add(column_of(key[i]), key[i], value[i]);
  // Every rank's envelope, merged in rank order: the first rank's point wins a tie, as the first
  // row does within a rank.
  const std::vector<double> every = comm.allgatherv(mine.cells);
  Envelope merged(columns);
  for (std::size_t r = 0; r < every.size(); r += 4 * columns)
    for (std::size_t c = 0; c < columns; ++c) {
      const double* cell = &every[r + 4 * c];
      if (cell[1] == kInf) continue;  // empty
      merged.add(c, cell[0], cell[1]);
      merged.add(c, cell[2], cell[3]);
    }
  // The sample: the same rows for any number of ranks (it depends on the global row number only).
  constexpr std::uint64_t kSeed = 0x7265706f7274;  // "report"
  const double fraction = double(how.sample) / double(n);
  std::vector<double> picked;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::isfinite(key[i]) && std::isfinite(value[i]) && is_validation_row(kSeed, first_row + i, fraction)) {
      picked.push_back(key[i]);
      picked.push_back(value[i]);
    }
  const std::vector<double> sample = comm.allgatherv(picked);
  Points p;
  p.rows = n;
  p.decimated = true;
  for (std::size_t i = 0; i + 1 < sample.size(); i += 2) {
    p.x.push_back(sample[i]);
    p.y.push_back(sample[i + 1]);
  }
  p.sampled = p.x.size();
  for (std::size_t c = 0; c < columns; ++c) {
    const double* cell = &merged.cells[4 * c];
    if (cell[1] == kInf) continue;
    // The two in key order (one point when the column's extremes are the same row's).
    const bool same = cell[0] == cell[2] && cell[1] == cell[3];
    if (same || cell[0] <= cell[2]) {
      p.x.push_back(cell[0]);
      p.y.push_back(cell[1]);
      if (!same) {
        p.x.push_back(cell[2]);
        p.y.push_back(cell[3]);
      }
    } else {
      p.x.push_back(cell[2]);
      p.y.push_back(cell[3]);
      p.x.push_back(cell[0]);
      p.y.push_back(cell[1]);
    }
  }
  sort_by_x(p);
  return p;
}

Points normal_qq(std::span<const double> values, Communicator& comm, std::size_t points, std::size_t all) {
  const std::size_t n = count_finite(values, values, comm);
  Points p;
  p.rows = n;
  if (n == 0) return p;
  const auto normal_quantile = [](double prob) { return Eigen::numext::ndtri(prob); };
  if (n <= all) {
    Points every = gather_all(values, values, comm);
    std::sort(every.y.begin(), every.y.end());
    for (std::size_t k = 0; k < n; ++k) {
      p.x.push_back(normal_quantile((double(k) + 0.5) / double(n)));
      p.y.push_back(every.y[k]);
    }
    return p;
  }
  std::vector<double> range = {kInf, kInf};
  for (const double v : values)
    if (std::isfinite(v)) {
      range[0] = std::min(range[0], v);
      range[1] = std::min(range[1], -v);
    }
  comm.allreduce(range, ReduceOp::kMin);
  const double lo = range[0], hi = -range[1];
  constexpr std::size_t kBins = std::size_t(1) << 16;
  const double width = hi > lo ? (hi - lo) / double(kBins) : 1.0;
  std::vector<std::int64_t> counts(kBins, 0);
  for (const double v : values)
    if (std::isfinite(v)) ++counts[std::min(kBins - 1, std::size_t(std::max(0.0, std::floor((v - lo) / width))))];
  comm.allreduce(counts);
  p.decimated = true;
  std::size_t bin = 0;
  std::int64_t below = 0;  // values in bins before `bin`
  for (std::size_t k = 0; k < points; ++k) {
    const double prob = (double(k) + 0.5) / double(points);
    double q;
    if (k == 0) {
      q = lo;
    } else if (k + 1 == points) {
      q = hi;
    } else {
      // The value below which a fraction prob of the values lie: the bin holding the rank
      // prob * n, and linearly within it.
      const double rank = prob * double(n);
      while (bin + 1 < kBins && double(below + counts[bin]) < rank) below += counts[bin++];
      const double within = counts[bin] > 0 ? (rank - double(below)) / double(counts[bin]) : 0.5;
      q = lo + (double(bin) + std::clamp(within, 0.0, 1.0)) * width;
    }
    p.x.push_back(normal_quantile(prob));
    p.y.push_back(q);
  }
  return p;
}

}  // namespace parafit::detail
