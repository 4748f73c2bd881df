// Point-to-point: isend / irecv in both orders, tags, empty messages, order of many messages,
// sends to oneself, Work::test() polling, progress while a rank computes, a message of the wrong
// size.
#include <chrono>
#include <cstring>
#include <thread>

#include "conformance.h"

namespace parafit::conformance {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A message that says who sent it to whom, with which tag and size.
std::vector<std::byte> message(int from, int to, int tag, std::size_t bytes) {
  std::vector<std::byte> m(bytes);
  for (std::size_t i = 0; i < bytes; ++i) m[i] = std::byte(static_cast<unsigned char>(from * 31 + to * 7 + tag + i));
  return m;
}

void require_message(const Communicator& comm, const std::vector<std::byte>& got, int from, int tag,
                     const std::string& what) {
  const std::vector<std::byte> expected = message(from, comm.rank(), tag, got.size());
  require_equal<std::byte>(got, expected, comm, what + " from rank " + std::to_string(from) + ", tag " + std::to_string(tag));
}

// Around a ring, with several tags and sizes: receives posted before the sends (a barrier between),
// then sends before the receives.
void check_both_orders(Communicator& comm) {
  const int n = comm.size(), to = (comm.rank() + 1) % n, from = (comm.rank() + n - 1) % n;
  const int tags[] = {0, 1, 77, Communicator::kMaxTag - 1};
  const std::size_t sizes[] = {0, 1, 7, 4 << 20};
  for (bool receive_first : {true, false}) {
    std::vector<std::vector<std::byte>> in, out;
    std::vector<Work> receives, sends;
    const auto post_receives = [&] {
      for (int tag : tags)
        for (std::size_t bytes : sizes) {
          in.emplace_back(bytes);
          receives.push_back(comm.irecv(in.back(), from, tag));
        }
    };
    const auto post_sends = [&] {
      for (int tag : tags)
        for (std::size_t bytes : sizes) {
          out.push_back(message(comm.rank(), to, tag, bytes));
          sends.push_back(comm.isend(out.back(), to, tag));
        }
    };
    in.reserve(16), out.reserve(16);
    if (receive_first) post_receives();
    else post_sends();
    comm.barrier();
    if (receive_first) post_sends();
    else post_receives();
    for (Work& w : sends) w.wait();
    std::size_t k = 0;
    for (int tag : tags)
      for (std::size_t bytes : sizes) {
        receives[k].wait();
        require_message(comm, in[k], from, tag,
                        std::string(receive_first ? "irecv before isend" : "isend before irecv") + ", " +
                            std::to_string(bytes) + " bytes");
        ++k;
      }
  }
}

// Rank 0 sends many messages with one tag to every other rank, of varied sizes (empty ones too);
// they arrive in the order sent: the first half into receives posted before they were sent, the
// second half into receives posted after (blocking send and recv for these).
void check_order_kept(Communicator& comm) {
  constexpr int kMessages = 200, kHalf = kMessages / 2;
  const auto size_of_message = [](int k) { return std::size_t(k % 5 == 0 ? 0 : 8 + k % 13); };
  const auto content = [](int k, std::size_t bytes) {
    std::vector<std::byte> m(bytes);
    for (std::size_t i = 0; i < bytes; ++i) m[i] = std::byte(static_cast<unsigned char>(k + i));
    return m;
  };
  if (comm.rank() == 0) {
    comm.barrier();
    std::vector<std::vector<std::byte>> out;
    out.reserve(std::size_t(kHalf) * std::size_t(comm.size()));
    std::vector<Work> sends;
    for (int dest = 1; dest < comm.size(); ++dest)
      for (int k = 0; k < kHalf; ++k) {
        out.push_back(content(k, size_of_message(k)));
        sends.push_back(comm.isend(out.back(), dest, 5));
      }
    for (int dest = 1; dest < comm.size(); ++dest)
      for (int k = kHalf; k < kMessages; ++k) comm.send(content(k, size_of_message(k)), dest, 5);
    for (Work& w : sends) w.wait();
  } else {
    std::vector<std::vector<std::byte>> in(kMessages);
    std::vector<Work> early;
    for (int k = 0; k < kHalf; ++k) {
      in[std::size_t(k)].resize(size_of_message(k));
      early.push_back(comm.irecv(in[std::size_t(k)], 0, 5));
    }
    comm.barrier();
    for (int k = kHalf; k < kMessages; ++k) {
      in[std::size_t(k)].resize(size_of_message(k));
      comm.recv(in[std::size_t(k)], 0, 5);
    }
    for (Work& w : early) w.wait();
    for (int k = 0; k < kMessages; ++k)
      require_equal<std::byte>(in[std::size_t(k)], content(k, size_of_message(k)), comm,
                               "message " + std::to_string(k) + " of " + std::to_string(kMessages) + " with tag 5");
  }
}

// Tags select: sent as 3, 1, 2 and received as 1, 2, 3.
void check_tags_select(Communicator& comm) {
  const int last = comm.size() - 1;
  if (comm.rank() == 0) {
    for (int tag : {3, 1, 2}) comm.send(message(0, last, tag, std::size_t(tag) * 4), last, tag);
  }
  if (comm.rank() == last) {
    for (int tag : {1, 2, 3}) {
      std::vector<std::byte> in(std::size_t(tag) * 4);
      comm.recv(in, 0, tag);
      require_message(comm, in, 0, tag, "tags sent 3, 1, 2");
    }
  }
}

// To oneself: send then receive, and receive (posted) then send.
void check_self(Communicator& comm) {
  const int me = comm.rank();
  const std::vector<std::byte> out = message(me, me, 4, 100);
  comm.isend(out, me, 4).wait();
  std::vector<std::byte> in(100);
  comm.irecv(in, me, 4).wait();
  require_message(comm, in, me, 4, "isend to self, then irecv");
  std::vector<std::byte> in2(100);
  Work receive = comm.irecv(in2, me, 6);
  const std::vector<std::byte> out2 = message(me, me, 6, 100);
  Work send = comm.isend(out2, me, 6);
  receive.wait();
  send.wait();
  require_message(comm, in2, me, 6, "irecv from self, then isend");
  std::vector<std::byte> empty;
  comm.isend(empty, me, 0).wait();
  comm.irecv(empty, me, 0).wait();
}

// Work::test(): false while the message cannot have been sent, then true once it arrives (polled);
// a default Work is complete; moving and destroying a Work.
void check_test_polls(Communicator& comm) {
  Work none;
  require(none.test(), comm, "a default Work is complete");
  none.wait();
  const int last = comm.size() - 1;
  if (comm.size() == 1) {
    std::vector<std::byte> in(64);
    Work receive = comm.irecv(in, 0, 9);
    for (int i = 0; i < 10; ++i) require(!receive.test(), comm, "test() said done before anything was sent");
    comm.send(message(0, 0, 9, 64), 0, 9);
    require(receive.test(), comm, "test() after the message was sent to oneself");
    require_message(comm, in, 0, 9, "polled with test()");
    return;
  }
  if (comm.rank() == last) {
    std::vector<std::byte> in(64);
    Work receive = comm.irecv(in, 0, 9);
    for (int i = 0; i < 10; ++i) require(!receive.test(), comm, "test() said done before rank 0 could send");
    comm.send({}, 0, 8);  // now rank 0 sends
    const auto give_up = Clock::now() + std::chrono::seconds(20);
    Work moved = std::move(receive);
    while (!moved.test()) require(Clock::now() < give_up, comm, "test() never said done");
    require(moved.test(), comm, "test() after done");
    require_message(comm, in, 0, 9, "polled with test()");
    // A Work destroyed before it completes waits for it.
    std::vector<std::byte> later(32);
    { Work pending = comm.irecv(later, 0, 10); }
    require_message(comm, later, 0, 10, "received while its Work was destroyed");
  } else if (comm.rank() == 0) {
    std::vector<std::byte> go;
    comm.recv(go, last, 8);
    comm.send(message(0, last, 9, 64), last, 9);
    std::this_thread::sleep_for(milliseconds(20));
    comm.send(message(0, last, 10, 32), last, 10);
  }
}

// Progress without a progress thread: rank 1 posts a receive for 4 MB, then "computes" for about a
// second in 1 ms slices, calling test() between them; rank 0's send must complete long before.
void check_progress(Communicator& comm) {
  constexpr std::size_t kBytes = 4 << 20;
  if (comm.rank() == 1) {
    std::vector<std::byte> in(kBytes);
    Work receive = comm.irecv(in, 0, 2);
    comm.send({}, 0, 1);  // posted: rank 0 may send
    const auto start = Clock::now();
    bool done = false;
    while (Clock::now() - start < milliseconds(1000)) {
      std::this_thread::sleep_for(milliseconds(1));  // computing
      if (!done) done = receive.test();
    }
    receive.wait();
    require_message(comm, in, 0, 2, "4 MB received while computing");
  } else if (comm.rank() == 0) {
    std::vector<std::byte> ready;
    comm.recv(ready, 1, 1);
    const std::vector<std::byte> out = message(0, 1, 2, kBytes);
    const auto start = Clock::now();
    comm.isend(out, 1, 2).wait();
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    require(took < 0.5, comm,
            "sending 4 MB to a rank that calls test() every millisecond took " + std::to_string(took) + " s");
  }
}

// A message of the wrong size is a local error on the receiver.
void check_wrong_size(Communicator& comm, std::size_t receive_bytes) {
  const int last = comm.size() - 1;
  std::vector<std::byte> out(8, std::byte{1});
  Work send;
  if (comm.rank() == 0) send = comm.isend(out, last, 3);
  if (comm.rank() == last) {
    std::vector<std::byte> in(receive_bytes);
    require_error(comm, [&] { comm.irecv(in, 0, 3).wait(); },
                  "receiving 8 bytes into " + std::to_string(receive_bytes));
  }
  send.wait();
}

}  // namespace

void add_message_checks(std::vector<ConformanceCheck>& checks) {
  checks.push_back({"isend_irecv_both_orders", 1, check_both_orders});
  checks.push_back({"isend_irecv_order_kept", 2, check_order_kept});
  checks.push_back({"isend_irecv_tags_select", 1, check_tags_select});
  checks.push_back({"isend_irecv_self", 1, check_self});
  checks.push_back({"work_test_polls", 1, check_test_polls});
  checks.push_back({"progress_while_computing", 2, check_progress});
  checks.push_back({"wrong_size_larger_buffer", 1, [](Communicator& c) { check_wrong_size(c, 12); }});
  checks.push_back({"wrong_size_smaller_buffer", 1, [](Communicator& c) { check_wrong_size(c, 4); }});
}

}  // namespace parafit::conformance
