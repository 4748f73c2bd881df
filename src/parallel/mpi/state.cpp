// The failure channel of the MPI backend: notices on each communicator's control duplicate.
#include "state.h"

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

namespace parafit::mpi_backend {
namespace {

// A notice: how many guards the sender had entered, then the failure (rank, levels, reason) as
// numbered in this communicator.
struct NoticeHeader {
  std::int64_t guards;
  std::int32_t rank;
  std::int32_t levels;
  std::int32_t timed_out;
  std::int32_t unused = 0;
};

std::vector<char> encode(std::int64_t guards, const Failure& f) {
  const NoticeHeader header{guards, f.rank, f.levels, f.timed_out ? 1 : 0};
  std::vector<char> bytes(sizeof header + f.reason.size());
  std::memcpy(bytes.data(), &header, sizeof header);
  if (!f.reason.empty()) std::memcpy(bytes.data() + sizeof header, f.reason.data(), f.reason.size());
  return bytes;
}

bool finished(MPI_Request& request) {
  int done = 0;
  // An error completes the request too: there is nothing more to wait for.
  return MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || done;
}

void progress_outgoing(State& s) {
  std::erase_if(s.outgoing, [](const std::unique_ptr<State::Notice>& n) {
    std::erase_if(n->requests, finished);
    return n->requests.empty();
  });
  std::erase_if(s.abandoned_messages, finished);
}

void receive_notice(State& s, const MPI_Status& status) {
  int length = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &length), "MPI_Get_count of a failure notice");
  std::vector<char> bytes(static_cast<std::size_t>(length));
  check(MPI_Recv(bytes.data(), length, MPI_BYTE, status.MPI_SOURCE, kNoticeTag, s.control, MPI_STATUS_IGNORE),
        "MPI_Recv of a failure notice");
  NoticeHeader header{};
  if (bytes.size() < sizeof header) return;
  std::memcpy(&header, bytes.data(), sizeof header);
  std::int64_t& after = s.gave_up_after[static_cast<std::size_t>(status.MPI_SOURCE)];
  if (after < 0) after = header.guards;
  mark_failed(s, Failure{header.rank, header.levels, std::string(bytes.begin() + sizeof header, bytes.end()),
                         header.timed_out != 0});
}

// Pings and their answers are empty messages; an answer is a send completed later, like a notice.
void receive_ping(State& s, const MPI_Status& status) {
  check(MPI_Recv(nullptr, 0, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, s.control, MPI_STATUS_IGNORE),
        "MPI_Recv of a ping");
  const auto source = static_cast<std::size_t>(status.MPI_SOURCE);
  if (status.MPI_TAG == kPongTag) {
    s.answered[source] = 1;
    return;
  }
  s.pinged_me[source] = 1;
  MPI_Request request = MPI_REQUEST_NULL;
  if (MPI_Isend(nullptr, 0, MPI_BYTE, status.MPI_SOURCE, kPongTag, s.control, &request) == MPI_SUCCESS)
    s.abandoned_messages.push_back(request);
}

void receive_notices(State& s) {
  for (;;) {
    int arrived = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, s.control, &arrived, &status), "MPI_Iprobe for failure notices");
    if (!arrived) return;
    if (status.MPI_TAG == kNoticeTag)
      receive_notice(s, status);
    else
      receive_ping(s, status);
  }
}

// The leaks below are deliberate: MPI may still read a notice's buffer after its request is freed.
std::vector<std::vector<char>>& orphaned_notices() {
  static auto* orphans = new std::vector<std::vector<char>>;
  return *orphans;
}

void set_up(State& s, std::chrono::milliseconds timeout) {
  s.timeout = timeout;
  check(MPI_Comm_set_errhandler(s.data, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_dup(s.data, &s.control), "MPI_Comm_dup of the control channel");
  check(MPI_Comm_set_errhandler(s.control, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(s.data, &s.rank), "MPI_Comm_rank");
  check(MPI_Comm_size(s.data, &s.size), "MPI_Comm_size");
  s.gave_up_after.assign(static_cast<std::size_t>(s.size), -1);
  s.pinged_me.assign(static_cast<std::size_t>(s.size), 0);
  s.answered.assign(static_cast<std::size_t>(s.size), 0);
}

}  // namespace

State::~State() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  progress_outgoing(*this);
  for (auto& notice : outgoing) {
    for (MPI_Request& r : notice->requests) MPI_Request_free(&r);
    orphaned_notices().push_back(std::move(notice->bytes));
  }
  for (MPI_Request& r : abandoned_messages) MPI_Request_free(&r);
  if (failure || !abandoned_collectives.empty()) return;
  if (control != MPI_COMM_NULL) MPI_Comm_free(&control);
  if (data != MPI_COMM_NULL) MPI_Comm_free(&data);
}

