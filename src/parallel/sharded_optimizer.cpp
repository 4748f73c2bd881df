#include "parallel/sharded_optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <string>

#include "parafit/error.h"
#include "parallel/thread_loops.h"

namespace parafit::detail {
namespace {

// Ranges below this many parameters are not worth a thread.
constexpr std::size_t kMinPerPart = 1024;

}  // namespace

ShardedOptimizer::ShardedOptimizer(std::size_t num_parameters, int threads,
                               const std::function<std::unique_ptr<Optimizer>(std::size_t)>& make)
    : n_(num_parameters) {
  const std::size_t parts =
      std::clamp<std::size_t>(num_parameters / kMinPerPart, 1, std::size_t(std::max(1, threads)));
  for (std::size_t k = 0; k <= parts; ++k) bounds_.push_back(num_parameters * k / parts);
  for (std::size_t k = 0; k < parts; ++k) parts_.push_back(make(bounds_[k + 1] - bounds_[k]));
}

void ShardedOptimizer::step(std::span<double> params, std::span<const double> grad, double lr) {
  if (params.size() != n_ || grad.size() != n_)
    throw Error(fmt::format("{}: {} parameters and {} gradient values for an optimizer of {}", name(), params.size(),
                            grad.size(), n_));
  std::vector<std::string> errors(parts_.size());
  parallel_for(int(parts_.size()), parts_.size(), [&](std::size_t k) {
    const std::size_t lo = bounds_[k], len = bounds_[k + 1] - lo;
    try {
      parts_[k]->step(params.subspan(lo, len), grad.subspan(lo, len), lr);
    } catch (const std::exception& e) {
      errors[k] = e.what();
    }
  });
  for (const auto& e : errors)
    if (!e.empty()) throw Error(e);
}

OptimizerState ShardedOptimizer::state() const {
  OptimizerState whole = parts_.front()->state();
  for (std::size_t k = 1; k < parts_.size(); ++k) {
    const OptimizerState part = parts_[k]->state();
    for (std::size_t i = 0; i < whole.size(); ++i)
      if (whole[i].first != "step") whole[i].second.insert(whole[i].second.end(), part[i].second.begin(), part[i].second.end());
  }
  return whole;
}

std::size_t ShardedOptimizer::state_values() const {
  std::size_t values = 0;
  for (const auto& part : parts_)
    for (const auto& [name, v] : part->state())
      if (name != "step") values += v.size();
  return values;
}

void ShardedOptimizer::set_state(const OptimizerState& state) {
  // Sizes are checked against the whole before splitting, so the messages speak of the whole.
  for (const auto& [name, values] : state)
    if (name != "step" && values.size() != n_)
      throw Error(fmt::format("optimizer state '{}' has {} values for {} parameters", name, values.size(), n_));
  std::vector<OptimizerState> split(parts_.size());
  for (std::size_t k = 0; k < parts_.size(); ++k)
    for (const auto& [name, values] : state) {
      if (name == "step") {
        split[k].emplace_back(name, values);
      } else {
        const auto lo = std::ptrdiff_t(bounds_[k]), hi = std::ptrdiff_t(bounds_[k + 1]);
        split[k].emplace_back(name, std::vector<double>(values.begin() + lo, values.begin() + hi));
      }
    }
  // set_state changes nothing when it throws: parts already set are put back.
  std::vector<OptimizerState> before;
  for (const auto& part : parts_) before.push_back(part->state());
  for (std::size_t k = 0; k < parts_.size(); ++k) {
    try {
      parts_[k]->set_state(split[k]);
    } catch (const Error&) {
      for (std::size_t j = 0; j < k; ++j) parts_[j]->set_state(before[j]);
      throw;
    }
  }
}

}  // namespace parafit::detail
