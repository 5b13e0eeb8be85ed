// The GRU cell's fused pointwise step (gates r, z, n; the reset gate multiplies W_hn h + b_hn,
// as in PyTorch and cuDNN), forward and backward, one launch per time step: the launchers and
// the per-thread bodies (host-callable, run on the CPU by the Kernel* tests). The math is
// host/cells/gru_cell.h, shared with the CPU loops. No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/accurate_activations.h"
#include "cells/gru_cell.h"
#include "cells/host_device.h"
#include "kernels/stream.h"

namespace s2s::cuda {

// Step `step` of one layer over the batch; all device memory; no pointer aliases another.
struct GruForwardStep {
  int batch = 0, hidden_size = 0, step = 0;  // B, H, t
  // [B]; rows with step >= lengths[b] are padded: h_next gets 0, nothing else is written.
  const std::int32_t* lengths = nullptr;
  const float* recurrent = nullptr;  // [B, 3H] W_hh h_{t-1} of this step (no bias)
  const float* bias_ih = nullptr;    // [3H]
  const float* bias_hh = nullptr;    // [3H]
  const float* h_prev = nullptr;     // [B, H] state before the step
  // [B, 3H] in: the input projection of this step (no bias); out: activated r, z, n.
  float* gates = nullptr;
  float* hh_new = nullptr;  // [B, H] overwritten at real rows with W_hn h_{t-1} + b_hn
  float* h_next = nullptr;  // [B, H] overwritten
};

struct GruBackwardStep {
  int batch = 0, hidden_size = 0, step = 0;
  const std::int32_t* lengths = nullptr;  // [B]
  const float* h_prev = nullptr;   // [B, H] state before the step
  const float* hh_new = nullptr;   // [B, H] as cached by the forward
  const float* doutput = nullptr;  // [B, H] gradient w.r.t. this step's output, nullable
  // [B, 3H] in: activated gates; out: gradients w.r.t. the input-side pre-activations (zeros
  // at padded rows).
  float* gates = nullptr;
  // [B, 3H] overwritten: gradients w.r.t. the recurrent-side pre-activations (the n block is
  // scaled by r); zeros at padded rows.
  float* dgates_hh = nullptr;
  // [B, H] in: gradient w.r.t. h_t; out (real rows): the direct part z * dh of the gradient
  // w.r.t. h_{t-1}, to which the recurrent GEMM adds dgates_hh W_hh.
  float* dh_state = nullptr;
};

using GruKernelCell = cells::GruCell<float, cells::AccurateActivations>;

// Thread idx's work, idx in [0, B*H): unit j = idx % H of row b = idx / H.
S2S_HOST_DEVICE void gru_pointwise_forward_unit(const GruForwardStep& a, int idx) {
  const int H = a.hidden_size;
  const int b = idx / H;
  const int j = idx - b * H;
  if (a.step >= a.lengths[b]) {
    a.h_next[idx] = 0.0f;
    return;
  }
  float* gate = a.gates + static_cast<std::size_t>(b) * 3 * H;
  const float* rec = a.recurrent + static_cast<std::size_t>(b) * 3 * H;
  const int jr = j, jz = H + j, jn = 2 * H + j;
  using Cell = GruKernelCell;
  const cells::GruForward<float> r =
      Cell::forward(Cell::gate_input(gate[jr], a.bias_ih[jr], rec[jr], a.bias_hh[jr]),
                    Cell::gate_input(gate[jz], a.bias_ih[jz], rec[jz], a.bias_hh[jz]),
                    gate[jn] + a.bias_ih[jn], rec[jn], a.bias_hh[jn], a.h_prev[idx]);
  gate[jr] = r.r;
  gate[jz] = r.z;
  gate[jn] = r.n;
  a.hh_new[idx] = r.recurrent_new;
  a.h_next[idx] = r.h;
}

S2S_HOST_DEVICE void gru_pointwise_backward_unit(const GruBackwardStep& a, int idx) {
  const int H = a.hidden_size;
  const int b = idx / H;
  const int j = idx - b * H;
  const std::size_t row = static_cast<std::size_t>(b) * 3 * H;
  float* dgate = a.gates + row;
  float* dgate_hh = a.dgates_hh + row;
  const int jr = j, jz = H + j, jn = 2 * H + j;
  if (a.step >= a.lengths[b]) {
    dgate[jr] = dgate[jz] = dgate[jn] = 0.0f;
    dgate_hh[jr] = dgate_hh[jz] = dgate_hh[jn] = 0.0f;
    return;
  }
  const float dh = a.dh_state[idx] + (a.doutput != nullptr ? a.doutput[idx] : 0.0f);
  const cells::GruBackward<float> r = GruKernelCell::backward(
      dgate[jr], dgate[jz], dgate[jn], a.h_prev[idx], a.hh_new[idx], dh);
  dgate[jr] = r.dr;
  dgate[jz] = r.dz;
  dgate[jn] = r.dn;
  dgate_hh[jr] = r.dr;
  dgate_hh[jz] = r.dz;
  dgate_hh[jn] = r.dn_hh;
  a.dh_state[idx] = r.dh_direct;  // the direct path h' = ... + z h; the GEMM adds the rest
}

// The launchers: one thread per unit (b, j), grid_stride_shape(B * H).
void gru_pointwise_forward_cuda(const GruForwardStep& step, Stream stream);
void gru_pointwise_backward_cuda(const GruBackwardStep& step, Stream stream);

}  // namespace s2s::cuda
