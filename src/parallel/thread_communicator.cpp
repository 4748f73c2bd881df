// ThreadCommunicator and ThreadGroup: the public face of the ranks-as-threads backend (the shared
// state and its operations are in thread/).
#include "parafit/thread_communicator.h"

#include <exception>
#include <stdexcept>
#include <thread>

#include "thread/group.h"

namespace parafit {

using thread_backend::Call;
using thread_backend::Kind;

namespace {

// Joins a collective and waits until every rank has; returns it (split reads its results).
std::shared_ptr<thread_backend::Collective> run_collective(thread_backend::Group& group, int rank,
                                                           const Call& call, const void* in, void* out,
                                                           int color = 0, int key = 0) {
  std::unique_lock lock(group.tree->mutex);
  auto c = thread_backend::join(group, rank, call, in, out, color, key);
  thread_backend::await(group, lock, rank, *c);
  return c;
}

}  // namespace

ThreadCommunicator::ThreadCommunicator(std::shared_ptr<thread_backend::Group> group, int rank)
    : group_(std::move(group)), rank_(rank) {}

ThreadCommunicator::~ThreadCommunicator() {
  std::lock_guard lock(group_->tree->mutex);
  group_->left[static_cast<std::size_t>(rank_)] = true;
  group_->tree->changed.notify_all();
}

int ThreadCommunicator::size() const { return group_->size(); }

void ThreadCommunicator::do_allreduce(void* values, std::size_t count, DataType type, ReduceOp op) {
  run_collective(*group_, rank_, Call{Kind::kAllreduce, type, op, count, 0, {}}, values, values);
}

void ThreadCommunicator::do_allgather(const void* mine, void* all, std::size_t count, DataType type) {
  run_collective(*group_, rank_, Call{Kind::kAllgather, type, ReduceOp::kSum, count, 0, {}}, mine, all);
}

void ThreadCommunicator::do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts,
                                       DataType type) {
  const Call call{Kind::kAllgatherv, type, ReduceOp::kSum, 0, 0, {counts.begin(), counts.end()}};
  run_collective(*group_, rank_, call, mine, all);
}

void ThreadCommunicator::do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts,
                                           DataType type, ReduceOp op) {
  const Call call{Kind::kReduceScatter, type, op, 0, 0, {counts.begin(), counts.end()}};
  run_collective(*group_, rank_, call, in, out);
}

void ThreadCommunicator::do_broadcast(void* data, std::size_t count, DataType type, int root) {
  run_collective(*group_, rank_, Call{Kind::kBroadcast, type, ReduceOp::kSum, count, root, {}}, data, data);
}

void ThreadCommunicator::do_barrier() { run_collective(*group_, rank_, Call{Kind::kBarrier, DataType::kByte, ReduceOp::kSum, 0, 0, {}}, nullptr, nullptr); }

Work ThreadCommunicator::do_isend(std::span<const std::byte> data, int destination, int tag) {
  std::lock_guard lock(group_->tree->mutex);
  thread_backend::send(*group_, rank_, data, destination, tag);
  return Work();  // buffered: complete
}

Work ThreadCommunicator::do_irecv(std::span<std::byte> data, int source, int tag) {
  std::lock_guard lock(group_->tree->mutex);
  return thread_backend::receive(group_, rank_, data, source, tag);
}

Work ThreadCommunicator::do_iallreduce(void* values, std::size_t count, DataType type, ReduceOp op) {
  std::lock_guard lock(group_->tree->mutex);
  auto c = thread_backend::join(*group_, rank_, Call{Kind::kIallreduce, type, op, count, 0, {}}, values, values);
  return thread_backend::iallreduce_work(group_, rank_, std::move(c));
}

std::unique_ptr<Communicator> ThreadCommunicator::do_split(int color, int key) {
  const auto c = run_collective(*group_, rank_, Call{Kind::kSplit, DataType::kByte, ReduceOp::kSum, 0, 0, {}}, nullptr, nullptr, color, key);
  const auto r = static_cast<std::size_t>(rank_);
  if (!c->child[r]) return nullptr;
  return std::unique_ptr<Communicator>(new ThreadCommunicator(c->child[r], c->child_rank[r]));
}

void ThreadCommunicator::do_abort(const std::string& reason) {
  std::lock_guard lock(group_->tree->mutex);
  group_->fail(Failure{rank_, 0, reason});
}

ThreadGroup::ThreadGroup(int size, std::chrono::milliseconds timeout) : size_(size), timeout_(timeout) {
  if (size < 1) throw std::invalid_argument("ThreadGroup: size must be at least 1, not " + std::to_string(size));
  std::vector<int> ranks(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) ranks[static_cast<std::size_t>(r)] = r;
  group_ = std::make_shared<thread_backend::Group>(std::make_shared<thread_backend::Tree>(size), ranks, ranks,
                                                   timeout);
  ranks_.reserve(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) ranks_.push_back(std::unique_ptr<ThreadCommunicator>(new ThreadCommunicator(group_, r)));
}

ThreadGroup::~ThreadGroup() = default;

ThreadCommunicator& ThreadGroup::rank(int r) {
  if (r < 0 || r >= size_)
    throw std::invalid_argument("ThreadGroup::rank: no rank " + std::to_string(r) + " (size " +
                                std::to_string(size_) + ")");
  return *ranks_[static_cast<std::size_t>(r)];
}

void ThreadGroup::abort(int rank, const std::string& reason) {
  std::lock_guard lock(group_->tree->mutex);
  group_->fail(Failure{rank, 0, reason});
}

bool ThreadGroup::failed() const {
  std::lock_guard lock(group_->tree->mutex);
  return group_->failure.has_value();
}

void ThreadGroup::run(const std::function<void(Communicator&)>& body) {
  thread_backend::Tree& tree = *group_->tree;
  {
    std::lock_guard lock(tree.mutex);
    if (tree.ran) throw std::logic_error("ThreadGroup::run: a group runs only once");
    tree.ran = true;
  }
  const auto n = static_cast<std::size_t>(size_);
  std::vector<std::exception_ptr> errors(n);
  std::vector<char> consequence(n, 0);  // the error was RankFailed: caused by another failure

  const auto rank_main = [&](int r) {
    const auto i = static_cast<std::size_t>(r);
    try {
      body(*ranks_[i]);
    } catch (const RankFailed&) {
      errors[i] = std::current_exception();
      consequence[i] = 1;
    } catch (const std::exception& e) {
      errors[i] = std::current_exception();
      abort(r, e.what());
    } catch (...) {
      errors[i] = std::current_exception();
      abort(r, "unknown exception");
    }
    std::lock_guard lock(tree.mutex);
    tree.returned[i] = true;
    tree.changed.notify_all();
  };

  std::vector<std::thread> threads;
  threads.reserve(n);
  try {
    for (int r = 0; r < size_; ++r) threads.emplace_back(rank_main, r);
  } catch (const std::exception& e) {
    // Could not start every thread: release the started ones, then report.
    abort(static_cast<int>(threads.size()), std::string("could not start its thread: ") + e.what());
    for (auto& t : threads) t.join();
    throw;
  }
  for (auto& t : threads) t.join();

  for (std::size_t i = 0; i < n; ++i)
    if (errors[i] && !consequence[i]) std::rethrow_exception(errors[i]);
  for (std::size_t i = 0; i < n; ++i)
    if (errors[i]) std::rethrow_exception(errors[i]);
}

void run_ranks(int size, const std::function<void(Communicator&)>& body, std::chrono::milliseconds timeout) {
  ThreadGroup group(size, timeout);
  group.run(body);
}

}  // namespace parafit
