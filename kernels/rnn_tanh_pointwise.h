// The plain tanh RNN cell's fused pointwise step, forward and backward, one launch per time
// step: the launchers and the per-thread bodies (host-callable, run on the CPU by the Kernel*
// tests). The math is host/cells/rnn_tanh_cell.h, shared with the CPU loops. No CUDA types.
#pragma once

#include <cstdint>

#include "cells/accurate_activations.h"
#include "cells/host_device.h"
#include "cells/rnn_tanh_cell.h"
#include "kernels/stream.h"

namespace s2s::cuda {

// Step `step` of one layer; all device memory; no pointer aliases another.
struct RnnTanhForwardStep {
  int batch = 0, hidden_size = 0, step = 0;  // B, H, t
  // [B]; rows with step >= lengths[b] are padded: h_next gets 0, nothing else is written.
  const std::int32_t* lengths = nullptr;
  const float* recurrent = nullptr;  // [B, H] W_hh h_{t-1} (no bias)
  const float* bias_ih = nullptr;    // [H]
  const float* bias_hh = nullptr;    // [H]
  float* gates = nullptr;   // [B, H] in: the input projection; out: the new state (the cache)
  float* h_next = nullptr;  // [B, H] overwritten
};

struct RnnTanhBackwardStep {
  int batch = 0, hidden_size = 0, step = 0;
  const std::int32_t* lengths = nullptr;  // [B]
  const float* doutput = nullptr;  // [B, H] gradient w.r.t. this step's output, nullable
  // [B, H] in: the cached outputs; out: gradients w.r.t. the pre-activations (0 when padded).
  float* gates = nullptr;
  // [B, H] in: gradient w.r.t. h_t; out (real rows): 0, ready for the recurrent GEMM.
  float* dh_state = nullptr;
};

using RnnTanhKernelCell = cells::RnnTanhCell<float, cells::AccurateActivations>;

S2S_HOST_DEVICE void rnn_tanh_pointwise_forward_unit(const RnnTanhForwardStep& a, int idx) {
  const int b = idx / a.hidden_size;
  const int j = idx - b * a.hidden_size;
  if (a.step >= a.lengths[b]) {
    a.h_next[idx] = 0.0f;
    return;
  }
  const float h = RnnTanhKernelCell::forward(
      RnnTanhKernelCell::gate_input(a.gates[idx], a.bias_ih[j], a.recurrent[idx], a.bias_hh[j]));
  a.gates[idx] = h;
  a.h_next[idx] = h;
}

S2S_HOST_DEVICE void rnn_tanh_pointwise_backward_unit(const RnnTanhBackwardStep& a, int idx) {
  const int b = idx / a.hidden_size;
  if (a.step >= a.lengths[b]) {
    a.gates[idx] = 0.0f;
    return;
  }
  const float dh = a.dh_state[idx] + (a.doutput != nullptr ? a.doutput[idx] : 0.0f);
  a.gates[idx] = RnnTanhKernelCell::backward(a.gates[idx], dh);
  a.dh_state[idx] = 0.0f;
}

// The launchers: one thread per unit (b, j), grid_stride_shape(B * H).
void rnn_tanh_pointwise_forward_cuda(const RnnTanhForwardStep& step, Stream stream);
void rnn_tanh_pointwise_backward_cuda(const RnnTanhBackwardStep& step, Stream stream);

}  // namespace s2s::cuda
