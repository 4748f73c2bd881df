// parallel/strategies/ssp_protocol.h — the messages between the parameter server's workers and
// servers (--sync ssp:S; ssp_exchange.cpp is the workers' side, ssp_server.cpp the servers').
//
// Roles: of R ranks, the first W = R - K are workers (they hold the data and run the Trainer on a
// communicator of their own) and the last K are servers. Server k holds the weights and the
// optimizer state of the parameter range [bounds[k], bounds[k+1]) (P·k/K ..).
//
// Every message is a fixed-size array of doubles on its own tag (point-to-point, in order per
// sender and tag), so each side knows every size in advance:
//   kTagHello   worker 0 -> server: [P, has_state, ok, 0] then (ok) kTagHelloData: the slice's
//               starting weights, then (has_state) the slice's optimizer state (a checkpoint);
//               or [0, usage, 0, length] and kTagErrorText: the workers failed to start
//   kTagPush    worker -> server: [kind, clock, lr, scale] + the worker's strata-tree nodes,
//               columns of the server's slice (the last server also the loss and failure flag)
//               kind kGradient, or kDone: [kDone, clocks pushed, termination, 0] + zeros
//   kTagResult  server -> worker: [kind, version, loss, finite, failed] + the slice's weights
//               kind kUpdate (version = clocks applied), kStopped (a worker is done after
//               `version` clocks: no later clock can complete), or kAck (answers kDone: the
//               last message to that worker)
//   kTagState   server -> worker 0 on a kStateRequest push: "step" then each moment's slice
//   kTagError   worker 0 -> server: [length] then kTagErrorText: the message's bytes (a failure
//               every worker has agreed on); [-1] after its kDone closes the channel
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace parafit::detail::ssp {

inline constexpr int kTagHello = 3101, kTagHelloData = 3102, kTagPush = 3103, kTagResult = 3104, kTagState = 3105,
                     kTagError = 3106, kTagErrorText = 3107;

// Push kinds (the first value of a kTagPush message).
inline constexpr double kGradient = 0, kDone = 1, kStateRequest = 2;
// Result kinds: kAck answers a worker's kDone and is the last message it gets.
inline constexpr double kUpdate = 0, kStopped = 1, kAck = 2;

inline constexpr std::size_t kPushHeader = 4, kResultHeader = 5, kHelloHeader = 4;

// The bytes of a message buffer (Communicator's point-to-point calls move bytes).
template <class T>
std::span<std::byte> bytes(std::vector<T>& v) {
  return std::as_writable_bytes(std::span<T>(v));
}
template <class T>
std::span<const std::byte> cbytes(const std::vector<T>& v) {
  return std::as_bytes(std::span<const T>(v));
}

// The servers' parameter ranges: K + 1 bounds over [0, P).
inline std::vector<std::size_t> server_bounds(std::size_t parameters, std::size_t servers) {
  std::vector<std::size_t> b(servers + 1);
  for (std::size_t k = 0; k <= servers; ++k) b[k] = parameters * k / servers;
  return b;
}

// Columns of server k's push: its slice, and for the last server the loss and failure flag too.
inline std::size_t push_columns(const std::vector<std::size_t>& bounds, std::size_t k) {
  return bounds[k + 1] - bounds[k] + (k + 2 == bounds.size() ? 2 : 0);
}

}  // namespace parafit::detail::ssp
