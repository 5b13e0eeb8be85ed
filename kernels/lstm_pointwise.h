// The LSTM cell's fused pointwise step (gates i, f, g, o), forward and backward, one launch per
// time step. CPU twin: the LSTM branches of the step loops in host/cpu/rnn_cpu.cpp (same
// equations, same cache layout); host/cuda/cuda_rnn.cpp runs them between the cuBLAS GEMMs.
// No CUDA types here.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// Step `step` of one layer over the batch; B = batch, H = hidden_size, all device memory.
// lengths: [B]; rows with step >= lengths[b] are padded: h_next gets 0, nothing else is written.
// recurrent: [B, 4H] W_hh h_{t-1} of this step (no bias).
// bias_ih, bias_hh: [4H].
// c_prev: [B, H] cell state before the step.
// gates: [B, 4H] in: the input projection x W_ih^T of this step (no bias); out: the activated
//   gates i, f, g, o (the backward's cache).
// c_next: [B, H] overwritten at real rows. h_next: [B, H] overwritten. No argument aliases
//   another.
void lstm_pointwise_forward_cuda(int batch, int hidden_size, int step,
                                 const std::int32_t* lengths, const float* recurrent,
                                 const float* bias_ih, const float* bias_hh, const float* c_prev,
                                 float* gates, float* c_next, float* h_next, Stream stream);

// Backward of step `step`.
// c_prev, c_now: [B, H] cell states before and after the step (as cached by the forward).
// doutput: [B, H] gradient w.r.t. this step's output, nullable (zeros).
// gates: [B, 4H] in: the activated gates; out: gradients w.r.t. the pre-activations (also the
//   recurrent side's: LSTM's are the same); zeros at padded rows.
// dh_state: [B, H] in: gradient w.r.t. h_t carried from step t+1; out (real rows): 0, ready for
//   the recurrent GEMM to add dgates W_hh. Padded rows are left as they are.
// dc_state: [B, H] in: gradient w.r.t. c_t; out (real rows): w.r.t. c_{t-1}.
void lstm_pointwise_backward_cuda(int batch, int hidden_size, int step,
                                  const std::int32_t* lengths, const float* c_prev,
                                  const float* c_now, const float* doutput, float* gates,
                                  float* dh_state, float* dc_state, Stream stream);

}  // namespace s2s::cuda
