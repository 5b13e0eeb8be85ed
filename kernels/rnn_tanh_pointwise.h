// The plain tanh RNN cell's fused pointwise step, forward and backward, one launch per time
// step. CPU twin: the RNN branches of the step loops in host/cpu/rnn_cpu.cpp. No CUDA types.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// Step `step` of one layer; B = batch, H = hidden_size, all device memory.
// lengths: [B]; rows with step >= lengths[b] are padded: h_next gets 0, nothing else written.
// recurrent: [B, H] W_hh h_{t-1} (no bias). bias_ih, bias_hh: [H].
// gates: [B, H] in: the input projection (no bias); out: h_t itself (the backward's cache).
// h_next: [B, H] overwritten.
void rnn_tanh_pointwise_forward_cuda(int batch, int hidden_size, int step,
                                     const std::int32_t* lengths, const float* recurrent,
                                     const float* bias_ih, const float* bias_hh, float* gates,
                                     float* h_next, Stream stream);

// Backward of step `step`.
// doutput: [B, H] gradient w.r.t. this step's output, nullable (zeros).
// gates: [B, H] in: h_t; out: gradient w.r.t. the pre-activation (zeros at padded rows).
// dh_state: [B, H] in: gradient w.r.t. h_t; out (real rows): 0, for the recurrent GEMM to add
//   dgates W_hh. Padded rows are left as they are.
void rnn_tanh_pointwise_backward_cuda(int batch, int hidden_size, int step,
                                      const std::int32_t* lengths, const float* doutput,
                                      float* gates, float* dh_state, Stream stream);

}  // namespace s2s::cuda
