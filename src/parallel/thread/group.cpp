#include "group.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace parafit::thread_backend {

std::string describe(const Call& call) {
  switch (call.kind) {
    case Kind::kAllreduce:
    case Kind::kIallreduce:
      return fmt::format("{}({} x {}, {})", call.kind == Kind::kAllreduce ? "allreduce" : "iallreduce",
                         to_string(call.type), call.count, to_string(call.op));
    case Kind::kAllgather:
      return fmt::format("allgather({} x {} per rank)", to_string(call.type), call.count);
    case Kind::kAllgatherv:
      return fmt::format("allgatherv({}, counts {})", to_string(call.type), call.counts);
    case Kind::kReduceScatter:
      return fmt::format("reduce_scatter({}, counts {}, {})", to_string(call.type), call.counts,
                         to_string(call.op));
    case Kind::kBroadcast:
      return fmt::format("broadcast({} x {}, root {})", to_string(call.type), call.count, call.root);
    case Kind::kBarrier:
      return "barrier()";
    case Kind::kSplit:
      return "split()";
  }
  return "?";
}

Collective::Collective(const Call& call, int first_rank, int size)
    : call(call),
      first_rank(first_rank),
      here(static_cast<std::size_t>(size), false),
      in(static_cast<std::size_t>(size), nullptr),
      out(static_cast<std::size_t>(size), nullptr),
      color(static_cast<std::size_t>(size), 0),
      key(static_cast<std::size_t>(size), 0),
      child(static_cast<std::size_t>(size)),
      child_rank(static_cast<std::size_t>(size), -1) {}

Group::Group(std::shared_ptr<Tree> tree, std::vector<int> tree_rank, std::vector<int> parent_rank,
             std::chrono::milliseconds timeout)
    : tree(std::move(tree)),
      tree_rank(std::move(tree_rank)),
      parent_rank(std::move(parent_rank)),
      timeout(timeout),
      left(this->tree_rank.size(), false),
      calls(this->tree_rank.size(), 0),
      unexpected(this->tree_rank.size()),
      posted(this->tree_rank.size()) {}

void Group::fail(const Failure& f) {
  if (failure) return;
  failure = f;
  for (const auto& weak : children) {
    const std::shared_ptr<Group> child = weak.lock();
    if (!child) continue;
    int rank_in_child = -1;
    if (f.levels == 0) {
      const auto it = std::find(child->parent_rank.begin(), child->parent_rank.end(), f.rank);
      if (it != child->parent_rank.end()) rank_in_child = static_cast<int>(it - child->parent_rank.begin());
    }
    child->fail(inherited(f, rank_in_child));
  }
  tree->changed.notify_all();
}

void Group::throw_if_failed() const {
  if (failure) throw rank_failed(*failure);
}

void Group::fail_by(int rank, const std::string& why, bool timed_out) {
  fail(Failure{rank, 0, why, timed_out});
  throw Error(fmt::format("rank {}: {}", rank, why));
}

bool Group::gone(int rank) const {
  const auto r = static_cast<std::size_t>(rank);
  return left[r] || tree->returned[static_cast<std::size_t>(tree_rank[r])];
}

const char* Group::gone_how(int rank) const {
  return left[static_cast<std::size_t>(rank)] ? "destroyed its communicator" : "returned";
}

int Group::blocker(const Collective& c) const {
  for (int r = 0; r < size(); ++r)
    if (!c.here[static_cast<std::size_t>(r)] && gone(r)) return r;
  return -1;
}

}  // namespace parafit::thread_backend
