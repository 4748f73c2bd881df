#include "parallel/strata_engine.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <exception>
#include <limits>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/thread_loops.h"

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
  // This rank's strata's [training, validation] row counts; one allgatherv gives every rank all of
  // them, stratum by stratum (ranks own contiguous runs of strata, in rank order).
  std::vector<std::int64_t> mine;
  for (std::size_t g = first; g < last; ++g) {
    std::vector<std::size_t> train, validation;
    for (std::size_t row = plan.bounds[g]; row < plan.bounds[g + 1]; ++row)
      (is_validation_row(seed, row, validation_fraction) ? validation : train).push_back(row - first_row);
    mine.push_back(std::int64_t(train.size()));
    mine.push_back(std::int64_t(validation.size()));
    out.train.push_back(std::move(train));
    out.validation.push_back(std::move(validation));
  }
  std::vector<std::size_t> per_rank;
  for (std::size_t r = 0; r < ranks; ++r)
    per_rank.push_back(2 * (plan.first_stratum(r + 1, ranks) - plan.first_stratum(r, ranks)));
  std::vector<std::int64_t> all(2 * plan.strata);
  comm.allgatherv<std::int64_t>(mine, all, per_rank);
  std::vector<std::int64_t> counts(2 * plan.strata);
  for (std::size_t g = 0; g < plan.strata; ++g) {
    counts[g] = all[2 * g];
    counts[plan.strata + g] = all[2 * g + 1];
  }
  // Checked after the exchange, so that every rank throws it alike.
  for (std::size_t g = 0; g < plan.strata; ++g)
    if (counts[g] > std::int64_t(std::numeric_limits<std::uint32_t>::max()))
      throw AgreedError(fmt::format("stratum {} has {} rows; more than 2^32 rows per stratum needs more strata ({})", g,
                                    counts[g], option_name("context.strata")));
  for (std::size_t g = 0; g < plan.strata; ++g) {
    out.train_counts.push_back(std::size_t(counts[g]));
    out.validation_counts.push_back(std::size_t(counts[plan.strata + g]));
  }
  return out;
}

std::string LocalPass::first_error() const {
  if (errors != nullptr)
    for (const auto& e : *errors)
      if (!e.empty()) return e;
  return {};
}

struct StrataEngine::KernelState {
  KernelState(const StrataPlan& plan, Communicator& comm, std::size_t width, int threads)
      : tree(plan, comm, width, threads) {}
  std::vector<std::unique_ptr<RowWorker>> workers;  // one per thread
  std::vector<std::unique_ptr<RowSums>> sums;       // one per owned stratum, zero between passes
  StrataTree tree;
  std::vector<double> local;  // per owned stratum: [sums..., failed], reused every pass
  std::vector<std::string> errors;
};

StrataEngine::StrataEngine(const StrataPlan& plan, StrataRows rows, Communicator& comm, int threads,
                           std::size_t batch, std::uint64_t seed)
    : plan_(plan), rows_(std::move(rows)), comm_(comm), threads_(std::max(1, threads)), batch_(batch), seed_(seed) {
  first_owned_ = plan_.first_stratum(std::size_t(comm.rank()), std::size_t(comm.size()));
  for (std::size_t g = 0; g < plan_.strata; ++g) {
    share_.push_back(stratum_share(batch_, g, plan_.strata));
    train_total_ += rows_.train_counts[g];
    validation_total_ += rows_.validation_counts[g];
    if (share_[g] > 0)
      micro_per_epoch_ = std::max(micro_per_epoch_, (rows_.train_counts[g] + share_[g] - 1) / share_[g]);
  }
  order_.resize(rows_.train.size());
  for (const auto& train : rows_.train)
    train_start_.push_back(!train.empty() && train.back() - train.front() + 1 == train.size() ? train.front()
                                                                                              : kScattered);
  scratch_.resize(std::size_t(threads_));
}

StrataEngine::~StrataEngine() = default;

StrataEngine::KernelState& StrataEngine::state(const RowKernel& kernel) {
  auto& slot = kernels_[&kernel];
  if (!slot) {
    slot = std::make_unique<KernelState>(plan_, comm_, kernel.width() + 1, threads_);
    for (int t = 0; t < threads_; ++t) slot->workers.push_back(kernel.make_worker());
    for (std::size_t s = 0; s < rows_.train.size(); ++s) {
      slot->sums.push_back(kernel.make_sums());
      slot->sums.back()->zero();
    }
    slot->errors.resize(rows_.train.size());
  }
  return *slot;
}

