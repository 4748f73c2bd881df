// data/shard_range.h — splitting a range evenly among shards, as the readers do.
#pragma once

#include <cstddef>
#include <string>

#include <fmt/format.h>

#include "parafit/error.h"

namespace parafit::detail {

// floor(r * n / k) for r <= k, without overflow for any n and k.
inline std::size_t shard_point(std::size_t n, std::size_t r, std::size_t k) {
  __extension__ using Wide = unsigned __int128;
  return static_cast<std::size_t>(static_cast<Wide>(n) * r / k);
}

// Throws parafit::Error unless 0 <= index < count.
inline void check_shard(const std::string& source, std::size_t index, std::size_t count) {
  if (count == 0 || index >= count) {
    throw Error(fmt::format("{}: invalid shard {} of {} (need shard_index < shard_count)", source,
                            index, count));
  }
}

}  // namespace parafit::detail