std::shared_ptr<State> make_state(MPI_Comm comm, std::chrono::milliseconds timeout) {
  auto s = std::make_shared<State>();
  check(MPI_Comm_dup(comm, &s->data), "MPI_Comm_dup");
  set_up(*s, timeout);
  for (int r = 0; r < s->size; ++r) s->job_rank.push_back(r);
  return s;
}

std::shared_ptr<State> make_child_state(const std::shared_ptr<State>& parent, MPI_Comm split) {
  auto s = std::make_shared<State>();
  s->data = split;
  set_up(*s, parent->timeout);
  s->parent = parent;
  // Which rank of the parent is which rank here.
  MPI_Group parent_group = MPI_GROUP_NULL, group = MPI_GROUP_NULL;
  check(MPI_Comm_group(parent->data, &parent_group), "MPI_Comm_group");
  check(MPI_Comm_group(split, &group), "MPI_Comm_group");
  std::vector<int> parent_ranks(static_cast<std::size_t>(parent->size));
  for (int r = 0; r < parent->size; ++r) parent_ranks[static_cast<std::size_t>(r)] = r;
  s->rank_here_of_parent_rank.resize(parent_ranks.size());
  const int code = MPI_Group_translate_ranks(parent_group, parent->size, parent_ranks.data(), group,
                                             s->rank_here_of_parent_rank.data());
  MPI_Group_free(&parent_group);
  MPI_Group_free(&group);
  check(code, "MPI_Group_translate_ranks");
  for (int& r : s->rank_here_of_parent_rank)
    if (r == MPI_UNDEFINED) r = -1;
  s->job_rank.assign(static_cast<std::size_t>(s->size), -1);
  for (std::size_t p = 0; p < s->rank_here_of_parent_rank.size(); ++p)
    if (const int here = s->rank_here_of_parent_rank[p]; here >= 0)
      s->job_rank[static_cast<std::size_t>(here)] = parent->job_rank[p];
  std::erase_if(parent->children, [](const std::weak_ptr<State>& c) { return c.expired(); });
  parent->children.push_back(s);
  if (parent->failure) {
    const Failure& f = *parent->failure;
    mark_failed(*s, inherited(f, f.levels == 0 ? s->rank_here_of_parent_rank[static_cast<std::size_t>(f.rank)] : -1),
                true);
  }
  return s;
}

void poll(State& s) {
  if (s.parent) poll(*s.parent);
  if (!s.outgoing.empty() || !s.abandoned_messages.empty()) progress_outgoing(s);
  receive_notices(s);
}

void mark_failed(State& s, const Failure& f, bool from_ancestor) {
  if (s.failure) return;
  s.failure = f;
  s.inherited = from_ancestor;
  if (s.size > 1) {
    auto notice = std::make_unique<State::Notice>();
    notice->bytes = encode(s.guards, f);
    for (int r = 0; r < s.size; ++r) {
      if (r == s.rank) continue;
      MPI_Request request = MPI_REQUEST_NULL;
      // A notice that cannot be sent leaves that rank to learn of the failure another way (its own
      // ancestors' notices, or the other ranks' notices): nothing better to do here.
      if (MPI_Isend(notice->bytes.data(), static_cast<int>(notice->bytes.size()), MPI_BYTE, r, kNoticeTag,
                    s.control, &request) == MPI_SUCCESS)
        notice->requests.push_back(request);
    }
    s.outgoing.push_back(std::move(notice));
  }
  for (const auto& weak : s.children) {
    const std::shared_ptr<State> child = weak.lock();
    if (!child) continue;
    const int here = f.levels == 0 ? child->rank_here_of_parent_rank[static_cast<std::size_t>(f.rank)] : -1;
    mark_failed(*child, inherited(f, here), true);
  }
}

