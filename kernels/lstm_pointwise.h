// The LSTM cell's fused pointwise step (gates i, f, g, o), forward and backward, one launch per
// time step: the launchers, and the per-thread bodies (host-callable, so that the Kernel* tests
// run them on the CPU). The math is host/cells/lstm_cell.h, shared with the CPU loops
// (host/cpu/rnn_cells.inc); the orchestration (host/rnn_stack.h) calls the launchers through
// the CUDA executor. No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cells/accurate_activations.h"
#include "cells/host_device.h"
#include "cells/lstm_cell.h"
#include "kernels/stream.h"

namespace s2s::cuda {

// Step `step` of one layer over the batch; all device memory.
struct LstmForwardStep {
  int batch = 0, hidden_size = 0, step = 0;  // B, H, t
  // [B]; rows with step >= lengths[b] are padded: h_next gets 0, nothing else is written.
  const std::int32_t* lengths = nullptr;
  const float* recurrent = nullptr;  // [B, 4H] W_hh h_{t-1} of this step (no bias)
  const float* bias_ih = nullptr;    // [4H]
  const float* bias_hh = nullptr;    // [4H]
  const float* c_prev = nullptr;     // [B, H] cell state before the step
  // [B, 4H] in: the input projection x W_ih^T of this step (no bias); out: the activated gates
  // i, f, g, o (the backward's cache).
  float* gates = nullptr;
  float* c_next = nullptr;  // [B, H] overwritten at real rows
  float* h_next = nullptr;  // [B, H] overwritten
};  // no pointer aliases another

struct LstmBackwardStep {
  int batch = 0, hidden_size = 0, step = 0;
  const std::int32_t* lengths = nullptr;  // [B]
  const float* c_prev = nullptr;  // [B, H] cell state before the step (cached by the forward)
  const float* c_now = nullptr;   // [B, H] after it
  const float* doutput = nullptr;  // [B, H] gradient w.r.t. this step's output, nullable (zeros)
  // [B, 4H] in: the activated gates; out: gradients w.r.t. the pre-activations (also the
  // recurrent side's: LSTM's are the same); zeros at padded rows.
  float* gates = nullptr;
  // [B, H] in: gradient w.r.t. h_t carried from step t+1; out (real rows): 0, ready for the
  // recurrent GEMM to add dgates W_hh. Padded rows are left as they are.
  float* dh_state = nullptr;
  float* dc_state = nullptr;  // [B, H] in: w.r.t. c_t; out (real rows): w.r.t. c_{t-1}
};

using LstmKernelCell = cells::LstmCell<float, cells::AccurateActivations>;

// Thread idx's work, idx in [0, B*H): unit j = idx % H of row b = idx / H.
S2S_HOST_DEVICE void lstm_pointwise_forward_unit(const LstmForwardStep& a, int idx) {
  const int H = a.hidden_size;
  const int b = idx / H;
  const int j = idx - b * H;
  if (a.step >= a.lengths[b]) {
    a.h_next[idx] = 0.0f;
    return;
  }
  float* gate = a.gates + static_cast<std::size_t>(b) * 4 * H;
  const float* rec = a.recurrent + static_cast<std::size_t>(b) * 4 * H;
  const int ji = j, jf = H + j, jg = 2 * H + j, jo = 3 * H + j;
  using Cell = LstmKernelCell;
  const cells::LstmForward<float> r = Cell::forward(
      Cell::gate_input(gate[ji], a.bias_ih[ji], rec[ji], a.bias_hh[ji]),
      Cell::gate_input(gate[jf], a.bias_ih[jf], rec[jf], a.bias_hh[jf]),
      Cell::gate_input(gate[jg], a.bias_ih[jg], rec[jg], a.bias_hh[jg]),
      Cell::gate_input(gate[jo], a.bias_ih[jo], rec[jo], a.bias_hh[jo]), a.c_prev[idx]);
  gate[ji] = r.i;
  gate[jf] = r.f;
  gate[jg] = r.g;
  gate[jo] = r.o;
  a.c_next[idx] = r.c;
  a.h_next[idx] = r.h;
}

S2S_HOST_DEVICE void lstm_pointwise_backward_unit(const LstmBackwardStep& a, int idx) {
  const int H = a.hidden_size;
  const int b = idx / H;
  const int j = idx - b * H;
  float* dgate = a.gates + static_cast<std::size_t>(b) * 4 * H;
  const int ji = j, jf = H + j, jg = 2 * H + j, jo = 3 * H + j;
  if (a.step >= a.lengths[b]) {
    // The state gradients pass a padded step unchanged; zero gate gradients make the
    // recurrent GEMM add nothing to this row, and the parameters get nothing from it.
    dgate[ji] = dgate[jf] = dgate[jg] = dgate[jo] = 0.0f;
    return;
  }
  const float dh = a.dh_state[idx] + (a.doutput != nullptr ? a.doutput[idx] : 0.0f);
  const cells::LstmBackward<float> r = LstmKernelCell::backward(
      dgate[ji], dgate[jf], dgate[jg], dgate[jo], a.c_prev[idx], a.c_now[idx], dh,
      a.dc_state[idx]);
  dgate[ji] = r.di;
  dgate[jf] = r.df;
  dgate[jg] = r.dg;
  dgate[jo] = r.do_;
  a.dc_state[idx] = r.dc_prev;
  a.dh_state[idx] = 0.0f;  // h_{t-1} reaches the loss only through W_hh (the GEMM after this)
}

// The launchers: one thread per unit (b, j), grid_stride_shape(B * H).
void lstm_pointwise_forward_cuda(const LstmForwardStep& step, Stream stream);
void lstm_pointwise_backward_cuda(const LstmBackwardStep& step, Stream stream);

}  // namespace s2s::cuda
