// Point-to-point messages of the ranks-as-threads backend: a send is copied at once, into the
// first matching posted receive or else into the destination's mailbox.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "group.h"

namespace parafit::thread_backend {
namespace {

std::string describe(const Receive& r) {
  return fmt::format("irecv({} bytes) from rank {}, tag {}", r.buffer.size(), r.source, r.tag);
}

void deliver(Receive& receive, std::span<const std::byte> data) {
  receive.done = true;
  if (data.size() != receive.buffer.size()) {
    receive.error = fmt::format("{}: the message has {} bytes", describe(receive), data.size());
    return;
  }
  if (!data.empty()) std::memcpy(receive.buffer.data(), data.data(), data.size());
}

class ReceiveWork final : public Work::Impl {
 public:
  ReceiveWork(std::shared_ptr<Group> group, int rank, std::shared_ptr<Receive> receive)
      : group_(std::move(group)), rank_(rank), receive_(std::move(receive)) {}
  // A receive that never completed must not be filled later: take it off the list.
  ~ReceiveWork() override {
    std::lock_guard lock(group_->tree->mutex);
    if (!receive_->done) group_->posted[static_cast<std::size_t>(rank_)].remove(receive_);
  }

  bool test() override {
    std::lock_guard lock(group_->tree->mutex);
    return settle(true);
  }
  void wait() override {
    std::unique_lock lock(group_->tree->mutex);
    const bool in_time = group_->wait(lock, group_->deadline(), [&] {
      return receive_->done || group_->failure || group_->gone(receive_->source);
    });
    settle(in_time);
  }

 private:
  // With the lock held: true if the receive has completed, false if it may still; throws if it
  // failed or never can complete.
  bool settle(bool in_time) {
    if (receive_->done) {
      if (!receive_->error.empty()) group_->fail_by(rank_, receive_->error);
      return true;
    }
    group_->throw_if_failed();
    if (group_->gone(receive_->source)) {
      group_->fail_by(rank_, fmt::format("{} can never complete: rank {} has {} without sending it",
                                         describe(*receive_), receive_->source, group_->gone_how(receive_->source)));
    }
    if (!in_time)
      group_->fail_by(rank_, fmt::format("{} timed out after {} ms", describe(*receive_), group_->timeout.count()),
                      true);
    return false;
  }

  std::shared_ptr<Group> group_;
  int rank_;
  std::shared_ptr<Receive> receive_;
};

}  // namespace

void send(Group& group, int rank, std::span<const std::byte> data, int destination, int tag) {
  group.throw_if_failed();
  auto& posted = group.posted[static_cast<std::size_t>(destination)];
  const auto match = std::find_if(posted.begin(), posted.end(), [&](const std::shared_ptr<Receive>& r) {
    return r->source == rank && r->tag == tag;
  });
  if (match != posted.end()) {
    deliver(**match, data);
    posted.erase(match);
    group.tree->changed.notify_all();
  } else {
    group.unexpected[static_cast<std::size_t>(destination)].push_back(
        Message{rank, tag, std::vector<std::byte>(data.begin(), data.end())});
  }
}

Work receive(std::shared_ptr<Group> group, int rank, std::span<std::byte> data, int source, int tag) {
  group->throw_if_failed();
  auto receive = std::make_shared<Receive>(Receive{source, tag, data, false, {}});
  auto& box = group->unexpected[static_cast<std::size_t>(rank)];
  const auto match =
      std::find_if(box.begin(), box.end(), [&](const Message& m) { return m.source == source && m.tag == tag; });
  if (match != box.end()) {
    deliver(*receive, match->data);
    box.erase(match);
  } else {
    group->posted[static_cast<std::size_t>(rank)].push_back(receive);
  }
  return Work(std::make_unique<ReceiveWork>(std::move(group), rank, std::move(receive)));
}

}  // namespace parafit::thread_backend
