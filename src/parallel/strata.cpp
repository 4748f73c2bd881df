#include "parallel/strata.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace parafit::detail {
namespace {

// floor(a * b / c) without overflow.
std::size_t scaled(std::size_t a, std::size_t b, std::size_t c) {
  __extension__ using Wide = unsigned __int128;
  return static_cast<std::size_t>(static_cast<Wide>(a) * b / c);
}

}  // namespace

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t Rng::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t Rng::below(std::uint64_t bound) {
  __extension__ using Wide = unsigned __int128;
  Wide m = static_cast<Wide>(next()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<Wide>(next()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::vector<std::size_t> StrataPlan::rank_bounds(std::size_t ranks) const {
  std::vector<std::size_t> out(ranks + 1);
  for (std::size_t r = 0; r <= ranks; ++r) out[r] = bounds[first_stratum(r, ranks)];
  return out;
}

StrataPlan plan_strata(std::size_t rows, std::size_t max_strata) {
  StrataPlan plan;
  plan.rows = rows;
  plan.strata = std::max<std::size_t>(1, std::min(max_strata, rows / kMinStratumRows));
  plan.bounds.resize(plan.strata + 1);
  for (std::size_t g = 0; g <= plan.strata; ++g) plan.bounds[g] = scaled(g, rows, plan.strata);
  return plan;
}

std::size_t stratum_share(std::size_t batch, std::size_t g, std::size_t strata) {
  return scaled(g + 1, batch, strata) - scaled(g, batch, strata);
}

bool is_validation_row(std::uint64_t seed, std::size_t row, double fraction) {
  if (fraction <= 0) return false;
  const std::uint64_t h = mix64(mix64(seed ^ 0x76616c6964617465ULL) + row);
  return static_cast<double>(h >> 11) * 0x1.0p-53 < fraction;
}

std::vector<std::uint32_t> epoch_order(std::uint64_t seed, std::uint64_t epoch, std::size_t stratum,
                                       std::size_t n) {
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  Rng rng(mix64(mix64(mix64(seed) + epoch) + stratum));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

}  // namespace parafit::detail
