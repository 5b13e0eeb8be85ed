// The GRU cell's fused pointwise step (gates r, z, n; the reset gate multiplies W_hn h + b_hn,
// as in PyTorch and cuDNN), forward and backward, one launch per time step. CPU twin: the GRU
// branches of the step loops in host/cpu/rnn_cpu.cpp. No CUDA types here.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// Step `step` of one layer over the batch; B = batch, H = hidden_size, all device memory.
// lengths: [B]; rows with step >= lengths[b] are padded: h_next gets 0, nothing else is written.
// recurrent: [B, 3H] W_hh h_{t-1} of this step (no bias). bias_ih, bias_hh: [3H].
// h_prev: [B, H] state before the step.
// gates: [B, 3H] in: the input projection of this step (no bias); out: activated r, z, n.
// hh_new: [B, H] overwritten at real rows with W_hn h_{t-1} + b_hn (the backward's cache).
// h_next: [B, H] overwritten. No argument aliases another.
void gru_pointwise_forward_cuda(int batch, int hidden_size, int step,
                                const std::int32_t* lengths, const float* recurrent,
                                const float* bias_ih, const float* bias_hh, const float* h_prev,
                                float* gates, float* hh_new, float* h_next, Stream stream);

// Backward of step `step`.
// h_prev: [B, H] state before the step; hh_new: [B, H] as cached by the forward.
// doutput: [B, H] gradient w.r.t. this step's output, nullable (zeros).
// gates: [B, 3H] in: activated gates; out: gradients w.r.t. the input-side pre-activations
//   (zeros at padded rows).
// dgates_hh: [B, 3H] overwritten: gradients w.r.t. the recurrent-side pre-activations (the n
//   block is scaled by r); zeros at padded rows.
// dh_state: [B, H] in: gradient w.r.t. h_t; out (real rows): the direct part z * dh of the
//   gradient w.r.t. h_{t-1}, to which the recurrent GEMM adds dgates_hh W_hh.
void gru_pointwise_backward_cuda(int batch, int hidden_size, int step,
                                 const std::int32_t* lengths, const float* h_prev,
                                 const float* hh_new, const float* doutput, float* gates,
                                 float* dgates_hh, float* dh_state, Stream stream);

}  // namespace s2s::cuda
