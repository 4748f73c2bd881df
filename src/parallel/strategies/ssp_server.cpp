// The parameter server's server rank (ssp_server.h). One loop polls a posted receive per worker
// (Open MPI 4.1 has no "wait for any" through the Communicator, and no progress of its own: the
// loop's test() calls are what move the messages), applies each clock when its last push is in,
// and sends the results with nonblocking sends that it completes as it goes.
#include "parallel/strategies/ssp_server.h"

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/sharded_optimizer.h"
#include "parallel/strata_tree.h"
#include "parallel/strategies/scale_gradient.h"
#include "parallel/strategies/ssp_protocol.h"

namespace parafit::detail {
namespace {

// Reads the text of an agreed failure (kTagError's length, then kTagErrorText) from `from`.
std::string receive_error_text(Communicator& world, int from, double length) {
  std::string text(std::size_t(length), '\0');
  if (!text.empty()) world.recv(std::as_writable_bytes(std::span<char>(text.data(), text.size())), from, ssp::kTagErrorText);
  return text;
}

}  // namespace

struct SspServer::State {
  SspServerSetup setup;
  Communicator& world;
  std::size_t me = 0;  // server index k
  std::size_t p = 0, lo = 0, hi = 0, columns = 0;
  bool last = false;
  std::vector<double> weights;
  std::unique_ptr<ShardedOptimizer> optimizer;
  std::vector<std::pair<std::size_t, std::size_t>> slots;  // every worker's tree nodes, worker order
  std::vector<std::size_t> first_slot, slot_count;         // per worker
  // Clocks in progress: every worker's node columns, pushes received, the lr and scale.
  struct Pending {
    std::vector<double> values;
    std::size_t received = 0;
    double lr = 0, scale = 0;
  };
  std::map<std::size_t, Pending> pending;
  std::size_t applied = 0;
  std::vector<std::vector<double>> inbox;  // per worker: the posted receive's buffer
  std::vector<Work> receives;
  std::vector<bool> done;
  std::vector<double> done_clocks;
  std::vector<bool> told_stopped;
  std::size_t min_done = static_cast<std::size_t>(-1);
  Termination termination = Termination::kCompleted;
  std::deque<std::pair<std::vector<double>, Work>> sends;  // results in flight
  std::vector<double> error_header = std::vector<double>(1);
  Work error_receive;
  bool error_closed = false;

  explicit State(SspServerSetup s) : setup(std::move(s)), world(*setup.world) {
    me = std::size_t(world.rank()) - setup.workers;
  }

  int worker_rank(std::size_t w) const { return int(w); }

  void send_result(std::size_t w, double kind, double version, double loss, double finite, double failed) {
    std::vector<double> msg(ssp::kResultHeader + (hi - lo));
    msg[0] = kind;
    msg[1] = version;
    msg[2] = loss;
    msg[3] = finite;
    msg[4] = failed;
    std::copy(weights.begin(), weights.end(), msg.begin() + ssp::kResultHeader);
    sends.emplace_back(std::move(msg), Work());
    sends.back().second = world.isend(ssp::cbytes(sends.back().first), worker_rank(w), ssp::kTagResult);
  }

  // Completes the sends that are done (keeping their order), so their buffers can go.
  void reap_sends() {
    while (!sends.empty() && sends.front().second.test()) sends.pop_front();
  }

  void post(std::size_t w) {
    receives[w] = world.irecv(ssp::bytes(inbox[w]), worker_rank(w), ssp::kTagPush);
  }

  void apply(std::size_t clock) {
    Pending& c = pending[clock];
    std::vector<double> total = tree_top(setup.plan.strata, slots, c.values, columns, 0, columns);
    const std::size_t n = hi - lo;
    const double loss = last ? total[n] : 0.0;
    const double failed = last ? total[n + 1] : 0.0;
    const bool finite = scale_and_check(std::span<double>(total.data(), n), c.scale);
    optimizer->step(weights, std::span<const double>(total.data(), n), c.lr);
    pending.erase(clock);
    ++applied;
    for (std::size_t w = 0; w < setup.workers; ++w)
      if (!done[w]) send_result(w, ssp::kUpdate, double(applied), loss, finite ? 1.0 : 0.0, failed);
  }

  // A worker that has pushed past the clock where another stopped can never see that clock
  // complete: it is told once, and ends.
  void tell_stopped(std::size_t w) {
    if (told_stopped[w] || done[w]) return;
    told_stopped[w] = true;
    send_result(w, ssp::kStopped, double(min_done), 0, 1, 0);
  }

