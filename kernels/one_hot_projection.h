// Layer 0's input projection in one-hot mode: the product of a one-hot row with W_ih^T is
// column `token` of W_ih, so the forward gathers columns and the backward adds gate-gradient
// rows into columns (deterministically: sorted positions, one fixed-order sum per token).
// CPU twin: input_projection and the one-hot branch of rnn_backward_cpu in
// host/cpu/rnn_cpu.cpp. No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/host_device.h"

#include "kernels/stream.h"

namespace s2s::cuda {

// weight_ih: [GH, V] (GH = gate_width, V = vocab); tokens: [T, B], read at real steps only
// (t < lengths[b]), each in [0, V); gates: [T, B, GH], real rows overwritten with
// gates[t, b, g] = weight_ih[g, tokens[t, b]]; padded rows are not written. Device memory.
// Element (row, g) of the gather: the one-hot row of `token` times W_ih^T at gate unit g
// (host-callable: the Kernel* tests check the tile walk against it).
S2S_HOST_DEVICE float one_hot_gather_element(const float* weight_ih, int vocab,
                                             std::int32_t token, int g) {
  return weight_ih[static_cast<std::size_t>(g) * vocab + token];
}

// Tiles of 32 x 32 through shared memory (one_hot_gather_shape): coalesced reads and writes.
void one_hot_projection_forward_cuda(const float* weight_ih, const std::int32_t* tokens,
                                     const std::int32_t* lengths, int seq_len, int batch,
                                     int vocab, int gate_width, float* gates, Stream stream);

// Device scratch bytes one_hot_projection_backward_cuda needs.
std::size_t one_hot_projection_backward_scratch_bytes(int seq_len, int batch, int vocab);

// dgates: [T, B, GH] gradients w.r.t. the projection (real rows are read); dweight_ih: [GH, V]
// overwritten (accumulate false; columns of absent tokens become 0) or added to, column v
// receiving the sum of the rows of v's real positions. scratch: the bytes above, 256-aligned.
void one_hot_projection_backward_cuda(const std::int32_t* tokens, const std::int32_t* lengths,
                                      int seq_len, int batch, int vocab, int gate_width,
                                      const float* dgates, float* dweight_ih, bool accumulate,
                                      void* scratch, std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
