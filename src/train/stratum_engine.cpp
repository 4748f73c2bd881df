#include "train/stratum_engine.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <exception>
#include <limits>

#include "parafit/distributed.h"
#include "parafit/error.h"

namespace parafit::detail {

StrataRows split_strata(const StrataPlan& plan, Communicator& comm, std::size_t first_row,
                        std::size_t local_rows, std::uint64_t seed, double validation_fraction) {
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto me = static_cast<std::size_t>(comm.rank());
  const std::size_t first = plan.first_stratum(me, ranks), last = plan.first_stratum(me + 1, ranks);
  if (plan.bounds[first] != first_row || plan.bounds[last] != first_row + local_rows)
    throw Error(fmt::format("internal: rank {} holds rows [{}, {}) but its strata cover [{}, {})", me, first_row,
                            first_row + local_rows, plan.bounds[first], plan.bounds[last]));
  StrataRows out;
  // Counts travel as one all-reduce: slot g is written by the rank owning stratum g.
  std::vector<std::int64_t> counts(2 * plan.strata, 0);
  for (std::size_t g = first; g < last; ++g) {
    std::vector<std::size_t> train, validation;
    for (std::size_t row = plan.bounds[g]; row < plan.bounds[g + 1]; ++row)
      (is_validation_row(seed, row, validation_fraction) ? validation : train).push_back(row - first_row);
    counts[g] = std::int64_t(train.size());
    counts[plan.strata + g] = std::int64_t(validation.size());
    out.train.push_back(std::move(train));
    out.validation.push_back(std::move(validation));
  }
  if (ranks > 1) comm.allreduce(counts);
  // Checked after the exchange, so that every rank throws it alike.
  for (std::size_t g = 0; g < plan.strata; ++g)
    if (counts[g] > std::int64_t(std::numeric_limits<std::uint32_t>::max()))
      throw AgreedError(fmt::format("stratum {} has {} rows; more than 2^32 rows per stratum needs more --strata", g,
                                    counts[g]));
  for (std::size_t g = 0; g < plan.strata; ++g) {
    out.train_counts.push_back(std::size_t(counts[g]));
    out.validation_counts.push_back(std::size_t(counts[plan.strata + g]));
  }
  return out;
}

StratumEngine::StratumEngine(const TrainObjective& objective, const StrataPlan& plan, StrataRows rows,
                             Communicator& comm, int threads, std::size_t batch, std::uint64_t seed)
    : objective_(objective),
      plan_(plan),
      rows_(std::move(rows)),
      comm_(comm),
      threads_(std::max(1, threads)),
      batch_(batch),
      seed_(seed),
      gradient_reducer_(plan, comm, objective.num_parameters() + 2, threads_),
      loss_reducer_(plan, comm, 2) {
  first_owned_ = gradient_reducer_.first_owned();
  for (std::size_t g = 0; g < plan_.strata; ++g) {
    share_.push_back(stratum_share(batch_, g, plan_.strata));
    train_total_ += rows_.train_counts[g];
    validation_total_ += rows_.validation_counts[g];
    if (share_[g] > 0)
      micro_per_epoch_ = std::max(micro_per_epoch_, (rows_.train_counts[g] + share_[g] - 1) / share_[g]);
  }
  order_.resize(rows_.train.size());
  for (int t = 0; t < threads_; ++t) workers_.push_back(objective_.make_worker());
  for (std::size_t s = 0; s < rows_.train.size(); ++s) {
    accumulators_.push_back(objective_.make_accumulator());
    accumulators_.back()->zero();
  }
  scratch_.resize(std::size_t(threads_));
}

void StratumEngine::start_epoch(std::size_t epoch) {
  const auto owned = static_cast<std::ptrdiff_t>(order_.size());
#pragma omp parallel for num_threads(threads_) schedule(static)
  for (std::ptrdiff_t s = 0; s < owned; ++s)
    order_[std::size_t(s)] = epoch_order(seed_, epoch, first_owned_ + std::size_t(s), rows_.train[std::size_t(s)].size());
}

template <class Fn>
PassResult StratumEngine::run(std::span<const double> theta, bool with_gradient, std::size_t rows, Fn&& fn) {
  const std::size_t owned = rows_.train.size();
  const std::size_t p = objective_.num_parameters();
  const std::size_t width = with_gradient ? p + 2 : 2;
  // Every entry is written below (by take(), or zeroed on failure): no need to clear it first.
  local_.resize(owned * width);
  std::vector<double>& local = local_;
  std::vector<std::string> errors(owned);
  const int threads = static_cast<int>(std::min<std::size_t>(std::size_t(threads_), std::max<std::size_t>(owned, 1)));
  StrataReducer& reducer = with_gradient ? gradient_reducer_ : loss_reducer_;
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    TrainWorker& worker = *workers_[t];
    std::string setup_error;
    try {
      worker.set_parameters(theta);
    } catch (const std::exception& e) {
      setup_error = e.what();
    }
#pragma omp for schedule(static)
    for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(owned); ++si) {
      const auto s = static_cast<std::size_t>(si);
      double* out = local.data() + s * width;
      try {
        if (!setup_error.empty()) throw Error(setup_error);
        // Accumulators are zero between passes (made so, take() leaves them so, and a failed pass
        // clears its own below).
        const double loss = fn(s, worker, *accumulators_[s], scratch_[t]);
        if (with_gradient) accumulators_[s]->take({out, p});
        out[width - 2] = loss;
        out[width - 1] = 0.0;
      } catch (const std::exception& e) {
        errors[s] = e.what();
        accumulators_[s]->zero();
        std::fill(out, out + width, 0.0);
        out[width - 1] = 1.0;
      }
    }
    // The implicit barrier above has every stratum's sums in place: each thread now adds up its
    // own range of the values along the tree (the same additions whoever makes them).
    const auto nthreads = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t c0 = width * t / nthreads, c1 = width * (t + 1) / nthreads;
    reducer.reduce_local(local, c0, c1);
  }
  std::vector<double> total = reducer.exchange(local);
  if (comm_.size() > 1) {
    ++collectives_;
    collective_bytes_ += reducer.payload_values() * sizeof(double);
  }
  if (total[width - 1] != 0) {
    std::string mine;
    for (const auto& e : errors)
      if (!e.empty()) {
        mine = e;
        break;
      }
    agree_or_throw(comm_, mine);
    throw Error("a worker failed");  // not reached: some rank reported an error above
  }
  PassResult result;
  result.loss = total[width - 2];
  result.rows = rows;
  if (with_gradient) {
    total.resize(p);
    result.gradient = std::move(total);
  }
  return result;
}

