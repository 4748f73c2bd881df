// The last rank to join a collective does the work for every rank, in rank order: reductions add
// (or take the max or min of) rank 0's values, then rank 1's, ..., so double sums are
// deterministic.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "group.h"

namespace parafit::thread_backend {
namespace {

template <class T>
void reduce_typed(T* acc, const T* values, std::size_t count, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      for (std::size_t i = 0; i < count; ++i) acc[i] = acc[i] + values[i];
      break;
    case ReduceOp::kMax:
      for (std::size_t i = 0; i < count; ++i) acc[i] = std::max(acc[i], values[i]);
      break;
    case ReduceOp::kMin:
      for (std::size_t i = 0; i < count; ++i) acc[i] = std::min(acc[i], values[i]);
      break;
  }
}

// acc[i] = acc[i] op values[i].
void reduce_into(void* acc, const void* values, std::size_t count, DataType type, ReduceOp op) {
  switch (type) {
    case DataType::kInt64:
      if (op == ReduceOp::kSum) {
        // Unsigned arithmetic wraps like MPI_SUM on int64 does in practice, without undefined
        // behaviour.
        auto* a = static_cast<std::int64_t*>(acc);
        const auto* v = static_cast<const std::int64_t*>(values);
        for (std::size_t i = 0; i < count; ++i)
          a[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(a[i]) + static_cast<std::uint64_t>(v[i]));
      } else {
        reduce_typed(static_cast<std::int64_t*>(acc), static_cast<const std::int64_t*>(values), count, op);
      }
      break;
    case DataType::kFloat32:
      reduce_typed(static_cast<float*>(acc), static_cast<const float*>(values), count, op);
      break;
    case DataType::kFloat64:
      reduce_typed(static_cast<double*>(acc), static_cast<const double*>(values), count, op);
      break;
    case DataType::kByte:
      break;  // not a CommNumber: the public calls never reduce bytes
  }
}

void copy(void* to, const void* from, std::size_t bytes) {
  if (bytes > 0) std::memcpy(to, from, bytes);
}

// The reduction of every rank's `count` elements at in[r], in rank order.
std::vector<std::byte> reduced(const std::vector<const void*>& in, std::size_t count, DataType type, ReduceOp op) {
  std::vector<std::byte> acc(count * size_of(type));
  copy(acc.data(), in[0], acc.size());
  for (std::size_t r = 1; r < in.size(); ++r) reduce_into(acc.data(), in[r], count, type, op);
  return acc;
}

void split(Group& group, Collective& c) {
  std::map<int, std::vector<int>> members;  // by color, in rank order
  for (int r = 0; r < group.size(); ++r)
    if (c.color[static_cast<std::size_t>(r)] >= 0) members[c.color[static_cast<std::size_t>(r)]].push_back(r);
  for (auto& [color, ranks] : members) {
    std::stable_sort(ranks.begin(), ranks.end(),
                     [&](int a, int b) { return c.key[static_cast<std::size_t>(a)] < c.key[static_cast<std::size_t>(b)]; });
    std::vector<int> tree_rank;
    for (int r : ranks) tree_rank.push_back(group.tree_rank[static_cast<std::size_t>(r)]);
    auto child = std::make_shared<Group>(group.tree, std::move(tree_rank), ranks, group.timeout);
    group.children.push_back(child);
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      c.child[static_cast<std::size_t>(ranks[i])] = child;
      c.child_rank[static_cast<std::size_t>(ranks[i])] = static_cast<int>(i);
    }
  }
  // Forget the children that are gone, so that a long-lived group does not collect them.
  std::erase_if(group.children, [](const std::weak_ptr<Group>& g) { return g.expired(); });
}

}  // namespace

void complete(Group& group, Collective& c) {
  const Call& call = c.call;
  const std::size_t element = size_of(call.type);
  const auto ranks = static_cast<std::size_t>(group.size());
  switch (call.kind) {
    case Kind::kAllreduce:
    case Kind::kIallreduce: {
      const std::vector<const void*> in(c.out.begin(), c.out.end());
      const std::vector<std::byte> result = reduced(in, call.count, call.type, call.op);
      for (void* out : c.out) copy(out, result.data(), result.size());
      break;
    }
    case Kind::kAllgather: {
      const std::size_t block = call.count * element;
      for (std::size_t from = 0; from < ranks; ++from)
        for (std::size_t to = 0; to < ranks; ++to)
          copy(static_cast<std::byte*>(c.out[to]) + from * block, c.in[from], block);
      break;
    }
    case Kind::kAllgatherv: {
      std::size_t offset = 0;
      for (std::size_t from = 0; from < ranks; ++from) {
        const std::size_t bytes = call.counts[from] * element;
        for (std::size_t to = 0; to < ranks; ++to)
          copy(static_cast<std::byte*>(c.out[to]) + offset, c.in[from], bytes);
        offset += bytes;
      }
      break;
    }
    case Kind::kReduceScatter: {
      const std::size_t total = std::accumulate(call.counts.begin(), call.counts.end(), std::size_t{0});
      const std::vector<std::byte> result = reduced(c.in, total, call.type, call.op);
      std::size_t offset = 0;
      for (std::size_t to = 0; to < ranks; ++to) {
        const std::size_t bytes = call.counts[to] * element;
        copy(c.out[to], result.data() + offset, bytes);
        offset += bytes;
      }
      break;
    }
    case Kind::kBroadcast: {
      const void* from = c.out[static_cast<std::size_t>(call.root)];
      for (void* to : c.out)
        if (to != from) copy(to, from, call.count * element);
      break;
    }
    case Kind::kBarrier:
      break;
    case Kind::kSplit:
      split(group, c);
      break;
  }
}

}  // namespace parafit::thread_backend
