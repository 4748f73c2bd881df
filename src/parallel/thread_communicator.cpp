#include "parafit/thread_communicator.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace parafit {
namespace {

enum class Op { allreduce_int64, allreduce_double, broadcast, barrier };

std::string describe(Op op, std::size_t count, int root) {
  switch (op) {
    case Op::allreduce_int64:
      return "allreduce_sum(int64 x " + std::to_string(count) + ")";
    case Op::allreduce_double:
      return "allreduce_sum(double x " + std::to_string(count) + ")";
    case Op::broadcast:
      return "broadcast(" + std::to_string(count) + " bytes, root " + std::to_string(root) + ")";
    case Op::barrier:
      break;
  }
  return "barrier()";
}

}  // namespace

RankFailed::RankFailed(int failed_rank, const std::string& reason)
    : Error("rank " + std::to_string(failed_rank) + " failed: " + reason),
      failed_rank_(failed_rank),
      reason_(reason) {}

// Everything the ranks share, guarded by one mutex; every change of state wakes every waiter (the
// groups are small, so one condition variable is simpler than per-rank ones and just as fast).
struct ThreadGroup::State {
  using Clock = std::chrono::steady_clock;

  State(int size, std::chrono::milliseconds timeout)
      : timeout(timeout),
        buffers(static_cast<std::size_t>(size)),
        finished(static_cast<std::size_t>(size), false),
        mailboxes(static_cast<std::size_t>(size)) {}

  const std::chrono::milliseconds timeout;
  std::mutex mutex;
  std::condition_variable changed;

  // The first failure.
  bool failed = false;
  int failed_rank = -1;
  std::string reason;

  // The collective in progress: what the first rank to arrive called, and each arrived rank's
  // buffer. The last rank to arrive does the work for all (every other rank is blocked, its buffer
  // alive), then bumps `generation`, which releases the others.
  Op op = Op::barrier;
  std::size_t count = 0;
  int root = 0;
  int first_rank = 0;
  int arrived = 0;
  std::vector<void*> buffers;
  std::uint64_t generation = 0;

  // Ranks whose function has returned (only known under ThreadGroup::run).
  std::vector<bool> finished;
  bool ran = false;

  struct Message {
    int source;
    int tag;
    std::vector<std::byte> data;
  };
  std::vector<std::deque<Message>> mailboxes;  // per destination, in the order sent

  Clock::time_point deadline() const { return Clock::now() + timeout; }

  // Waits until pred() holds; false if the timeout ran out first.
  template <class Predicate>
  bool wait(std::unique_lock<std::mutex>& lock, Clock::time_point deadline, Predicate pred) {
    if (timeout.count() <= 0) {
      changed.wait(lock, pred);
      return true;
    }
    return changed.wait_until(lock, deadline, pred);
  }

  // With the mutex held.
  void record_failure(int rank, const std::string& why) {
    if (failed) return;
    failed = true;
    failed_rank = rank;
    reason = why;
    changed.notify_all();
  }
  void throw_if_failed() const {
    if (failed) throw RankFailed(failed_rank, reason);
  }
  // `rank` found a problem: fails the group and throws it on this rank.
  [[noreturn]] void fail(int rank, const std::string& why) {
    record_failure(rank, why);
    throw Error("rank " + std::to_string(rank) + ": " + why);
  }
  int first_finished() const {
    const auto it = std::find(finished.begin(), finished.end(), true);
    return it == finished.end() ? -1 : static_cast<int>(it - finished.begin());
  }

  void check_peer(int rank, const char* what, int peer) {
    if (peer < 0 || peer >= static_cast<int>(buffers.size())) {
      fail(rank, std::string(what) + " rank " + std::to_string(peer) + ": no such rank (size " +
                     std::to_string(buffers.size()) + ")");
    }
  }

