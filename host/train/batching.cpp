// Epoch orders: seed 001's shuffle and length buckets.
#include "s2s/batching.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace s2s {

namespace {
std::vector<std::size_t> shuffled(std::size_t n, Rng& rng) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

std::vector<BatchIndices> cut(const std::vector<std::size_t>& order, std::size_t batch_size) {
  std::vector<BatchIndices> batches;
  for (std::size_t i = 0; i < order.size(); i += batch_size)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(
                                             std::min(order.size(), i + batch_size)));
  return batches;
}

std::size_t target_length(const SequenceData& data, std::size_t i) {
  return data.targets.empty() ? 0 : data.targets[i].size();
}
}  // namespace

std::vector<BatchIndices> shuffled_batches(std::size_t n, std::size_t batch_size, Rng& rng) {
  return cut(shuffled(n, rng), batch_size);
}

std::vector<BatchIndices> bucketed_batches(const SequenceData& data, std::size_t batch_size,
                                           Rng& rng) {
  std::vector<std::size_t> order = shuffled(data.size(), rng);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::size_t ta = target_length(data, a), tb = target_length(data, b);
    if (ta != tb) return ta < tb;
    return data.source_length(a) < data.source_length(b);
  });
  std::vector<BatchIndices> batches = cut(order, batch_size);
  // The buckets in a random order, so that an epoch does not run from short to long.
  for (std::size_t i = batches.size(); i > 1; --i)
    std::swap(batches[i - 1], batches[rng.below(i)]);
  return batches;
}

bool lengths_vary(const SequenceData& data) {
  for (std::size_t i = 1; i < data.size(); ++i)
    if (data.source_length(i) != data.source_length(0) ||
        target_length(data, i) != target_length(data, 0))
      return true;
  return false;
}

}  // namespace s2s
