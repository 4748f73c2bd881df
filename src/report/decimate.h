// report/decimate.h — what the report's scatter plots draw of many rows: every point when there
// are few, otherwise a uniform sample of the rows (which shows where the points are dense) and, per
// pixel column, the extreme points (the envelope a full plot would show: outliers are never
// lost); and the normal Q-Q plot's points, exact or from a fine histogram.
//
// Both are collectives over the ranks' rows and give every rank the same points, the same for any
// number of ranks (ties go to the first row in rank order, and histogram counts are integers).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "parafit/communicator.h"

namespace parafit::detail {

struct Points {
  std::vector<double> x, y;  // by increasing x (ties in row order)
  std::size_t rows = 0;      // finite rows they stand for (all ranks)
  bool decimated = false;    // fewer points than rows
  std::size_t sampled = 0;   // decimate: points from the sample (the others are the envelope)
};

struct Decimation {
  std::size_t columns = 1000;  // pixel columns of the envelope
  std::size_t all = 5000;      // at most this many rows: every point
  std::size_t sample = 2000;   // rows sampled (about: a hash of each row's number decides)
};

// The points (key_i, value_i) with both finite, over all ranks (this rank's rows are global rows
// first_row, first_row + 1, ...): every one when there are at most `all` of them; otherwise the
// rows a seeded hash of the global row number picks, about `sample` of them, and for each of
// `columns` equal columns of the keys' range the points of least and greatest value in it (the
// first such row on ties).
Points decimate(std::span<const double> key, std::span<const double> value, Communicator& comm,
                std::size_t first_row, const Decimation& how);

// The normal Q-Q plot of the finite `values` over all ranks: x the standard normal quantiles at
// probabilities (k - 0.5) / m, y the values' quantiles there. With at most `all` values, m is
// their number and y the sorted values themselves; otherwise m = `points`, and y comes from a
// histogram of 2^16 bins between the global minimum and maximum, interpolated within the bin (off
// by at most (max - min) / 2^16), with the first and last points the exact extremes.
Points normal_qq(std::span<const double> values, Communicator& comm, std::size_t points, std::size_t all);

}  // namespace parafit::detail
