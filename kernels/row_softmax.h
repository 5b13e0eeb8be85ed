// The per-lane arithmetic of the row softmax kernels (masked_softmax, log_softmax): a warp owns
// one row and lane l handles positions l, l + lanes, l + 2 lanes, ...; the kernels combine the
// lanes' partial results with warp reductions (kernels/device_common.cuh), the Kernel* tests
// (tests/test_kernel_attention.cpp) combine them on the CPU. Host-callable, no CUDA types.
//
// Numerics, as softmax_cross_entropy: the row maximum is subtracted before expf (float); the
// sum of exponentials and the normalisation are in double. A NaN among the real positions is
// skipped by the maximum but reaches the sum, so the whole row's results are NaN (as the CPU
// reference's are); positions at or past `length` are never read.
#pragma once

#include <cmath>

#include "cells/host_device.h"

namespace s2s::cuda {

// This lane's maximum of row[s], s < length (-inf when it has none; NaN never wins).
S2S_HOST_DEVICE float row_lane_max(const float* row, int length, int lane, int lanes) {
  float best = -INFINITY;
  for (int s = lane; s < length; s += lanes) best = row[s] > best ? row[s] : best;
  return best;
}

// This lane's sum of exp(row[s] - row_max), s < length.
S2S_HOST_DEVICE double row_lane_sum_exp(const float* row, int length, float row_max, int lane,
                                        int lanes) {
  double sum = 0.0;
  for (int s = lane; s < length; s += lanes) sum += static_cast<double>(expf(row[s] - row_max));
  return sum;
}

// weights[s] = exp(row[s] - row_max) / sum_exp for s < length, 0 for length <= s < width (the
// padded positions, whatever their scores). weights may alias row.
S2S_HOST_DEVICE void masked_softmax_lane_write(const float* row, int length, int width,
                                               float row_max, double sum_exp, float* weights,
                                               int lane, int lanes) {
  const double inverse = 1.0 / sum_exp;
  for (int s = lane; s < width; s += lanes)
    weights[s] = s < length
                     ? static_cast<float>(static_cast<double>(expf(row[s] - row_max)) * inverse)
                     : 0.0f;
}

// This lane's part of sum_s weights[s] * dweights[s], s < length.
S2S_HOST_DEVICE double masked_softmax_lane_dot(const float* weights, const float* dweights,
                                               int length, int lane, int lanes) {
  double sum = 0.0;
  for (int s = lane; s < length; s += lanes)
    sum += static_cast<double>(weights[s]) * static_cast<double>(dweights[s]);
  return sum;
}

// dscores[s] = weights[s] * (dweights[s] - dot) for s < length, 0 past it.
S2S_HOST_DEVICE void masked_softmax_backward_lane_write(const float* weights, const float* dweights,
                                                        int length, int width, double dot,
                                                        float* dscores, int lane, int lanes) {
  for (int s = lane; s < width; s += lanes)
    dscores[s] = s < length ? static_cast<float>(static_cast<double>(weights[s]) *
                                                 (static_cast<double>(dweights[s]) - dot))
                            : 0.0f;
}

// out[v] = row[v] - row_max - log(sum_exp), v < width (every position is real). out may alias
// row: each lane reads a position before it writes it.
S2S_HOST_DEVICE void log_softmax_lane_write(const float* row, int width, float row_max,
                                            double sum_exp, float* out, int lane, int lanes) {
  const double shift = static_cast<double>(row_max) + ::log(sum_exp);
  for (int v = lane; v < width; v += lanes)
    out[v] = static_cast<float>(static_cast<double>(row[v]) - shift);
}

}  // namespace s2s::cuda
