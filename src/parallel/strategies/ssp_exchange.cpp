// The parameter server's workers (--sync ssp:S; the servers are ssp_server.cpp, the messages
// ssp_protocol.h). A worker's step t:
//   1. pushes its strata-tree nodes (the sums of its strata's rows of batch t) to every server,
//      each the columns of that server's range, with nonblocking sends: the next step's gradient
//      overlaps them;
//   2. waits until every server has applied clock t - S (clock t on a step after which the
//      workers must agree: an epoch's last, a checkpoint's) — the SSP bound: no worker starts step
//      t + 1 before the slowest has pushed step t - S, so none runs more than S steps ahead;
//   3. reports the clocks completed since its last report (each server's results carry the loss
//      and flags) and asks the verdict about them, then installs the newest weights.
// With S = 0 every step waits for its own clock: the weights of step t + 1 are the tree total of
// step t applied by the same element-wise optimizer, on the same bits as --sync sync (the servers
// finish the tree in its fixed order). With S > 0 the weights a gradient is computed on depend on
// timing: not reproducible.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/strata_tree.h"
#include "parallel/strategies/gradient_exchange.h"
#include "parallel/strategies/ssp_protocol.h"

namespace parafit::detail {
namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

class SspExchange final : public GradientExchange {
 public:
  SspExchange(StrataEngine& engine, std::size_t p, const OptimizerFactory& make, Communicator& world,
              std::size_t servers, std::size_t staleness)
      : workers_(engine.communicator()),
        world_(world),
        p_(p),
        servers_(servers),
        staleness_(staleness),
        first_server_(std::size_t(world.size()) - servers),
        bounds_(ssp::server_bounds(p, servers)),
        make_(make) {
    const auto w = std::size_t(workers_.rank()), count = std::size_t(workers_.size());
    const StrataPlan& plan = engine.plan();
    nodes_ = tree_cover(plan.strata, plan.first_stratum(w, count), plan.first_stratum(w + 1, count)).size();
  }

  StepReport step(const LocalPass& pass, std::span<double> theta, double scale, double lr,
                  const StepVerdict& verdict, bool agree) override {
    ensure_started(theta);
    push(pass, lr, scale);
    const std::size_t need = agree ? clock_ : (clock_ > staleness_ ? clock_ - staleness_ : 0);
    const bool reached = wait_until(need);
    StepReport report = completed_report();
    if (!reached) {
      // Another worker ended after fewer clocks (it diverged or was stopped): this one cannot go on.
      report.loss = std::numeric_limits<double>::quiet_NaN();
      report.rows = std::max<std::size_t>(report.rows, 1);
      report.gradient_finite = false;
    }
    record_staleness(agree);
    if (report.rows > 0 && !verdict(report)) return report;  // theta keeps the step's start
    std::copy(latest_.begin(), latest_.end(), theta.begin());
    return report;
  }

  void synchronize(std::span<double> theta) override {
    if (!started_ || clock_ == 0) return;
    wait_until(clock_);
    completed_report();
    std::copy(latest_.begin(), latest_.end(), theta.begin());
  }

  void finish(int termination) override {
    if (finished_) return;
    finished_ = true;
    if (!started_) start({});
    for (std::size_t k = 0; k < servers_; ++k) {
      std::vector<double>& m = push_buffer(k);
      std::fill(m.begin(), m.end(), 0.0);
      m[0] = ssp::kDone;
      m[1] = double(clock_);
      m[2] = double(termination);
      pushes_[k] = world_.isend(ssp::cbytes(m), server(k), ssp::kTagPush);
    }
    // Everything the servers still send up to their acknowledgement (the last message).
    for (std::size_t k = 0; k < servers_; ++k) {
      for (;;) {
        results_[k].wait();
        if (inbox_[k][0] == ssp::kAck) break;
        take_result(k);
        post(k);
      }
      pushes_[k].wait();
    }
    if (workers_.rank() == 0) {
      close_header_ = {-1.0};
      for (std::size_t k = 0; k < servers_; ++k) world_.send(ssp::cbytes(close_header_), server(k), ssp::kTagError);
    }
  }

  void fail(const Error& error) override {
    if (finished_ || workers_.rank() != 0) return;
    finished_ = true;
    if (!started_) {
      ssp_start_failed(world_, servers_, error);
      return;
    }
    const std::string text = error.what();
    for (std::size_t k = 0; k < servers_; ++k) {
      const std::vector<double> header = {double(text.size())};
      world_.send(ssp::cbytes(header), server(k), ssp::kTagError);
      if (!text.empty())
        world_.send(std::as_bytes(std::span<const char>(text.data(), text.size())), server(k), ssp::kTagErrorText);
    }
  }

  Staleness staleness() const override { return stats_; }

