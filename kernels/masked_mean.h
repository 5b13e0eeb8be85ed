// The two ends of a mean over the real rows of a padded [T, B] batch, shared by the losses
// (kernels/softmax_cross_entropy.h, kernels/mse.h): the scale 1 / count before the per-row
// kernel, and the fixed-order sum of the per-row values after it. CPU twin: count_real_rows and
// the loss_sum * inv_count of host/cpu/loss_cpu.cpp. No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// lengths: [B] device memory (values outside [0, T] count as clamped); scale: [1] device double
// overwritten with 1 / (real rows * values_per_row), or 0 when no row is real.
void masked_mean_scale_cuda(const std::int32_t* lengths, int seq_len, int batch,
                            int values_per_row, double* scale, Stream stream);

// row_values: [n] device doubles; out: [1] device float overwritten with
// (float)(sum of row_values * scale[0]), the sum in an order fixed by n. One block.
void masked_mean_finish_cuda(const double* row_values, std::size_t n, const double* scale,
                             float* out, Stream stream);

}  // namespace s2s::cuda