PassResult StratumEngine::batch_gradient(std::span<const double> theta, std::size_t first, std::size_t last) {
  std::size_t rows = 0;
  for (std::size_t g = 0; g < plan_.strata; ++g)
    for (std::size_t m = first; m < last; ++m) {
      const std::size_t lo = std::min(rows_.train_counts[g], m * share_[g]);
      rows += std::min(rows_.train_counts[g], lo + share_[g]) - lo;
    }
  return run(theta, true, rows,
             [&](std::size_t s, TrainWorker& w, GradientAccumulator& acc, std::vector<std::size_t>& scratch) {
               const std::size_t g = first_owned_ + s;
               const auto& order = order_[s];
               const auto& train = rows_.train[s];
               double loss = 0;
               for (std::size_t m = first; m < last; ++m) {
                 const std::size_t lo = std::min(order.size(), m * share_[g]);
                 const std::size_t hi = std::min(order.size(), lo + share_[g]);
                 if (lo == hi) continue;
                 scratch.clear();
                 for (std::size_t k = lo; k < hi; ++k) scratch.push_back(train[order[k]]);
                 loss = w.accumulate(scratch, acc, loss);
               }
               return loss;
             });
}

PassResult StratumEngine::full_gradient(std::span<const double> theta) {
  return run(theta, true, train_total_,
             [&](std::size_t s, TrainWorker& w, GradientAccumulator& acc, std::vector<std::size_t>&) {
               return w.accumulate(rows_.train[s], acc, 0.0);
             });
}

PassResult StratumEngine::full_loss(std::span<const double> theta, bool validation) {
  return run(theta, false, validation ? validation_total_ : train_total_,
             [&](std::size_t s, TrainWorker& w, GradientAccumulator&, std::vector<std::size_t>&) {
               return w.loss(validation ? rows_.validation[s] : rows_.train[s], 0.0);
             });
}

}  // namespace parafit::detail
