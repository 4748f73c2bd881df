// LocalCommunicator: one process alone. Collectives copy or do nothing; a message to itself waits in
// a mailbox until the matching receive (or completes a receive posted before it).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <list>
#include <optional>

#include "parafit/communicator.h"

namespace parafit {
namespace {

// Whether this communicator, or one it was split from, has failed. Only the first reason is kept.
struct Fate {
  std::optional<std::string> reason;
  std::shared_ptr<Fate> parent;

  const std::string* failure() const {
    for (const Fate* f = this; f != nullptr; f = f->parent.get())
      if (f->reason) return &*f->reason;
    return nullptr;
  }
  void throw_if_failed() const {
    if (const std::string* why = failure()) throw RankFailed(0, *why);
  }
};

struct Receive {
  std::span<std::byte> buffer;
  int tag;
  bool done = false;
  std::string error;  // a message of the wrong size
};

void deliver(Receive& receive, std::span<const std::byte> data) {
  receive.done = true;
  if (data.size() != receive.buffer.size()) {
    receive.error = fmt::format("irecv({} bytes) from rank 0, tag {}: the message has {} bytes",
                                receive.buffer.size(), receive.tag, data.size());
    return;
  }
  if (!data.empty()) std::memcpy(receive.buffer.data(), data.data(), data.size());
}

struct Message {
  int tag;
  std::vector<std::byte> data;
};

// Shared with the Works of pending receives, which may outlive the communicator.
struct Mailbox {
  std::deque<Message> unexpected;              // sent, not yet received, in the order sent
  std::list<std::shared_ptr<Receive>> posted;  // receives waiting for a send, in the order posted
};

}  // namespace

struct LocalCommunicator::State {
  std::shared_ptr<Fate> fate = std::make_shared<Fate>();
  std::shared_ptr<Mailbox> mailbox = std::make_shared<Mailbox>();
};

namespace {

class LocalReceive final : public Work::Impl {
 public:
  LocalReceive(std::shared_ptr<Fate> fate, std::shared_ptr<Mailbox> mailbox, std::shared_ptr<Receive> receive)
      : fate_(std::move(fate)), mailbox_(std::move(mailbox)), receive_(std::move(receive)) {}
  // A receive that never completed must not be filled later: take it off the list.
  ~LocalReceive() override { mailbox_->posted.remove(receive_); }

  bool test() override {
    if (receive_->done) {
      if (!receive_->error.empty()) throw Error(receive_->error);
      return true;
    }
    fate_->throw_if_failed();
    return false;
  }
  void wait() override {
    if (test()) return;
    // The only rank that could send it is this one, which is waiting here.
    throw Error(fmt::format("irecv({} bytes) from rank 0, tag {} can never complete: no message was sent, "
                            "and this communicator has no other rank",
                            receive_->buffer.size(), receive_->tag));
  }

 private:
  std::shared_ptr<Fate> fate_;
  std::shared_ptr<Mailbox> mailbox_;
  std::shared_ptr<Receive> receive_;
};

void copy_elements(void* to, const void* from, std::size_t count, DataType type) {
  if (count > 0 && to != from) std::memcpy(to, from, count * size_of(type));
}

}  // namespace

LocalCommunicator::LocalCommunicator() : state_(std::make_unique<State>()) {}

LocalCommunicator::~LocalCommunicator() = default;

void LocalCommunicator::do_allreduce(void*, std::size_t, DataType, ReduceOp) { state_->fate->throw_if_failed(); }

void LocalCommunicator::do_allgather(const void* mine, void* all, std::size_t count, DataType type) {
  state_->fate->throw_if_failed();
  copy_elements(all, mine, count, type);
}

void LocalCommunicator::do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts,
                                      DataType type) {
  state_->fate->throw_if_failed();
  copy_elements(all, mine, counts[0], type);
}

void LocalCommunicator::do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts,
                                          DataType type, ReduceOp) {
  state_->fate->throw_if_failed();
  copy_elements(out, in, counts[0], type);
}

// The root was checked (it can only be 0).
void LocalCommunicator::do_broadcast(void*, std::size_t, DataType, int) { state_->fate->throw_if_failed(); }

void LocalCommunicator::do_barrier() { state_->fate->throw_if_failed(); }

Work LocalCommunicator::do_isend(std::span<const std::byte> data, int, int tag) {
  state_->fate->throw_if_failed();
  auto& posted = state_->mailbox->posted;
  const auto match = std::find_if(posted.begin(), posted.end(), [&](const auto& r) { return r->tag == tag; });
  if (match != posted.end()) {
    deliver(**match, data);
    posted.erase(match);
  } else {
    state_->mailbox->unexpected.push_back(Message{tag, std::vector<std::byte>(data.begin(), data.end())});
  }
  return Work();
}

Work LocalCommunicator::do_irecv(std::span<std::byte> data, int, int tag) {
  state_->fate->throw_if_failed();
  auto receive = std::make_shared<Receive>(Receive{data, tag, false, {}});
  auto& unexpected = state_->mailbox->unexpected;
  const auto match = std::find_if(unexpected.begin(), unexpected.end(), [&](const Message& m) { return m.tag == tag; });
  if (match != unexpected.end()) {
    deliver(*receive, match->data);
    unexpected.erase(match);
  } else {
    state_->mailbox->posted.push_back(receive);
  }
  return Work(std::make_unique<LocalReceive>(state_->fate, state_->mailbox, std::move(receive)));
}

Work LocalCommunicator::do_iallreduce(void*, std::size_t, DataType, ReduceOp) {
  state_->fate->throw_if_failed();
  return Work();
}

std::unique_ptr<Communicator> LocalCommunicator::do_split(int color, int) {
  state_->fate->throw_if_failed();
  if (color < 0) return nullptr;
  auto child = std::make_unique<LocalCommunicator>();
  child->state_->fate->parent = state_->fate;
  return child;
}

void LocalCommunicator::do_abort(const std::string& reason) {
  if (!state_->fate->reason) state_->fate->reason = reason;
}

}  // namespace parafit
