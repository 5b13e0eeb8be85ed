// Contiguous, balanced shards of a global batch.
#include "parallel/shard.h"

#include <string>

#include "s2s/error.h"

namespace s2s {

ShardRange shard_range(std::size_t count, int rank, int size) {
  require(size >= 1 && rank >= 0 && rank < size,
          "shard_range: rank " + std::to_string(rank) + " of " + std::to_string(size) +
              " (allowed: 0 <= rank < size)");
  const auto n = static_cast<std::size_t>(size), r = static_cast<std::size_t>(rank);
  const std::size_t base = count / n, extra = count % n;
  ShardRange s;
  s.begin = r * base + (r < extra ? r : extra);
  s.end = s.begin + base + (r < extra ? 1 : 0);
  return s;
}

}  // namespace s2s
