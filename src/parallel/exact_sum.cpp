#include "parafit/exact_sum.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace parafit {
namespace {

// 128-bit integers hold a 53-bit mantissa shifted by up to 31 bits; __extension__ keeps
// -Wpedantic quiet about the GCC/Clang builtin type.
__extension__ typedef unsigned __int128 u128;

constexpr std::int64_t kLimbMask = (std::int64_t{1} << ExactSum::kLimbBits) - 1;
// Each add puts less than 2^32 in magnitude into a limb; int64 holds 2^63, so carries must be
// propagated at least every 2^31 adds. Normalising every 2^30 keeps a margin for merges.
constexpr std::uint64_t kMaxAddsBeforeNormalize = std::uint64_t{1} << 30;

// Propagates carries so that every limb but the last lies in [0, 2^32). The last limb then holds
// the sign of the whole value.
void propagate(std::int64_t* limbs) {
  for (std::size_t i = 0; i + 1 < ExactSum::kLimbs; ++i) {
    const std::int64_t carry = limbs[i] >> ExactSum::kLimbBits;  // floor division by 2^32
    limbs[i] -= carry * (std::int64_t{1} << ExactSum::kLimbBits);
    limbs[i + 1] += carry;
  }
}

double round_limbs(const std::int64_t* raw) {
  std::int64_t limbs[ExactSum::kLimbs];
  for (std::size_t i = 0; i < ExactSum::kLimbs; ++i) limbs[i] = raw[i];
  propagate(limbs);
  double sign = 1.0;
  if (limbs[ExactSum::kLimbs - 1] < 0) {
    sign = -1.0;
    for (auto& l : limbs) l = -l;
    propagate(limbs);
  }
  std::size_t top = ExactSum::kLimbs;
  while (top > 0 && limbs[top - 1] == 0) --top;
  if (top == 0) return 0.0;
  const std::size_t hi = top - 1;
  // The three highest limbs hold at least 65 significant bits; any non-zero limb below them is
  // folded into the lowest bit as a sticky bit, so the one conversion below rounds correctly.
  u128 mant = 0;
  const std::size_t lo = hi >= 2 ? hi - 2 : 0;
  for (std::size_t i = hi + 1; i-- > lo;) mant = (mant << ExactSum::kLimbBits) | std::uint64_t(limbs[i]);
  bool sticky = false;
  for (std::size_t i = 0; i < lo; ++i) sticky |= limbs[i] != 0;
  if (sticky) mant |= 1;
  const int exponent = ExactSum::kLowestBit + int(lo) * ExactSum::kLimbBits;
  return sign * std::ldexp(static_cast<double>(mant), exponent);
}

}  // namespace

ExactSum::ExactSum(std::size_t count)
    : count_(count), limbs_(count * kLimbs, 0), specials_(count, 0.0) {}

void ExactSum::add_finite(std::int64_t* limbs, double value) {
  int exp2 = 0;
  const double frac = std::frexp(value, &exp2);  // value = frac * 2^exp2, 0.5 <= |frac| < 1
  // value = mant * 2^(exp2 - 53) with |mant| < 2^53 an integer.
  std::int64_t mant = static_cast<std::int64_t>(std::ldexp(frac, 53));
  int bit = exp2 - 53 - kLowestBit;
  if (bit < 0) {
    // Only subnormals get here, and their low bits are zero: the shift is exact.
    mant /= (std::int64_t{1} << -bit);
    bit = 0;
  }
  const bool negative = mant < 0;
  const u128 magnitude = static_cast<u128>(negative ? -mant : mant)
                                      << (bit % kLimbBits);
  std::int64_t* l = limbs + bit / kLimbBits;
  const std::int64_t p0 = std::int64_t(magnitude & kLimbMask);
  const std::int64_t p1 = std::int64_t((magnitude >> kLimbBits) & kLimbMask);
  const std::int64_t p2 = std::int64_t(magnitude >> (2 * kLimbBits));
  if (negative) {
    l[0] -= p0; l[1] -= p1; l[2] -= p2;
  } else {
    l[0] += p0; l[1] += p1; l[2] += p2;
  }
}

void ExactSum::count_add() {
  if (++adds_since_normalize_ >= kMaxAddsBeforeNormalize) normalize();
}

void ExactSum::add_value(std::size_t k, double value) {
  if (value == 0.0) return;
  if (std::isfinite(value)) add_finite(&limbs_[k * kLimbs], value);
  else specials_[k] += value;
}

void ExactSum::add(std::size_t k, double value) {
  assert(k < count_);
  add_value(k, value);
  count_add();
}

void ExactSum::add(std::span<const double> values) {
  assert(values.size() == count_);
  for (std::size_t k = 0; k < count_; ++k) add_value(k, values[k]);
  count_add();
}

void ExactSum::merge(const ExactSum& other) {
  assert(other.count_ == count_);
  if (adds_since_normalize_ + other.adds_since_normalize_ + 1 >= kMaxAddsBeforeNormalize) normalize();
  ExactSum copy_if_needed(0);
  const ExactSum* src = &other;
  if (other.adds_since_normalize_ + 1 >= kMaxAddsBeforeNormalize) {
    copy_if_needed = other;
    copy_if_needed.normalize();
    src = &copy_if_needed;
  }
  for (std::size_t i = 0; i < limbs_.size(); ++i) limbs_[i] += src->limbs_[i];
  for (std::size_t k = 0; k < count_; ++k) specials_[k] += src->specials_[k];
  adds_since_normalize_ += src->adds_since_normalize_ + 1;
}

void ExactSum::normalize() {
  for (std::size_t k = 0; k < count_; ++k) propagate(&limbs_[k * kLimbs]);
  adds_since_normalize_ = 0;
}

double ExactSum::round(std::size_t k) const {
  assert(k < count_);
  if (specials_[k] != 0.0 || std::isnan(specials_[k])) return specials_[k];
  return round_limbs(&limbs_[k * kLimbs]);
}

std::vector<double> ExactSum::round() const {
  std::vector<double> out(count_);
  for (std::size_t k = 0; k < count_; ++k) out[k] = round(k);
  return out;
}

}  // namespace parafit
