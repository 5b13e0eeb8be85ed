// Adds, for every token, the sum of the rows of its positions into that token's slice of an
// output array: the second half of the deterministic scatter-adds of embedding_backward and
// one-hot backward, after kernels/token_sort.h. No atomics: each output element is written by
// one thread, and each sum runs in an order fixed by the launch shape. No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// sorted_tokens, sorted_positions: [n] as made by sort_token_positions_cuda; keys >= vocab
//   (padding) are skipped.
// rows: [n, width] device memory, row p belonging to position p.
// out: device memory; for each token v present and each column c < width,
//   out[v * token_stride + c * column_stride] += (float) sum over v's positions p of
//   rows[p, c], the sum taken in double. Elements of absent tokens are not touched.
void token_segment_sum_cuda(const std::uint32_t* sorted_tokens,
                            const std::int32_t* sorted_positions, int n, int vocab,
                            const float* rows, int width, float* out, std::size_t token_stride,
                            std::size_t column_stride, Stream stream);

}  // namespace s2s::cuda
