// Which part of a global batch (or of a validation set) each rank takes.
#pragma once

#include <cstddef>

namespace s2s {

// Rank `rank`'s contiguous share [begin, end) of `count` items split over `size` ranks: the
// first count % size ranks take one item more, so shares differ by at most one and are empty
// only when count < size. Depends on count, rank and size alone: deterministic on every rank.
struct ShardRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};
ShardRange shard_range(std::size_t count, int rank, int size);

}  // namespace s2s