  void collective(int rank, Op my_op, void* buffer, std::size_t my_count, int my_root) {
    const auto until = deadline();
    std::unique_lock lock(mutex);
    throw_if_failed();
    const int size = static_cast<int>(buffers.size());
    if (my_op == Op::broadcast) check_peer(rank, "broadcast from root", my_root);
    if (arrived == 0) {
      op = my_op;
      count = my_count;
      root = my_root;
      first_rank = rank;
    } else if (op != my_op || count != my_count || root != my_root) {
      fail(rank, describe(my_op, my_count, my_root) + " does not match " +
                     describe(op, count, root) + " called by rank " + std::to_string(first_rank));
    }
    buffers[static_cast<std::size_t>(rank)] = buffer;
    if (++arrived == size) {
      complete();
      arrived = 0;
      ++generation;
      changed.notify_all();
      return;
    }
    const std::uint64_t mine = generation;
    const bool done =
        wait(lock, until, [&] { return generation != mine || failed || first_finished() >= 0; });
    if (generation != mine) return;  // completed, even if the group failed just afterwards
    throw_if_failed();
    if (!done) {
      fail(rank, describe(my_op, my_count, my_root) + " timed out after " +
                     std::to_string(timeout.count()) + " ms: " + std::to_string(arrived) + " of " +
                     std::to_string(size) + " ranks arrived");
    }
    fail(rank, describe(my_op, my_count, my_root) + " can never complete: rank " +
                   std::to_string(first_finished()) + " has returned without calling it");
  }

  // The last rank to arrive, with the mutex held: combines every rank's buffer.
  void complete() {
    switch (op) {
      case Op::allreduce_int64: {
        // Unsigned arithmetic: wraps like MPI_SUM on int64 in practice, without undefined
        // behaviour.
        std::vector<std::uint64_t> sum(count, 0);
        for (void* b : buffers) {
          const auto* v = static_cast<const std::int64_t*>(b);
          for (std::size_t i = 0; i < count; ++i) sum[i] += static_cast<std::uint64_t>(v[i]);
        }
        for (void* b : buffers) {
          auto* v = static_cast<std::int64_t*>(b);
          for (std::size_t i = 0; i < count; ++i) v[i] = static_cast<std::int64_t>(sum[i]);
        }
        break;
      }
      case Op::allreduce_double: {
        // In rank order, 0 + 1 + 2 + ...: deterministic.
        std::vector<double> sum(count, 0.0);
        const auto* first = static_cast<const double*>(buffers[0]);
        std::copy(first, first + count, sum.begin());
        for (std::size_t r = 1; r < buffers.size(); ++r) {
          const auto* v = static_cast<const double*>(buffers[r]);
          for (std::size_t i = 0; i < count; ++i) sum[i] += v[i];
        }
        for (void* b : buffers) std::copy(sum.begin(), sum.end(), static_cast<double*>(b));
        break;
      }
      case Op::broadcast: {
        const void* from = buffers[static_cast<std::size_t>(root)];
        for (void* b : buffers) {
          if (b != from && count > 0) std::memcpy(b, from, count);
        }
        break;
      }
      case Op::barrier:
        break;
    }
  }

  void send(int rank, std::span<const std::byte> data, int destination, int tag) {
    std::lock_guard lock(mutex);
    throw_if_failed();
    check_peer(rank, "send to", destination);
    if (tag < 0)
      fail(rank,
           "send to rank " + std::to_string(destination) + ": negative tag " + std::to_string(tag));
    mailboxes[static_cast<std::size_t>(destination)].push_back(
        Message{rank, tag, std::vector<std::byte>(data.begin(), data.end())});
    changed.notify_all();
  }

