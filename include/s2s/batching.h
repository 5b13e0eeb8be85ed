// The order of an epoch's examples and how they are cut into batches: a plain seeded shuffle
// cut every batch_size examples (seed 001's way), or length buckets, so that a batch holds
// examples of equal or nearly equal length and no step computes on padding.
#pragma once

#include <cstddef>
#include <vector>

#include "s2s/random.h"
#include "s2s/sequences.h"

namespace s2s {

// One batch: indices into the data, in the order they enter the batch.
using BatchIndices = std::vector<std::size_t>;

// Seed 001's epoch: a Fisher-Yates shuffle of 0..n-1 with rng, cut into batches of batch_size
// (the last one shorter). Consumes exactly the draws of that shuffle.
std::vector<BatchIndices> shuffled_batches(std::size_t n, std::size_t batch_size, Rng& rng);

// Length buckets: the same shuffle, then a stable sort by (target length, source length), so
// that examples of equal length keep their shuffled order; the sorted list is cut every
// batch_size examples and the batches are shuffled with rng. Every example is in exactly one
// batch; a batch spans a contiguous run of the length-sorted examples, so the lengths inside it
// are equal or, where a length has fewer than batch_size examples left, the next ones up (the
// band). Deterministic for rng's state.
std::vector<BatchIndices> bucketed_batches(const SequenceData& data, std::size_t batch_size,
                                           Rng& rng);

// Whether the examples' (source, target) lengths differ, i.e. bucketing changes anything.
bool lengths_vary(const SequenceData& data);

}  // namespace s2s
