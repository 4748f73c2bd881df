// split(color, key): several colors, keys that reverse the order, ties, a negative color,
// collectives and messages inside the subgroup, a subgroup of a subgroup.
#include <algorithm>
#include <memory>

#include "conformance.h"

namespace parafit::conformance {
namespace {

// The parent ranks of `color`, ordered by (key, parent rank).
std::vector<int> members(const std::vector<int>& colors, const std::vector<int>& keys, int color) {
  std::vector<int> m;
  for (int r = 0; r < int(colors.size()); ++r)
    if (colors[std::size_t(r)] == color) m.push_back(r);
  std::stable_sort(m.begin(), m.end(), [&](int a, int b) { return keys[std::size_t(a)] < keys[std::size_t(b)]; });
  return m;
}

// Splits `comm` by color_of(rank) and key_of(rank) and checks the new communicator: its size, this
// rank's place, an allgather of the parent ranks (in the new order), an allreduce, a broadcast and
// a ring of messages inside it. Returns it.
template <class Color, class Key>
std::unique_ptr<Communicator> split_and_check(Communicator& comm, const Color& color_of, const Key& key_of,
                                              const std::string& what) {
  std::vector<int> colors(std::size_t(comm.size())), keys(std::size_t(comm.size()));
  for (int r = 0; r < comm.size(); ++r) {
    colors[std::size_t(r)] = color_of(r);
    keys[std::size_t(r)] = key_of(r);
  }
  const int color = colors[std::size_t(comm.rank())];
  std::unique_ptr<Communicator> child = comm.split(color, keys[std::size_t(comm.rank())]);
  if (color < 0) {
    require(child == nullptr, comm, what + ": a negative color gave a communicator");
    return nullptr;
  }
  require(child != nullptr, comm, what + ": no communicator for color " + std::to_string(color));
  const std::vector<int> m = members(colors, keys, color);
  const auto place = int(std::find(m.begin(), m.end(), comm.rank()) - m.begin());
  require(child->size() == int(m.size()) && child->rank() == place, comm,
          what + ": rank " + std::to_string(child->rank()) + " of " + std::to_string(child->size()) + ", expected " +
              std::to_string(place) + " of " + std::to_string(m.size()));
  const std::int64_t me = comm.rank();
  std::vector<std::int64_t> parents(m.size());
  child->allgather<std::int64_t>(std::span(&me, 1), std::span(parents));
  require_each<std::int64_t>(parents, [&](std::size_t i) { return std::int64_t(m[i]); }, comm,
                             what + ": allgather of the parent ranks");
  std::vector<double> sum{double(me), 1.0};
  child->allreduce(sum);
  double expected = 0;
  for (int r : m) expected += r;
  require(sum[0] == expected && sum[1] == double(m.size()), comm, what + ": allreduce inside the subgroup");
  std::vector<std::int64_t> from_last{me};
  child->broadcast(from_last, child->size() - 1);
  require(from_last[0] == m.back(), comm, what + ": broadcast from the subgroup's last rank");
  const int n = child->size();
  const std::int64_t out = me;
  std::int64_t in = -1;
  Work receive = child->irecv(std::as_writable_bytes(std::span(&in, 1)), (child->rank() + n - 1) % n, 3);
  child->send(std::as_bytes(std::span(&out, 1)), (child->rank() + 1) % n, 3);
  receive.wait();
  require(in == m[std::size_t((place + n - 1) % n)], comm, what + ": message around the subgroup's ring");
  return child;
}

void check_colors_and_keys(Communicator& comm) {
  // Two colors, keys that reverse the order.
  auto two = split_and_check(comm, [](int r) { return r % 2; }, [](int r) { return -r; }, "split(rank % 2, -rank)");
  // Three colors, all keys equal: the parent's order.
  auto three = split_and_check(comm, [](int r) { return r % 3; }, [](int) { return 0; }, "split(rank % 3, 0)");
  // Both children live at once, and the parent still works.
  std::vector<std::int64_t> count{1};
  comm.allreduce(count);
  require(count[0] == comm.size(), comm, "allreduce on the parent between its subgroups");
  two->barrier();
  three->barrier();
}

void check_negative_color(Communicator& comm) {
  const int last = comm.size() - 1;
  auto child = split_and_check(comm, [last](int r) { return r == last ? -1 : 7; }, [](int r) { return r; },
                               "split with a negative color for the last rank");
  comm.barrier();
}

void check_split_of_split(Communicator& comm) {
  auto child = split_and_check(comm, [](int r) { return r % 2; }, [](int r) { return r; }, "split(rank % 2, rank)");
  auto grandchild = split_and_check(*child, [](int r) { return r < 2 ? 0 : 1; }, [](int r) { return -r; },
                                    "split of the subgroup (rank < 2, -rank)");
  // Interleaved on all three levels.
  std::vector<std::int64_t> ones(3, 1);
  grandchild->allreduce(std::span(ones).subspan(0, 1));
  child->allreduce(std::span(ones).subspan(1, 1));
  comm.allreduce(std::span(ones).subspan(2, 1));
  require(ones[0] == grandchild->size() && ones[1] == child->size() && ones[2] == comm.size(), comm,
          "allreduces of 1 in grandchild, child, parent: " + std::to_string(ones[0]) + ", " + std::to_string(ones[1]) +
              ", " + std::to_string(ones[2]));
}

// A subgroup has its own message space: the same tag between the same ranks on parent and child.
void check_separate_messages(Communicator& comm) {
  auto child = comm.split(0, comm.rank());
  const int last = comm.size() - 1;
  if (comm.rank() == 0) {
    const std::int64_t parent_message = 100, child_message = 200;
    comm.send(std::as_bytes(std::span(&parent_message, 1)), last, 4);
    child->send(std::as_bytes(std::span(&child_message, 1)), last, 4);
  }
  if (comm.rank() == last) {
    std::int64_t got = 0;
    child->recv(std::as_writable_bytes(std::span(&got, 1)), 0, 4);
    require(got == 200, comm, "the child's message, got " + std::to_string(got));
    comm.recv(std::as_writable_bytes(std::span(&got, 1)), 0, 4);
    require(got == 100, comm, "the parent's message, got " + std::to_string(got));
  }
  child->barrier();
}

}  // namespace

void add_split_checks(std::vector<ConformanceCheck>& checks) {
  checks.push_back({"split_colors_and_keys", 1, check_colors_and_keys});
  checks.push_back({"split_negative_color", 1, check_negative_color});
  checks.push_back({"split_of_split", 1, check_split_of_split});
  checks.push_back({"split_separate_messages", 1, check_separate_messages});
}

}  // namespace parafit::conformance