int StrataEngine::pass_threads(std::size_t owned, std::size_t work) const {
  // A thread costs a few microseconds to start and join, the time of ~30k multiply-adds: a pass
  // whose work (rows x the kernel's work per row, about its multiply-adds) is smaller than that
  // per thread runs on fewer threads — small models never train slower on more threads. (Which
  // thread folds a stratum never changes a bit.)
  constexpr std::size_t kMinWorkPerThread = 32768;
  const std::size_t by_work = std::max<std::size_t>(1, work / kMinWorkPerThread);
  return static_cast<int>(std::min({std::size_t(threads_), std::max<std::size_t>(owned, 1), by_work}));
}

void StrataEngine::start_epoch(std::size_t epoch) {
  // A shuffle costs ~10 ns a row: threads only for strata of many rows.
  constexpr std::size_t kMinRowsPerThread = 65536;
  const int threads = static_cast<int>(std::clamp<std::size_t>(train_total_ / kMinRowsPerThread, 1, std::size_t(threads_)));
  parallel_for(threads, order_.size(), [&](std::size_t s) {
    order_[s] = epoch_order(seed_, epoch, first_owned_ + s, rows_.train[s].size());
  });
}

template <class Fold>
LocalPass StrataEngine::run(const RowKernel& kernel, std::span<const double> theta, std::size_t rows,
                            std::size_t local_rows, Fold&& fold) {
  KernelState& st = state(kernel);
  const std::size_t owned = rows_.train.size();
  const std::size_t kwidth = kernel.width();
  const std::size_t width = kwidth + 1;
  // The tree writes the rows of its nodes below: no need to clear them first.
  st.local.resize(owned * width);
  std::vector<double>& local = st.local;
  std::fill(st.errors.begin(), st.errors.end(), std::string());
  const int threads = pass_threads(owned, rows * kernel.work_per_row());
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    RowWorker& worker = *st.workers[t];
    std::string setup_error;
    try {
      worker.set_parameters(theta);
    } catch (const std::exception& e) {
      setup_error = e.what();
    }
#pragma omp for schedule(static)
    for (std::ptrdiff_t si = 0; si < static_cast<std::ptrdiff_t>(owned); ++si) {
      const auto s = static_cast<std::size_t>(si);
      try {
        if (!setup_error.empty()) throw Error(setup_error);
        // The sums are zero between passes (made so, and cleared after each pass below).
        fold(s, worker, *st.sums[s], scratch_[t]);
      } catch (const std::exception& e) {
        st.errors[s] = e.what();
        st.sums[s]->zero();
      }
    }
    // The implicit barrier above has every stratum's sums in place: each thread now adds up its
    // own range of the values along the tree (the same additions whoever makes them), taking the
    // leaves — each stratum's sums as doubles, then its failure flag — a block at a time as the
    // tree needs them.
    const auto nthreads = static_cast<std::size_t>(omp_get_num_threads());
    st.tree.reduce_leaves(local, width * t / nthreads, width * (t + 1) / nthreads,
                          [&](std::size_t stratum, std::size_t b, std::size_t e, double* out) {
                            const std::size_t s = stratum - first_owned_;
                            if (b < kwidth) st.sums[s]->take_values(b, {out, std::min(e, kwidth) - b});
                            if (e > kwidth) out[kwidth - b] = st.errors[s].empty() ? 0.0 : 1.0;
                          });
  }
  for (const auto& sums : st.sums) sums->zero();
  return LocalPass{local, width, rows, local_rows, &st.tree, &st.errors};
}

template <class Fold>
LocalPass StrataEngine::run_collective(const RowKernel& kernel, std::span<const double> theta, std::size_t rows,
                                       std::size_t local_rows, Fold&& fold) {
  KernelState& st = state(kernel);
  const std::size_t kwidth = kernel.width();
  const std::size_t width = kwidth + 1;
  st.local.resize(rows_.train.size() * width);
  std::fill(st.errors.begin(), st.errors.end(), std::string());
  RowWorker& worker = *st.workers[0];
  worker.set_parameters(theta);
  std::vector<RowSums*> sums;
  for (auto& s : st.sums) sums.push_back(s.get());
  fold(worker, std::span<RowSums* const>(sums));
  st.tree.reduce_leaves(st.local, 0, width, [&](std::size_t stratum, std::size_t b, std::size_t e, double* out) {
    const std::size_t s = stratum - first_owned_;
    if (b < kwidth) st.sums[s]->take_values(b, {out, std::min(e, kwidth) - b});
    if (e > kwidth) out[kwidth - b] = 0.0;
  });
  for (const auto& s : st.sums) s->zero();
  return LocalPass{st.local, width, rows, local_rows, &st.tree, &st.errors};
}

