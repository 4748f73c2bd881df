// parallel/strategies/ssp_server.h — a server rank of the parameter server (--sync ssp:S).
//
// It holds the weights and optimizer state of one parameter range. For each clock (a step index)
// it collects every worker's strata-tree nodes for its columns, finishes the tree in the fixed
// order (tree_top: the same bits as the synchronous exchange's), scales it to the mean gradient,
// takes one optimizer step on its slice and sends the new slice, with the clock's loss and flags,
// to every worker. It never waits for a clock that a worker has not reached: workers run ahead of
// it by up to S clocks (ssp_exchange.cpp), and it applies each clock as soon as its last push
// arrives. Messages: ssp_protocol.h.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "parafit/communicator.h"
#include "parafit/termination.h"
#include "parallel/strata.h"
#include "parallel/strategies/gradient_exchange.h"

namespace parafit::detail {

struct SspServerSetup {
  Communicator* world = nullptr;  // workers are ranks [0, workers), servers the ranks after them
  std::size_t workers = 0, servers = 0;
  StrataPlan plan;  // the workers' strata (their tree nodes make the pushes)
  OptimizerFactory make_optimizer;
  int threads = 1;
};

class SspServer {
 public:
  explicit SspServer(SspServerSetup setup);
  ~SspServer();
  // Waits for worker 0's hello: the parameter count, this range's starting weights and optimizer
  // state. Throws AgreedError with the workers' message when they failed to start.
  void start();
  // Serves until every worker is done; returns the termination worker 0 reported. Throws
  // AgreedError with the workers' message when they fail, RankFailed when a rank dies or hangs.
  Termination serve();
  // Clocks applied.
  std::size_t applied() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace parafit::detail
