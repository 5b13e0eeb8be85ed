// Sorts token positions by token id, keeping positions of one token in increasing order (a
// stable radix sort): the first half of the deterministic scatter-adds of embedding_backward
// and one-hot backward (kernels/token_segment_sum.h is the second). No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// The sorted arrays, inside the caller's scratch. Padded positions (see below) carry the key
// `vocab` and so sort after every real one.
struct SortedTokens {
  const std::uint32_t* tokens = nullptr;   // [n] keys in increasing order
  const std::int32_t* positions = nullptr;  // [n] position of each key; increasing per key
};

// Device scratch bytes that sort_token_positions_cuda needs for n positions.
std::size_t token_sort_scratch_bytes(int n, int vocab);

// tokens: [n] device memory; position i is row i of a time-major [T, B] grid (n = T * B).
// lengths: [B] nullable: when given, positions with i / batch >= lengths[i % batch] are padded
//   and their tokens are not read; when null every position is real and batch is ignored.
// Real tokens must lie in [0, vocab). scratch: token_sort_scratch_bytes(n, vocab) bytes of
// device memory, 256-byte aligned; the result lives there until the scratch is reused.
SortedTokens sort_token_positions_cuda(const std::int32_t* tokens, const std::int32_t* lengths,
                                       int batch, int n, int vocab, void* scratch,
                                       std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