  void receive(std::size_t w) {
    const std::vector<double>& m = inbox[w];
    const double kind = m[0];
    if (kind == ssp::kDone) {
      done[w] = true;
      done_clocks[w] = m[1];
      if (w == 0) termination = static_cast<Termination>(int(m[2]));
      min_done = std::min(min_done, std::size_t(m[1]));
      send_result(w, ssp::kAck, double(applied), 0, 1, 0);  // the last message w gets
      for (std::size_t v = 0; v < setup.workers; ++v) {
        if (done[v]) continue;
        for (const auto& [clock, c] : pending)
          if (clock >= min_done && c.received > 0) tell_stopped(v);
      }
      return;
    }
    if (kind == ssp::kStateRequest) {
      OptimizerState state = optimizer->state();
      std::vector<double> out;
      for (const auto& [name, values] : state)
        if (name == "step") out.insert(out.begin(), values.begin(), values.end());
      for (const auto& [name, values] : state)
        if (name != "step") out.insert(out.end(), values.begin(), values.end());
      world.send(ssp::cbytes(out), worker_rank(w), ssp::kTagState);
      post(w);
      return;
    }
    const auto clock = std::size_t(m[1]);
    Pending& c = pending[clock];
    if (c.values.empty()) c.values.resize(slots.size() * columns);
    c.lr = m[2];
    c.scale = m[3];
    std::copy(m.begin() + ssp::kPushHeader, m.end(),
              c.values.begin() + std::ptrdiff_t(first_slot[w] * columns));
    ++c.received;
    if (clock >= min_done)
      for (std::size_t v = 0; v < setup.workers; ++v) tell_stopped(v);
    post(w);
    // Clocks complete in order: a worker pushes its clocks in order and each needs every worker.
    while (!pending.empty() && pending.begin()->first == applied && pending.begin()->second.received == setup.workers)
      apply(applied);
  }
};

SspServer::SspServer(SspServerSetup setup) : s_(std::make_unique<State>(std::move(setup))) {}
SspServer::~SspServer() = default;

std::size_t SspServer::applied() const { return s_->applied; }

void SspServer::start() {
  State& s = *s_;
  std::vector<double> hello(ssp::kHelloHeader);
  s.world.recv(ssp::bytes(hello), 0, ssp::kTagHello);
  if (hello[2] == 0) {  // the workers failed to start: their agreed message follows
    const std::string text = receive_error_text(s.world, 0, hello[3]);
    throw AgreedError(text, hello[1] != 0 ? Error::Kind::kUsage : Error::Kind::kData);
  }
  s.p = std::size_t(hello[0]);
  const std::vector<std::size_t> bounds = ssp::server_bounds(s.p, s.setup.servers);
  s.lo = bounds[s.me];
  s.hi = bounds[s.me + 1];
  s.last = s.me + 1 == s.setup.servers;
  s.columns = ssp::push_columns(bounds, s.me);
  s.weights.resize(s.hi - s.lo);
  if (!s.weights.empty()) s.world.recv(ssp::bytes(s.weights), 0, ssp::kTagHelloData);
  s.optimizer = std::make_unique<ShardedOptimizer>(s.hi - s.lo, s.setup.threads, s.setup.make_optimizer);
  if (hello[1] != 0) {  // resumed: this range's optimizer state, "step" first
    OptimizerState state = s.optimizer->state();
    std::vector<double> values(1 + s.optimizer->state_values());
    s.world.recv(ssp::bytes(values), 0, ssp::kTagHelloData);
    std::size_t at = 1;
    for (auto& [name, v] : state) {
      if (name == "step") {
        v.assign(1, values[0]);
      } else {
        std::copy(values.begin() + std::ptrdiff_t(at), values.begin() + std::ptrdiff_t(at + v.size()), v.begin());
        at += v.size();
      }
    }
    s.optimizer->set_state(state);
  }
  const std::size_t workers = s.setup.workers;
  for (std::size_t w = 0; w < workers; ++w) {
    const auto cover = tree_cover(s.setup.plan.strata, s.setup.plan.first_stratum(w, workers),
                                  s.setup.plan.first_stratum(w + 1, workers));
    s.first_slot.push_back(s.slots.size());
    s.slot_count.push_back(cover.size());
    s.slots.insert(s.slots.end(), cover.begin(), cover.end());
    s.inbox.emplace_back(ssp::kPushHeader + cover.size() * s.columns);
  }
  s.receives.resize(workers);
  s.done.assign(workers, false);
  s.done_clocks.assign(workers, 0);
  s.told_stopped.assign(workers, false);
  for (std::size_t w = 0; w < workers; ++w) s.post(w);
  s.error_receive = s.world.irecv(ssp::bytes(s.error_header), 0, ssp::kTagError);
}

Termination SspServer::serve() {
  State& s = *s_;
  std::size_t idle = 0;
  std::size_t finished = 0;
  while (finished < s.setup.workers) {
    bool progressed = false;
    for (std::size_t w = 0; w < s.setup.workers; ++w) {
      if (s.done[w] || !s.receives[w].test()) continue;
      s.receive(w);
      progressed = true;
      if (s.done[w]) ++finished;
    }
    if (!s.error_closed && s.error_receive.test()) {
      // Worker 0's last word: a length of -1 once it is done, else an agreed failure's text.
      if (s.error_header[0] >= 0) throw AgreedError(receive_error_text(s.world, 0, s.error_header[0]));
      s.error_closed = true;
    }
    s.reap_sends();
    if (progressed) {
      idle = 0;
    } else if (++idle < 64) {
      std::this_thread::yield();
    } else {
      // Nothing for a while (the workers are computing): sleep a little rather than spin on a
      // core they may need.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  // Worker 0 closes the error channel (length -1) after its done message: a receive left posted
  // would block its Work's destructor.
  while (!s.error_closed) {
    s.error_receive.wait();
    if (s.error_header[0] >= 0) throw AgreedError(receive_error_text(s.world, 0, s.error_header[0]));
    s.error_closed = true;
  }
  while (!s.sends.empty()) {
    s.sends.front().second.wait();
    s.sends.pop_front();
  }
  return s.termination;
}

}  // namespace parafit::detail
