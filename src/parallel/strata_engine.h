// parallel/strata_engine.h — the data-parallel engine of training: row kernels run stratum by
// stratum on this rank's threads, and the stratum sums added up the fixed tree of strata_tree.h.
//
// A pass folds each owned stratum's rows — its draws for some micro-batches of the epoch, or all its
// training or validation rows in ascending order — through a RowKernel into that stratum's sums,
// one stratum per thread at a time, then adds this rank's part of the strata tree (each thread on
// its own range of the values). What happens next is the caller's: reduce() finishes the tree on
// every rank (every rank gets the total), a gradient exchange (parallel/strategies/) may instead
// hand each rank only its slice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "parallel/row_kernel.h"
#include "parallel/strata.h"
#include "parallel/strata_tree.h"

namespace parafit::detail {

struct StrataRows {
  // Per owned stratum, the local indices of its training and validation rows, ascending.
  std::vector<std::vector<std::size_t>> train, validation;
  // Per stratum (all of them, every rank): training and validation row counts.
  std::vector<std::size_t> train_counts, validation_counts;
};

// Splits this rank's rows (global rows [first_row, first_row + local_rows)) into strata and into
// training and validation rows; one all-reduce shares the counts.
StrataRows split_strata(const StrataPlan& plan, Communicator& comm, std::size_t first_row,
                        std::size_t local_rows, std::uint64_t seed, double validation_fraction);

// This rank's part of a pass: per owned stratum a row of width() values, of which the rows of this
// rank's tree nodes (strata_tree.h; row 0 alone with one rank) hold those nodes' sums of the
// strata's leaves — the kernel's sums, then a failure flag (1 if a worker threw on that stratum);
// the other rows are unspecified. Valid until the next pass through the same kernel.
struct LocalPass {
  std::span<double> local;
  std::size_t width = 0;      // kernel width + 1
  std::size_t rows = 0;       // rows in the pass, all ranks
  std::size_t local_rows = 0; // rows in the pass, this rank's strata
  StrataTree* tree = nullptr;
  const std::vector<std::string>* errors = nullptr;  // per owned stratum ("" if none)

  // The first error of this rank's strata, "" if none.
  std::string first_error() const;
};

class StrataEngine {
 public:
  // `batch` rows per micro-batch, drawn from all strata (stratum_share).
  StrataEngine(const StrataPlan& plan, StrataRows rows, Communicator& comm, int threads, std::size_t batch,
               std::uint64_t seed);
  ~StrataEngine();

  const StrataPlan& plan() const { return plan_; }
  Communicator& communicator() const { return comm_; }
  int threads() const { return threads_; }
  // Micro-batches in an epoch: the most any stratum needs to draw all its training rows.
  std::size_t micro_batches_per_epoch() const { return micro_per_epoch_; }
  std::size_t train_rows() const { return train_total_; }
  std::size_t validation_rows() const { return validation_total_; }

  // Computes the shuffles of `epoch` for the owned strata (call before its batches).
  void start_epoch(std::size_t epoch);
  // Folds the draws of micro-batches [first, last) of the current epoch: each owned stratum folds
  // its draws of every micro-batch in turn into one set of sums (gradient accumulation).
  LocalPass fold_batches(const RowKernel& kernel, std::span<const double> theta, std::size_t first,
                         std::size_t last);
  // fold_batches' work on one owned stratum s, without its parallel region: folds s's draws of
  // micro-batches [first, last) of the current epoch, in draw order, into `sums` with `worker`
  // (already given its parameters) and returns the rows folded. For Hogwild
  // (strategies/hogwild_exchange.cpp), whose threads each fold whole steps: it only reads the
  // epoch's draws, so threads may call it at once, each with its own worker, sums and scratch.
  std::size_t fold_stratum(std::size_t s, std::size_t first, std::size_t last, RowWorker& worker, RowSums& sums,
                           std::vector<std::size_t>& scratch) const;
  // Strata this rank owns (all of them on one rank).
  std::size_t owned_strata() const { return rows_.train.size(); }
  // Folds every training row (validation = false) or validation row, in ascending order.
  LocalPass fold_all(const RowKernel& kernel, std::span<const double> theta, bool validation);

  // Finishes the tree across ranks: the kernel's width() sums over the whole pass, on every rank.
  // If a worker failed on any rank, every rank throws the same AgreedError.
  std::vector<double> reduce(const LocalPass& pass);
  // The same into `total` (resized; its memory reused from call to call, for the gradient of every
  // step).
  void reduce_into(const LocalPass& pass, std::vector<double>& total);

  // Collectives made by reduce() and the bytes each rank sent in them.
  std::size_t collectives() const { return collectives_; }
  std::size_t collective_bytes() const { return collective_bytes_; }
  void count_collective(std::size_t bytes) {
    ++collectives_;
    collective_bytes_ += bytes;
  }

 private:
  struct KernelState;
  KernelState& state(const RowKernel& kernel);
  // Threads for a pass over `owned` strata with `work` (rows x the kernel's work per row) in all.
  int pass_threads(std::size_t owned, std::size_t work) const;
  // Runs fold(owned stratum, worker, sums) over the owned strata on the threads, then the local tree.
  template <class Fold>
  LocalPass run(const RowKernel& kernel, std::span<const double> theta, std::size_t rows, std::size_t local_rows,
                Fold&& fold);
  // A collective kernel's pass (RowKernel::collective): on this thread, fold(worker, sums) folds
  // every owned stratum in one call (accumulate_micro_batches for a step's micro-batches,
  // accumulate_segments for all rows); then the local tree. A worker's exception
  // leaves the pass (its group's other ranks cannot go on without this one).
  template <class Fold>
  LocalPass run_collective(const RowKernel& kernel, std::span<const double> theta, std::size_t rows,
                           std::size_t local_rows, Fold&& fold);

  StrataPlan plan_;
  StrataRows rows_;
  Communicator& comm_;
  int threads_;
  std::size_t batch_;
  std::uint64_t seed_;
  std::size_t first_owned_ = 0;
  std::vector<std::size_t> share_;  // per stratum: rows per micro-batch
  std::size_t micro_per_epoch_ = 0;
  std::size_t train_total_ = 0, validation_total_ = 0;
  // The local row of draw k of owned stratum s this epoch.
  std::size_t draw(std::size_t s, std::size_t k) const {
    const std::size_t j = order_[s][k];
    return train_start_[s] != kScattered ? train_start_[s] + j : rows_.train[s][j];
  }

  std::vector<std::vector<std::uint32_t>> order_;  // per owned stratum, this epoch's draw order
  // Per owned stratum, its first training row if its training rows are consecutive (no validation
  // row among them), else kScattered: draws then skip a lookup in rows_.train, a cache miss each.
  static constexpr std::size_t kScattered = static_cast<std::size_t>(-1);
  std::vector<std::size_t> train_start_;
  std::vector<std::vector<std::size_t>> scratch_;  // per thread: row indices
  std::vector<std::vector<std::size_t>> segment_rows_;  // collective passes: per owned stratum
  std::map<const RowKernel*, std::unique_ptr<KernelState>> kernels_;
  std::size_t collectives_ = 0, collective_bytes_ = 0;
};

}  // namespace parafit::detail
