// Collectives of the ranks-as-threads backend: matched by sequence number, completed by the last
// rank to join.
#include <fmt/format.h>

#include "group.h"

namespace parafit::thread_backend {

std::shared_ptr<Collective> join(Group& group, int rank, const Call& call, const void* in, void* out, int color,
                                 int key) {
  group.throw_if_failed();
  const std::uint64_t number = group.calls[static_cast<std::size_t>(rank)]++;
  std::shared_ptr<Collective>& slot = group.pending[number];
  if (!slot) {
    slot = std::make_shared<Collective>(call, rank, group.size());
  } else if (!(slot->call == call)) {
    group.fail_by(rank, fmt::format("{} does not match {} called by rank {}", describe(call), describe(slot->call),
                                    slot->first_rank));
  }
  std::shared_ptr<Collective> c = slot;
  const auto r = static_cast<std::size_t>(rank);
  c->here[r] = true;
  c->in[r] = in;
  c->out[r] = out;
  c->color[r] = color;
  c->key[r] = key;
  if (++c->joined == group.size()) {
    complete(group, *c);
    c->done = true;
    group.pending.erase(number);
    group.tree->changed.notify_all();
  }
  return c;
}

namespace {

// Returns if `c` is done; otherwise throws the reason it cannot be (in_time: the wait did not time out).
void settle(Group& group, int rank, const Collective& c, bool in_time) {
  if (c.done) return;  // completed, even if the group failed just afterwards
  group.throw_if_failed();
  const std::string what = describe(c.call);
  if (!in_time) {
    group.fail_by(rank, fmt::format("{} timed out after {} ms: {} of {} ranks arrived", what, group.timeout.count(),
                                    c.joined, group.size()),
                  true);
  }
  const int gone = group.blocker(c);
  if (gone >= 0)
    group.fail_by(rank, fmt::format("{} can never complete: rank {} has {} without calling it", what, gone,
                                    group.gone_how(gone)));
}

class IallreduceWork final : public Work::Impl {
 public:
  IallreduceWork(std::shared_ptr<Group> group, int rank, std::shared_ptr<Collective> c)
      : group_(std::move(group)), rank_(rank), c_(std::move(c)) {}

  bool test() override {
    std::lock_guard lock(group_->tree->mutex);
    settle(*group_, rank_, *c_, true);
    return c_->done;
  }
  void wait() override {
    std::unique_lock lock(group_->tree->mutex);
    await(*group_, lock, rank_, *c_);
  }

 private:
  std::shared_ptr<Group> group_;
  int rank_;
  std::shared_ptr<Collective> c_;
};

}  // namespace

void await(Group& group, std::unique_lock<std::mutex>& lock, int rank, const Collective& c) {
  const bool in_time =
      group.wait(lock, group.deadline(), [&] { return c.done || group.failure || group.blocker(c) >= 0; });
  settle(group, rank, c, in_time);
}

Work iallreduce_work(std::shared_ptr<Group> group, int rank, std::shared_ptr<Collective> c) {
  return Work(std::make_unique<IallreduceWork>(std::move(group), rank, std::move(c)));
}

}  // namespace parafit::thread_backend
