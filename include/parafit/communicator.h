// parafit/communicator.h — how parallel workers (ranks) talk to each other.
//
// Solvers never call MPI or threads directly: the parallel layer computes "the sums over all data"
// on the threads of this process and combines them across ranks through a Communicator. Every rank
// must call the collectives in the same order. This header holds the interface and the `local`
// backend (one process, size 1); other backends (MPI, ranks-as-threads for tests) implement the
// same interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace parafit {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Element-wise sum over all ranks, result on every rank. Integer sums are exact, so the
  // deterministic reductions (ExactSum limbs) go through the int64 overload.
  virtual void allreduce_sum(std::span<std::int64_t> values) = 0;
  virtual void allreduce_sum(std::span<double> values) = 0;
  // Copies `data` from rank `root` to every rank.
  virtual void broadcast(std::span<std::byte> data, int root) = 0;
  virtual void barrier() = 0;
  virtual void send(std::span<const std::byte> data, int destination, int tag) = 0;
  virtual void recv(std::span<std::byte> data, int source, int tag) = 0;
};

// One process alone: collectives are no-ops, point-to-point is an error (there is nobody to talk to).
class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(std::span<std::int64_t>) override {}
  void allreduce_sum(std::span<double>) override {}
  void broadcast(std::span<std::byte>, int root) override;
  void barrier() override {}
  void send(std::span<const std::byte>, int destination, int tag) override;
  void recv(std::span<std::byte>, int source, int tag) override;
};

}  // namespace parafit
