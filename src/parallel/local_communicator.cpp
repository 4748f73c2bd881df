#include <stdexcept>
#include <string>

#include "parafit/communicator.h"

namespace parafit {

void LocalCommunicator::broadcast(std::span<std::byte>, int root) {
  if (root != 0) throw std::logic_error("LocalCommunicator::broadcast: root must be 0");
}

void LocalCommunicator::send(std::span<const std::byte>, int destination, int) {
  throw std::logic_error("LocalCommunicator::send: no rank " + std::to_string(destination));
}

void LocalCommunicator::recv(std::span<std::byte>, int source, int) {
  throw std::logic_error("LocalCommunicator::recv: no rank " + std::to_string(source));
}

}  // namespace parafit