  void recv(int rank, std::span<std::byte> data, int source, int tag) {
    const auto until = deadline();
    std::unique_lock lock(mutex);
    throw_if_failed();
    check_peer(rank, "recv from", source);
    const std::string what = "recv(" + std::to_string(data.size()) + " bytes) from rank " +
                             std::to_string(source) + ", tag " + std::to_string(tag);
    auto& box = mailboxes[static_cast<std::size_t>(rank)];
    auto match = box.end();
    const auto find = [&] {
      match = std::find_if(box.begin(), box.end(),
                           [&](const Message& m) { return m.source == source && m.tag == tag; });
      return match != box.end();
    };
    const bool done = wait(lock, until, [&] {
      return failed || find() || finished[static_cast<std::size_t>(source)];
    });
    throw_if_failed();
    if (match == box.end()) {
      if (!done) fail(rank, what + " timed out after " + std::to_string(timeout.count()) + " ms");
      fail(rank, what + " can never complete: rank " + std::to_string(source) +
                     " has returned without sending it");
    }
    if (match->data.size() != data.size()) {
      fail(rank, what + ": the message has " + std::to_string(match->data.size()) + " bytes");
    }
    if (!data.empty()) std::memcpy(data.data(), match->data.data(), data.size());
    box.erase(match);
  }
};

int ThreadCommunicator::size() const { return group_.size(); }

void ThreadCommunicator::allreduce_sum(std::span<std::int64_t> values) {
  group_.state_->collective(rank_, Op::allreduce_int64, values.data(), values.size(), 0);
}

void ThreadCommunicator::allreduce_sum(std::span<double> values) {
  group_.state_->collective(rank_, Op::allreduce_double, values.data(), values.size(), 0);
}

void ThreadCommunicator::broadcast(std::span<std::byte> data, int root) {
  group_.state_->collective(rank_, Op::broadcast, data.data(), data.size(), root);
}

void ThreadCommunicator::barrier() { group_.state_->collective(rank_, Op::barrier, nullptr, 0, 0); }

void ThreadCommunicator::send(std::span<const std::byte> data, int destination, int tag) {
  group_.state_->send(rank_, data, destination, tag);
}

void ThreadCommunicator::recv(std::span<std::byte> data, int source, int tag) {
  group_.state_->recv(rank_, data, source, tag);
}

void ThreadCommunicator::abort(const std::string& reason) { group_.abort(rank_, reason); }

ThreadGroup::ThreadGroup(int size, std::chrono::milliseconds timeout)
    : size_(size), timeout_(timeout) {
  if (size < 1)
    throw std::invalid_argument("ThreadGroup: size must be at least 1, not " +
                                std::to_string(size));
  state_ = std::make_unique<State>(size, timeout);
  ranks_.reserve(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r)
    ranks_.push_back(std::unique_ptr<ThreadCommunicator>(new ThreadCommunicator(*this, r)));
}

ThreadGroup::~ThreadGroup() = default;

ThreadCommunicator& ThreadGroup::rank(int r) {
  if (r < 0 || r >= size_) {
    throw std::invalid_argument("ThreadGroup::rank: no rank " + std::to_string(r) + " (size " +
                                std::to_string(size_) + ")");
  }
  return *ranks_[static_cast<std::size_t>(r)];
}

void ThreadGroup::abort(int rank, const std::string& reason) {
  std::lock_guard lock(state_->mutex);
  state_->record_failure(rank, reason);
}

bool ThreadGroup::failed() const {
  std::lock_guard lock(state_->mutex);
  return state_->failed;
}

void ThreadGroup::run(const std::function<void(Communicator&)>& body) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->ran) throw std::logic_error("ThreadGroup::run: a group runs only once");
    state_->ran = true;
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
    std::lock_guard lock(state_->mutex);
    state_->finished[i] = true;
    state_->changed.notify_all();
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

  for (std::size_t i = 0; i < n; ++i) {
    if (errors[i] && !consequence[i]) std::rethrow_exception(errors[i]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (errors[i]) std::rethrow_exception(errors[i]);
  }
}

void run_ranks(int size, const std::function<void(Communicator&)>& body,
               std::chrono::milliseconds timeout) {
  ThreadGroup group(size, timeout);
  group.run(body);
}

}  // namespace parafit
