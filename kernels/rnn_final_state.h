// Gathers each sequence's final state out of a layer's state sequence: the state after its last
// real step. CPU twin: the hn/cn copy loop of rnn_forward_cpu (host/cpu/rnn_cpu.cpp).
// No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/host_device.h"
#include "kernels/stream.h"

namespace s2s::cuda {

// state_seq: [T+1, B, H] device memory, slot 0 the initial state, slot t+1 the state after
//   step t (real steps only are read). lengths: [B], each in [1, T].
// out: [B, H] overwritten with out[b, :] = state_seq[lengths[b], b, :]; must not alias
//   state_seq.
// Thread idx's work, idx in [0, B*H) (host-callable: the Kernel* tests run it on the CPU).
S2S_HOST_DEVICE void rnn_final_state_unit(const float* state_seq, const std::int32_t* lengths,
                                          int batch, int hidden_size, float* out, int idx) {
  const int b = idx / hidden_size;
  const std::size_t slot = static_cast<std::size_t>(batch) * hidden_size;
  out[idx] = state_seq[static_cast<std::size_t>(lengths[b]) * slot + idx];
}

// One thread per element, grid_stride_shape(B * H).
void rnn_final_state_cuda(const float* state_seq, const std::int32_t* lengths, int batch,
                          int hidden_size, float* out, Stream stream);

}  // namespace s2s::cuda
