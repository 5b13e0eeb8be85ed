// Fused softmax cross-entropy over a padded [T, B] batch: per row the log-softmax, the loss
// term and the gradient in one kernel, then a fixed-order mean (kernels/masked_mean.h). CPU
// twin: softmax_cross_entropy_cpu (host/cpu/loss_cpu.cpp). No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// Device scratch bytes softmax_cross_entropy_cuda needs.
std::size_t softmax_cross_entropy_scratch_bytes(int seq_len, int batch);

// Arguments as Ops::softmax_cross_entropy (include/s2s/backend.h), all device memory:
// logits [T, B, V]; targets [T, B] (read at real rows); lengths [B] in [0, T]; loss [1];
// dlogits [T, B, V] overwritten, nullable. scratch: the bytes above, 8-aligned.
void softmax_cross_entropy_cuda(const float* logits, const std::int32_t* targets,
                                const std::int32_t* lengths, int seq_len, int batch, int vocab,
                                float* loss, float* dlogits, void* scratch,
                                std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