  // The servers' optimizer state, gathered on worker 0 (the others return nothing: only worker 0
  // writes checkpoints). After an agreeing step, so every clock has been applied.
  OptimizerState state() override {
    if (workers_.rank() != 0) return {};
    OptimizerState state = make_(p_)->state();
    for (std::size_t k = 0; k < servers_; ++k) {
      std::vector<double>& m = push_buffer(k);
      std::fill(m.begin(), m.end(), 0.0);
      m[0] = ssp::kStateRequest;
      world_.send(ssp::cbytes(m), server(k), ssp::kTagPush);
      const std::size_t n = bounds_[k + 1] - bounds_[k];
      std::vector<double> reply(1 + (state.size() - 1) * n);
      world_.recv(ssp::bytes(reply), server(k), ssp::kTagState);
      std::size_t at = 1;
      for (auto& [name, values] : state) {
        if (name == "step") {
          values.assign(1, reply[0]);
        } else {
          std::copy(reply.begin() + std::ptrdiff_t(at), reply.begin() + std::ptrdiff_t(at + n),
                    values.begin() + std::ptrdiff_t(bounds_[k]));
          at += n;
        }
      }
    }
    return state;
  }
  // A checkpoint's state: worker 0 hands each server its range at the start.
  void set_state(const OptimizerState& state) override {
    make_(p_)->set_state(state);  // checks it (names, sizes, values) before anything is sent
    resume_ = state;
  }
  std::size_t state_values() const override { return 0; }  // the servers hold it
  bool sharded() const override { return false; }

 private:
  int server(std::size_t k) const { return int(first_server_ + k); }

  // Server k's push buffer (every push to it has this size: the server's receive has it too).
  std::vector<double>& push_buffer(std::size_t k) {
    pushes_[k].wait();  // the previous push from this buffer has gone
    push_[k].resize(ssp::kPushHeader + nodes_ * ssp::push_columns(bounds_, k));
    return push_[k];
  }

  void post(std::size_t k) { results_[k] = world_.irecv(ssp::bytes(inbox_[k]), server(k), ssp::kTagResult); }

  // Worker 0 sends every server its range of the starting weights (and of a checkpoint's state);
  // every worker posts a receive for each server's results.
  void ensure_started(std::span<const double> theta) {
    if (!started_) start(theta);
  }
  void start(std::span<const double> theta) {
    started_ = true;
    latest_.assign(theta.begin(), theta.end());
    if (latest_.empty()) latest_.assign(p_, 0.0);
    if (workers_.rank() == 0) {
      for (std::size_t k = 0; k < servers_; ++k) {
        const std::vector<double> hello = {double(p_), resume_ ? 1.0 : 0.0, 1.0, 0.0};
        world_.send(ssp::cbytes(hello), server(k), ssp::kTagHello);
        const std::vector<double> slice(latest_.begin() + std::ptrdiff_t(bounds_[k]),
                                        latest_.begin() + std::ptrdiff_t(bounds_[k + 1]));
        if (!slice.empty()) world_.send(ssp::cbytes(slice), server(k), ssp::kTagHelloData);
        if (resume_) {
          std::vector<double> values;
          for (const auto& [name, v] : *resume_)
            if (name == "step") values.insert(values.begin(), v.begin(), v.end());
          for (const auto& [name, v] : *resume_)
            if (name != "step")
              values.insert(values.end(), v.begin() + std::ptrdiff_t(bounds_[k]),
                            v.begin() + std::ptrdiff_t(bounds_[k + 1]));
          world_.send(ssp::cbytes(values), server(k), ssp::kTagHelloData);
        }
      }
    }
    pushes_.resize(servers_);
    push_.resize(servers_);
    inbox_.resize(servers_);
    results_.resize(servers_);
    versions_.assign(servers_, 0);
    for (std::size_t k = 0; k < servers_; ++k) {
      inbox_[k].resize(ssp::kResultHeader + bounds_[k + 1] - bounds_[k]);
      post(k);
    }
  }

  void push(const LocalPass& pass, double lr, double scale) {
    const std::vector<std::pair<std::size_t, std::size_t>> nodes = pass.tree->my_nodes();
    bool failed = false;
    for (const auto& node : nodes)
      if (pass.tree->node_row(pass.local, node.first)[p_ + 1] != 0) failed = true;
    if (failed && !error_) error_ = pass.first_error();
    if (nodes.size() != nodes_) throw std::logic_error("ssp: the pass's tree nodes are not this worker's");
    for (std::size_t k = 0; k < servers_; ++k) {
      std::vector<double>& m = push_buffer(k);
      m[0] = ssp::kGradient;
      m[1] = double(clock_);
      m[2] = lr;
      m[3] = scale;
      double* out = m.data() + ssp::kPushHeader;
      for (const auto& node : nodes) {
        const auto row = pass.tree->node_row(pass.local, node.first);
        out = std::copy(row.begin() + std::ptrdiff_t(bounds_[k]), row.begin() + std::ptrdiff_t(bounds_[k + 1]), out);
        if (k + 1 == servers_) {
          *out++ = row[p_];      // the loss
          *out++ = row[p_ + 1];  // the failure flag
        }
      }
      pushes_[k] = world_.isend(ssp::cbytes(m), server(k), ssp::kTagPush);
    }
    rows_[clock_] = pass.rows;
    ++clock_;
  }