std::vector<double> StrataEngine::reduce(const LocalPass& pass) {
  std::vector<double> total;
  reduce_into(pass, total);
  return total;
}

void StrataEngine::reduce_into(const LocalPass& pass, std::vector<double>& total) {
  pass.tree->exchange_into(pass.local, total);
  if (comm_.size() > 1) count_collective(pass.tree->payload_values() * sizeof(double));
  if (total[pass.width - 1] != 0) {
    agree_or_throw(comm_, pass.first_error());
    throw Error("a worker failed");  // not reached: some rank reported an error above
  }
  total.resize(pass.width - 1);
}

LocalPass StrataEngine::fold_batches(const RowKernel& kernel, std::span<const double> theta, std::size_t first,
                                     std::size_t last) {
  std::size_t rows = 0, local_rows = 0;
  const std::size_t owned = rows_.train.size();
  for (std::size_t g = 0; g < plan_.strata; ++g)
    for (std::size_t m = first; m < last; ++m) {
      const std::size_t lo = std::min(rows_.train_counts[g], m * share_[g]);
      const std::size_t n = std::min(rows_.train_counts[g], lo + share_[g]) - lo;
      rows += n;
      if (g >= first_owned_ && g < first_owned_ + owned) local_rows += n;
    }
  if (kernel.collective())
    return run_collective(kernel, theta, rows, local_rows, [&](RowWorker& w, std::span<RowSums* const> sums) {
      // Every stratum's draws of each micro-batch: each stratum's sums fold its draws of
      // micro-batch first, then first + 1, ... as fold_stratum's do.
      segment_rows_.resize((last - first) * owned);
      std::vector<std::vector<RowSet>> batches(last - first);
      for (std::size_t m = first; m < last; ++m) {
        for (std::size_t s = 0; s < owned; ++s) {
          const std::size_t g = first_owned_ + s;
          const std::size_t draws = order_[s].size();
          const std::size_t lo = std::min(draws, m * share_[g]), hi = std::min(draws, lo + share_[g]);
          std::vector<std::size_t>& rows = segment_rows_[(m - first) * owned + s];
          rows.clear();
          for (std::size_t k = lo; k < hi; ++k) rows.push_back(draw(s, k));
          batches[m - first].push_back(RowSet::list(rows));
        }
      }
      w.accumulate_micro_batches(batches, sums);
    });
  return run(kernel, theta, rows, local_rows,
             [&](std::size_t s, RowWorker& w, RowSums& sums, std::vector<std::size_t>& scratch) {
               fold_stratum(s, first, last, w, sums, scratch);
             });
}

std::size_t StrataEngine::fold_stratum(std::size_t s, std::size_t first, std::size_t last, RowWorker& worker,
                                       RowSums& sums, std::vector<std::size_t>& scratch) const {
  const std::size_t g = first_owned_ + s;
  const std::size_t draws = order_[s].size();
  std::size_t rows = 0;
  for (std::size_t m = first; m < last; ++m) {
    const std::size_t lo = std::min(draws, m * share_[g]);
    const std::size_t hi = std::min(draws, lo + share_[g]);
    if (lo == hi) continue;
    scratch.clear();
    for (std::size_t k = lo; k < hi; ++k) scratch.push_back(draw(s, k));
    worker.accumulate(RowSet::list(scratch), sums);
    rows += hi - lo;
  }
  return rows;
}

LocalPass StrataEngine::fold_all(const RowKernel& kernel, std::span<const double> theta, bool validation) {
  std::size_t local_rows = 0;
  for (const auto& r : validation ? rows_.validation : rows_.train) local_rows += r.size();
  if (kernel.collective())
    return run_collective(kernel, theta, validation ? validation_total_ : train_total_, local_rows,
                          [&](RowWorker& w, std::span<RowSums* const> sums) {
                            std::vector<RowSet> segments;
                            for (const auto& r : validation ? rows_.validation : rows_.train)
                              segments.push_back(RowSet::list(r));
                            w.accumulate_segments(segments, sums);
                          });
  return run(kernel, theta, validation ? validation_total_ : train_total_, local_rows,
             [&](std::size_t s, RowWorker& w, RowSums& sums, std::vector<std::size_t>&) {
               w.accumulate(RowSet::list(validation ? rows_.validation[s] : rows_.train[s]), sums);
             });
}

}  // namespace parafit::detail
