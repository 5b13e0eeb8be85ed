// Attention's masked softmax over the source positions, forward and backward: one warp per row
// of [B, Tq, Ts] (row r = b * Tq + q, its length source_lengths[b]), the arithmetic in
// kernels/row_softmax.h. CPU twin: masked_softmax(_backward) of the CPU backend. No CUDA types.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// Arguments as Ops::masked_softmax (include/s2s/backend.h), all device memory: scores and
// weights [B, Tq, Ts]; source_lengths [B] in [1, Ts]. Weight 0 at s >= source_lengths[b].
void masked_softmax_cuda(const float* scores, const std::int32_t* source_lengths, int query_len,
                         int source_len, int batch, float* weights, Stream stream);

// dscores = weights * (dweights - sum_s weights * dweights) (sum over s < length, in double),
// overwritten, 0 at the padded positions.
void masked_softmax_backward_cuda(const float* weights, const float* dweights,
                                  const std::int32_t* source_lengths, int query_len, int source_len,
                                  int batch, float* dscores, Stream stream);

}  // namespace s2s::cuda
