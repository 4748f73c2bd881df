// parafit/exact_sum.h — exact, order-independent summation of doubles.
//
// Why: parafit promises the same answer, bit for bit, whatever the number of threads or ranks. Rows
// are cut into fixed chunks whose partial sums do not depend on who computes them; those partials
// are then added *exactly* here, so the order in which threads or ranks combine them cannot change
// a single bit. The state is a fixed-point integer spread over 32-bit limbs held in int64 slots;
// adding two states is element-wise integer addition, which is associative, so an MPI all-reduce
// with MPI_SUM over the raw limbs is exact too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parafit {

class ExactSum {
 public:
  // Limbs of 32 bits from 2^-1120 (below the smallest subnormal, 2^-1074) up past 2^1024, with one
  // spare limb for carries.
  static constexpr int kLimbBits = 32;
  static constexpr int kLowestBit = -1120;
  static constexpr std::size_t kLimbs = 69;

  // An accumulator of `count` independent sums, all zero.
  explicit ExactSum(std::size_t count = 0);

  std::size_t count() const { return count_; }

  // sums[k] += values[k] exactly, for k < count(). NaN and infinities propagate as in IEEE
  // arithmetic, but independently of order.
  void add(std::span<const double> values);
  void add(std::size_t k, double value);
  // this += other, exactly. Both must have the same count().
  void merge(const ExactSum& other);

  // The sums, each rounded once to the nearest double.
  std::vector<double> round() const;
  double round(std::size_t k) const;

  // Raw state, for all-reduce across processes: integer sums of the limbs of several accumulators
  // (after normalize() on each) and of their special values give their exact total.
  void normalize();
  std::span<std::int64_t> limbs() { return limbs_; }
  std::span<double> specials() { return specials_; }

 private:
  void add_value(std::size_t k, double value);
  void add_finite(std::int64_t* limbs, double value);
  void count_add();

  std::size_t count_ = 0;
  std::vector<std::int64_t> limbs_;   // count_ * kLimbs
  std::vector<double> specials_;      // per sum: the IEEE sum of its non-finite inputs (0 if none)
  std::uint64_t adds_since_normalize_ = 0;
};

}  // namespace parafit