  // One result from server k (its receive has completed).
  void take_result(std::size_t k) {
    const std::vector<double>& m = inbox_[k];
    if (m[0] == ssp::kStopped) {
      limit_ = std::min(limit_, std::size_t(m[1]));
      return;
    }
    const auto version = std::size_t(m[1]);
    versions_[k] = version;
    std::copy(m.begin() + ssp::kResultHeader, m.end(), latest_.begin() + std::ptrdiff_t(bounds_[k]));
    Clock& c = clocks_[version - 1];
    ++c.servers;
    if (k + 1 == servers_) {
      c.loss = m[2];
      c.failed = m[4] != 0;
    }
    c.finite = c.finite && m[3] != 0;
  }

  std::size_t min_version() const { return *std::min_element(versions_.begin(), versions_.end()); }

  // Takes results until every server has applied `need` clocks; false when that can never happen
  // (another worker is done after fewer clocks).
  bool wait_until(std::size_t need) {
    for (;;) {
      for (std::size_t k = 0; k < servers_; ++k)
        while (results_[k].test()) {
          take_result(k);
          post(k);
        }
      if (min_version() >= need) return true;
      if (limit_ < need) return false;
      // Block on the server furthest behind: its next result is needed anyway. A server that
      // hangs or dies ends the wait by the rank timeout (RankFailed / TimedOut).
      const auto k = std::size_t(std::min_element(versions_.begin(), versions_.end()) - versions_.begin());
      results_[k].wait();
      take_result(k);
      post(k);
    }
  }

  // The clocks every server has reported since the last report: their loss and rows summed, their
  // flags combined. A failed worker on any of them ends the run on every rank alike.
  StepReport completed_report() {
    StepReport report;
    const std::size_t upto = min_version();
    bool failed = false;
    for (; reported_ < upto; ++reported_) {
      const Clock& c = clocks_[reported_];
      report.loss = report.loss + c.loss;
      report.rows += rows_[reported_];
      report.gradient_finite = report.gradient_finite && c.finite;
      failed = failed || c.failed;
      clocks_.erase(reported_);
      rows_.erase(reported_);
    }
    if (failed) {
      // Every worker reads this clock's report before its next collective (an agreeing step
      // waits for every clock): the agreement below is the next collective of all of them.
      agree_or_throw(workers_, error_.value_or(""));
      throw Error("a worker failed");  // not reached: the failed worker's error was agreed above
    }
    return report;
  }

  void record_staleness(bool agree) {
    const std::size_t behind = clock_ - min_version();
    if (!agree && behind > staleness_)
      throw std::logic_error(fmt::format("ssp: a worker is {} steps ahead of the weights, past the bound {}", behind,
                                         staleness_));
    stats_.sum += double(behind);
    ++stats_.steps;
    stats_.max = std::max(stats_.max, behind);
  }

  struct Clock {
    std::size_t servers = 0;
    double loss = 0;
    bool finite = true, failed = false;
  };

  Communicator& workers_;
  Communicator& world_;
  std::size_t p_, servers_, staleness_, first_server_;
  std::size_t nodes_ = 0;  // this worker's strata-tree nodes
  std::vector<std::size_t> bounds_;
  OptimizerFactory make_;
  std::optional<OptimizerState> resume_;
  bool started_ = false, finished_ = false;
  std::size_t clock_ = 0;       // clocks pushed
  std::size_t reported_ = 0;    // clocks reported to the Trainer
  std::size_t limit_ = kNone;   // no clock past this can complete (a worker is done)
  std::vector<double> latest_;  // the newest weights from every server
  std::vector<std::size_t> versions_;
  std::map<std::size_t, Clock> clocks_;
  std::map<std::size_t, std::size_t> rows_;  // per pushed clock: its rows, all workers
  std::vector<std::vector<double>> push_, inbox_;
  std::vector<Work> pushes_, results_;
  std::vector<double> close_header_;
  std::optional<std::string> error_;
  Staleness stats_;
};

}  // namespace

void ssp_start_failed(Communicator& world, std::size_t servers, const Error& error) {
  const std::string text = error.what();
  const auto first = std::size_t(world.size()) - servers;
  for (std::size_t k = 0; k < servers; ++k) {
    const std::vector<double> hello = {0, error.kind() == Error::Kind::kUsage ? 1.0 : 0.0, 0, double(text.size())};
    world.send(ssp::cbytes(hello), int(first + k), ssp::kTagHello);
    if (!text.empty())
      world.send(std::as_bytes(std::span<const char>(text.data(), text.size())), int(first + k), ssp::kTagErrorText);
  }
}

std::unique_ptr<GradientExchange> make_ssp_exchange(StrataEngine& engine, std::size_t num_parameters,
                                                    const OptimizerFactory& make_optimizer, Communicator& world,
                                                    std::size_t servers, std::size_t staleness) {
  return std::make_unique<SspExchange>(engine, num_parameters, make_optimizer, world, servers, staleness);
}

}  // namespace parafit::detail