void throw_if_failed(State& s) {
  poll(s);
  if (s.failure) throw rank_failed(*s.failure);
}

void time_out(State& s, const std::string& what) {
  const auto job = [&](int r) { return s.job_rank[static_cast<std::size_t>(r)]; };
  std::string message = fmt::format("rank {}: {} timed out after {} ms", job(s.rank), what, s.timeout.count());
  // Who is still there: the ranks that answer a ping within a second (or the timeout, if shorter).
  // Ranks of other subgroups may be timing out at the same moment (waiting, in their own subgroup,
  // on a rank that waits here): a ping on the job's communicator too tells them, so that one rank
  // of the whole job reports — the lowest, below.
  State* root = &s;
  while (root->parent) root = root->parent.get();
  const auto ping_all = [](State& on) {
    std::fill(on.answered.begin(), on.answered.end(), 0);
    for (int r = 0; r < on.size; ++r) {
      if (r == on.rank) continue;
      MPI_Request request = MPI_REQUEST_NULL;
      if (MPI_Isend(nullptr, 0, MPI_BYTE, r, kPingTag, on.control, &request) == MPI_SUCCESS)
        on.abandoned_messages.push_back(request);
    }
  };
  ping_all(s);
  if (root != &s) ping_all(*root);
  const auto others_answered = [&] {
    for (int r = 0; r < s.size; ++r)
      if (r != s.rank && !s.answered[static_cast<std::size_t>(r)]) return false;
    return true;
  };
  const auto window = std::min<std::chrono::milliseconds>(s.timeout, std::chrono::seconds(1));
  // Polls until `done` or the window has passed; throws RankFailed once a notice has come.
  const auto poll_for = [&](const auto& done) {
    Poller poller(window);
    while (!done() && !poller.expired()) {
      poll(s);
      if (s.failure) throw rank_failed(*s.failure);
      poller.pause();
    }
  };
  poll_for(others_answered);
  // A lower rank that timed out too reports; wait for its notice (and report if none comes).
  const auto lower_timed_out = [&] {
    for (int r = 0; r < s.rank; ++r)
      if (s.pinged_me[static_cast<std::size_t>(r)]) return true;
    for (int r = 0; r < root->rank && root != &s; ++r)
      if (root->pinged_me[static_cast<std::size_t>(r)]) return true;
    return false;
  };
  if (lower_timed_out()) poll_for([] { return false; });
  std::vector<int> silent;
  for (int r = 0; r < s.size; ++r)
    if (r != s.rank && !s.answered[static_cast<std::size_t>(r)]) silent.push_back(job(r));
  if (!silent.empty())
    message += fmt::format(": rank{} {} {} not answer (hung, stopped, or busy for longer than that)",
                           silent.size() > 1 ? "s" : "", fmt::join(silent, ", "), silent.size() > 1 ? "do" : "does");
  // A timeout ends the job: the notice goes to every rank of the job's communicator (and from there
  // to every communicator split from it), so that ranks waiting in other subgroups — on a rank that
  // waits here — stop quietly instead of timing out with messages of their own.
  if (root == &s)
    mark_failed(s, Failure{s.rank, 0, message, true});
  else
    mark_failed(*root, Failure{job(s.rank), 0, message, true});
  throw TimedOut(message);
}

bool guard_cannot_complete(const State& s, std::int64_t guard) {
  for (int r = 0; r < s.size; ++r) {
    const std::int64_t after = s.gave_up_after[static_cast<std::size_t>(r)];
    if (r != s.rank && after >= 0 && after < guard) return true;
  }
  // A member that failed in an ancestor is in no guard of this communicator (it gave up outside
  // any call here, or its guard here timed out, which it would have announced), so it will never
  // enter this one, even if its own notice here has not come (or never will: it may have destroyed
  // this communicator).
  if (s.inherited && s.failure->levels == 0) {
    const std::int64_t after = s.gave_up_after[static_cast<std::size_t>(s.failure->rank)];
    return after < 0 || after < guard;
  }
  return false;
}

}  // namespace parafit::mpi_backend
