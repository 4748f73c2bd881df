// What an MpiCommunicator keeps (shared with its Works and the communicators split from it), and
// the failure channel: notices, polling, and the guard of blocking collectives
// (mpi_communicator.h describes the design).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mpi_call.h"
#include "parallel/failure.h"

namespace parafit::mpi_backend {

using Clock = std::chrono::steady_clock;

// The tags of the control channel: failure notices, and the pings (and their answers) of a rank
// whose wait ran out of time, asking who is still there.
constexpr int kNoticeTag = Communicator::kMaxTag;
constexpr int kPingTag = Communicator::kMaxTag - 1;
constexpr int kPongTag = Communicator::kMaxTag - 2;

struct State {
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  // Completes what it can without waiting; frees the MPI communicators unless the communicator
  // failed or has nonblocking collectives left (see mpi_communicator.h).
  ~State();

  MPI_Comm data = MPI_COMM_NULL;
  MPI_Comm control = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};

  std::shared_ptr<State> parent;             // null for a communicator not split from another
  std::vector<int> rank_here_of_parent_rank;  // -1: not a member
  // Each rank's number in the communicator the job started from (the root of the splits): what a
  // timeout's message names, so that a subgroup's hung rank is the one mpirun and the user know.
  std::vector<int> job_rank;
  std::vector<std::weak_ptr<State>> children;

  std::optional<Failure> failure;
  bool inherited = false;  // the failure came from an ancestor
  // Guard barriers this rank has entered, and for every rank the number it had entered when it gave
  // up (from its notice; -1 while none came): it never enters a later one.
  std::int64_t guards = 0;
  std::vector<std::int64_t> gave_up_after;
  // Per rank: whether it has pinged this one (its own wait ran out of time), and whether it has
  // answered this one's pings.
  std::vector<char> pinged_me, answered;

  struct Notice {
    std::vector<char> bytes;
    std::vector<MPI_Request> requests;
  };
  std::vector<std::unique_ptr<Notice>> outgoing;   // notices in flight
  std::vector<MPI_Request> abandoned_messages;      // sends and cancelled receives after a failure
  std::vector<MPI_Request> abandoned_collectives;   // never freed: MPI forbids it
};

// A State on a duplicate of `comm` (a collective over `comm`).
std::shared_ptr<State> make_state(MPI_Comm comm, std::chrono::milliseconds timeout);
// A State on `split`, a new communicator from MPI_Comm_split of parent->data (a collective over
// `split`).
std::shared_ptr<State> make_child_state(const std::shared_ptr<State>& parent, MPI_Comm split);

// Completes finished notices, then receives the notices that have arrived here and at every
// ancestor (a notice fails the communicator and those split from it), and answers pings.
void poll(State& state);
// Records the first failure, sends this rank's notice to the others and fails every communicator
// split from this one. Never blocks.
void mark_failed(State& state, const Failure& failure, bool from_ancestor = false);
// Polls, then throws RankFailed if the communicator has failed.
void throw_if_failed(State& state);
// What a wait that ran out of time ends with. The rank pings the others on the control channel and
// waits up to a second for their answers: the ranks that do not answer are the ones it waited for
// (hung, stopped, or computing far longer than the timeout), and its message names them. Of several
// ranks that time out together (they ping each other), the lowest reports: the others wait for its
// notice and throw RankFailed. The reporting rank aborts the communicator and gets TimedOut
// ("rank R: <what> timed out after N ms[: rank(s) M do(es) not answer]", R and M numbered as in the
// job's communicator, job_rank) to throw.
[[noreturn]] void time_out(State& state, const std::string& what);

// Counts time and spins of a polling loop: spins at first (for latency), then yields the core.
class Poller {
 public:
  explicit Poller(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  bool expired() const { return timeout_.count() > 0 && Clock::now() - start_ > timeout_; }
  void pause() {
    if (++spins_ > kSpins) std::this_thread::yield();
  }

 private:
  static constexpr int kSpins = 2000;
  Clock::time_point start_ = Clock::now();
  std::chrono::milliseconds timeout_;
  int spins_ = 0;
};

// Whether a rank in guard number `guard` may leave it: a member gave up before entering it, so it
// can never complete.
bool guard_cannot_complete(const State& state, std::int64_t guard);

// The guard of a blocking collective: returns once every rank has entered the same guard (an
// MPI_Ibarrier), so that each will make the blocking call; throws RankFailed if a rank failed
// before entering it, Error if the timeout runs out. `what` names the call (it is called only for
// a timeout).
template <class What>
void guard(State& state, const What& what) {
  MPI_Request barrier = MPI_REQUEST_NULL;
  check(MPI_Ibarrier(state.data, &barrier), [&] { return "MPI_Ibarrier guarding " + what(); });
  const std::int64_t number = ++state.guards;
  Poller poller(state.timeout);
  for (;;) {
    int done = 0;
    check(MPI_Test(&barrier, &done, MPI_STATUS_IGNORE), [&] { return "MPI_Ibarrier guarding " + what(); });
    if (done) return;
    poll(state);
    if (state.failure && guard_cannot_complete(state, number)) {
      state.abandoned_collectives.push_back(barrier);
      throw rank_failed(*state.failure);
    }
    if (poller.expired()) {
      state.abandoned_collectives.push_back(barrier);
      time_out(state, what());
    }
    poller.pause();
  }
}

// A blocking collective: checks for failures, guards (when there are other ranks), makes the
// blocking MPI call (`call`), then throws RankFailed if a failure became known meanwhile.
template <class What, class Call>
void guarded(State& state, const What& what, const Call& call) {
  throw_if_failed(state);
  if (state.size > 1) guard(state, what);
  call();
  if (state.failure) throw rank_failed(*state.failure);
}

// works.cpp: the Work of MPI requests posted for one operation (pieces of a message, or of an
// iallreduce). `expected` holds, for a receive, each piece's size in bytes; empty otherwise.
enum class RequestKind { kSend, kReceive, kCollective };
Work request_work(std::shared_ptr<State> state, RequestKind kind, std::vector<MPI_Request> requests,
                  std::vector<int> expected, std::string what);

}  // namespace parafit::mpi_backend
