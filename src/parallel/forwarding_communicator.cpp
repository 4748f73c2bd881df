#include "parafit/communicator.h"

namespace parafit {

ForwardingCommunicator::ForwardingCommunicator(std::unique_ptr<Communicator> inner) : inner_(std::move(inner)) {
  if (!inner_) throw Error("ForwardingCommunicator: no communicator to forward to");
}

void ForwardingCommunicator::do_allreduce(void* values, std::size_t count, DataType type, ReduceOp op) {
  before("allreduce");
  inner_->do_allreduce(values, count, type, op);
}

void ForwardingCommunicator::do_allgather(const void* mine, void* all, std::size_t count, DataType type) {
  before("allgather");
  inner_->do_allgather(mine, all, count, type);
}

void ForwardingCommunicator::do_allgatherv(const void* mine, void* all, std::span<const std::size_t> counts,
                                           DataType type) {
  before("allgatherv");
  inner_->do_allgatherv(mine, all, counts, type);
}

void ForwardingCommunicator::do_reduce_scatter(const void* in, void* out, std::span<const std::size_t> counts,
                                               DataType type, ReduceOp op) {
  before("reduce_scatter");
  inner_->do_reduce_scatter(in, out, counts, type, op);
}

void ForwardingCommunicator::do_broadcast(void* data, std::size_t count, DataType type, int root) {
  before("broadcast");
  inner_->do_broadcast(data, count, type, root);
}

void ForwardingCommunicator::do_barrier() {
  before("barrier");
  inner_->do_barrier();
}

Work ForwardingCommunicator::do_isend(std::span<const std::byte> data, int destination, int tag) {
  before("isend");
  return inner_->do_isend(data, destination, tag);
}

Work ForwardingCommunicator::do_irecv(std::span<std::byte> data, int source, int tag) {
  before("irecv");
  return inner_->do_irecv(data, source, tag);
}

Work ForwardingCommunicator::do_iallreduce(void* values, std::size_t count, DataType type, ReduceOp op) {
  before("iallreduce");
  return inner_->do_iallreduce(values, count, type, op);
}

std::unique_ptr<Communicator> ForwardingCommunicator::do_split(int color, int key) {
  before("split");
  return inner_->do_split(color, key);
}

void ForwardingCommunicator::do_abort(const std::string& reason) {
  before("abort");
  inner_->do_abort(reason);
}

}  // namespace parafit
