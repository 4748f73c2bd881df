// parallel/strata_engine.h — the data-parallel passes of training: a mini-batch gradient, a full
// gradient, a loss, each computed stratum by stratum on this rank's threads and combined over
// ranks by the fixed tree of strata_tree.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parafit/communicator.h"
#include "train/objective.h"
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

struct PassResult {
  std::vector<double> gradient;  // sum over the pass's rows of r * df/dtheta (empty for a loss pass)
  double loss = 0;               // sum of r^2
  std::size_t rows = 0;          // rows in the pass (all ranks)
};

class StrataEngine {
 public:
  StrataEngine(const TrainObjective& objective, const StrataPlan& plan, StrataRows rows, Communicator& comm,
                int threads, std::size_t batch, std::uint64_t seed);

  // Micro-batches in an epoch: the most any stratum needs to draw all its training rows.
  std::size_t micro_batches_per_epoch() const { return micro_per_epoch_; }
  // Computes the shuffles of `epoch` for the owned strata (call before its batches).
  void start_epoch(std::size_t epoch);
  // Sum of the gradients of micro-batches [first, last) of the current epoch at theta: each owned
  // stratum folds its draws of every micro-batch in turn into one accumulator (gradient
  // accumulation), then one tree all-reduce.
  PassResult batch_gradient(std::span<const double> theta, std::size_t first, std::size_t last);
  // Over every training row (validation = false) or validation row, in ascending order.
  PassResult full_gradient(std::span<const double> theta);
  PassResult full_loss(std::span<const double> theta, bool validation);

  std::size_t collectives() const { return collectives_; }
  std::size_t collective_bytes() const { return collective_bytes_; }
  std::size_t train_rows() const { return train_total_; }
  std::size_t validation_rows() const { return validation_total_; }

 private:
  // Runs fn(owned stratum index, worker, accumulator, running loss) over the owned strata on the
  // threads, then reduces [gradient..., loss, failed] over ranks.
  template <class Fn>
  PassResult run(std::span<const double> theta, bool with_gradient, std::size_t rows, Fn&& fn);

  const TrainObjective& objective_;
  StrataPlan plan_;
  StrataRows rows_;
  Communicator& comm_;
  int threads_;
  std::size_t batch_;
  std::uint64_t seed_;
  std::size_t first_owned_;
  std::vector<std::size_t> share_;  // per stratum: rows per micro-batch
  std::size_t micro_per_epoch_ = 0;
  std::size_t train_total_ = 0, validation_total_ = 0;
  std::vector<std::vector<std::uint32_t>> order_;  // per owned stratum, this epoch's draw order
  std::vector<std::unique_ptr<TrainWorker>> workers_;              // one per thread
  std::vector<std::unique_ptr<GradientAccumulator>> accumulators_;  // one per owned stratum
  std::vector<std::vector<std::size_t>> scratch_;                  // per thread: row indices
  StrataTree gradient_reducer_, loss_reducer_;
  std::vector<double> local_;  // per owned stratum: [gradient..., loss, failed], reused every pass
  std::size_t collectives_ = 0, collective_bytes_ = 0;
};

}  // namespace parafit::detail
