// Layout ops of the attention, bidirectional and beam-search paths: concat_columns and its
// backward split_columns, reverse_sequences, gather_rows. One thread per output element (split:
// per input element), grid-stride; the per-element bodies are host-callable (the Kernel* tests
// run them on the CPU). CPU twins: the same ops of the CPU backend. No CUDA types.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/host_device.h"
#include "kernels/stream.h"

namespace s2s::cuda {

// out[r, :] = [a[r, :], b[r, :]]; idx over rows * (a_width + b_width).
S2S_HOST_DEVICE void concat_columns_unit(const float* a, const float* b, int a_width, int b_width,
                                         float* out, std::size_t idx) {
  const std::size_t width = static_cast<std::size_t>(a_width) + b_width;
  const std::size_t r = idx / width;
  const std::size_t c = idx - r * width;
  out[idx] =
      c < static_cast<std::size_t>(a_width) ? a[r * a_width + c] : b[r * b_width + (c - a_width)];
}

// dout[r, c] goes to da[r, c] (c < a_width) or db[r, c - a_width]: written or added; a null
// target is skipped. idx over rows * (a_width + b_width).
S2S_HOST_DEVICE void split_columns_unit(const float* dout, int a_width, int b_width, float* da,
                                        float* db, bool accumulate, std::size_t idx) {
  const std::size_t width = static_cast<std::size_t>(a_width) + b_width;
  const std::size_t r = idx / width;
  const std::size_t c = idx - r * width;
  float* target = c < static_cast<std::size_t>(a_width)
                      ? (da != nullptr ? da + r * a_width + c : nullptr)
                      : (db != nullptr ? db + r * b_width + (c - a_width) : nullptr);
  if (target != nullptr) *target = accumulate ? *target + dout[idx] : dout[idx];
}

// out[t, b, :] = x[lengths[b] - 1 - t, b, :] for t < lengths[b], 0 past it; idx over T * B * X.
S2S_HOST_DEVICE void reverse_sequences_unit(const float* x, const std::int32_t* lengths, int batch,
                                            int width, float* out, std::size_t idx) {
  const std::size_t column = idx % width;
  const std::size_t tb = idx / width;
  const std::size_t b = tb % batch;
  const std::size_t t = tb / batch;
  const std::size_t length = static_cast<std::size_t>(lengths[b]);
  out[idx] = t < length ? x[((length - 1 - t) * batch + b) * width + column] : 0.0f;
}

// out[g, r, :] = x[g, index[r], :]; idx over groups * rows_out * W.
S2S_HOST_DEVICE void gather_rows_unit(const float* x, const std::int32_t* index, int rows_in,
                                      int rows_out, int width, float* out, std::size_t idx) {
  const std::size_t column = idx % width;
  const std::size_t gr = idx / width;
  const std::size_t r = gr % rows_out;
  const std::size_t g = gr / rows_out;
  out[idx] = x[(g * rows_in + static_cast<std::size_t>(index[r])) * width + column];
}

// Launchers: arguments as the Ops methods of the same names (include/s2s/backend.h), device
// memory; accumulate = (mode == GradMode::accumulate).
void concat_columns_cuda(const float* a, const float* b, int rows, int a_width, int b_width,
                         float* out, Stream stream);
void split_columns_cuda(const float* dout, int rows, int a_width, int b_width, float* da, float* db,
                        bool accumulate, Stream stream);
void reverse_sequences_cuda(const float* x, const std::int32_t* lengths, int seq_len, int batch,
                            int width, float* out, Stream stream);
void gather_rows_cuda(const float* x, const std::int32_t* index, int groups, int rows_in,
                      int rows_out, int width, float* out, Stream stream);

}  // namespace s2s::cuda
