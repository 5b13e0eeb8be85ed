// Fused mean squared error over a padded [T, B] batch: per row the squared differences and the
// gradient in one kernel, then a fixed-order mean (kernels/masked_mean.h). CPU twin: mse_cpu
// (host/cpu/loss_cpu.cpp). No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// Device scratch bytes mse_cuda needs.
std::size_t mse_scratch_bytes(int seq_len, int batch);

// Arguments as Ops::mse (include/s2s/backend.h), all device memory: prediction, target
// [T, B, F]; lengths [B]; loss [1]; dprediction [T, B, F] overwritten, nullable.
// scratch: the bytes above, 8-aligned.
void mse_cuda(const float* prediction, const float* target, const std::int32_t* lengths,
              int seq_len, int batch, int features, float* loss, float* dprediction,
              void* scratch, std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
