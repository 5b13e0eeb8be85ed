// tanh RNN pointwise step kernels and launchers (kernels/rnn_tanh_pointwise.h).
#include "kernels/rnn_tanh_pointwise.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void rnn_tanh_pointwise_forward_kernel(int B, int H, int t,
                                                  const std::int32_t* lengths,
                                                  const float* recurrent, const float* b_ih,
                                                  const float* b_hh, float* gates,
                                                  float* h_next) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x) {
    const int b = idx / H;
    const int j = idx - b * H;
    if (t >= lengths[b]) {
      h_next[idx] = 0.0f;
      continue;
    }
    const float h = tanhf(gates[idx] + b_ih[j] + recurrent[idx] + b_hh[j]);
    gates[idx] = h;
    h_next[idx] = h;
  }
}

__global__ void rnn_tanh_pointwise_backward_kernel(int B, int H, int t,
                                                   const std::int32_t* lengths,
                                                   const float* doutput, float* gates,
                                                   float* dh_state) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x) {
    const int b = idx / H;
    if (t >= lengths[b]) {
      gates[idx] = 0.0f;
      continue;
    }
    const float h = gates[idx];
    const float dh_total = dh_state[idx] + (doutput != nullptr ? doutput[idx] : 0.0f);
    gates[idx] = dh_total * (1.0f - h * h);
    dh_state[idx] = 0.0f;
  }
}

}  // namespace

void rnn_tanh_pointwise_forward_cuda(int batch, int hidden_size, int step,
                                     const std::int32_t* lengths, const float* recurrent,
                                     const float* bias_ih, const float* bias_hh, float* gates,
                                     float* h_next, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  rnn_tanh_pointwise_forward_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0,
                                      stream>>>(batch, hidden_size, step, lengths, recurrent,
                                                bias_ih, bias_hh, gates, h_next);
  S2S_CUDA_CHECK_LAUNCH("rnn_tanh_pointwise_forward_kernel");
}

void rnn_tanh_pointwise_backward_cuda(int batch, int hidden_size, int step,
                                      const std::int32_t* lengths, const float* doutput,
                                      float* gates, float* dh_state, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  rnn_tanh_pointwise_backward_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0,
                                       stream>>>(batch, hidden_size, step, lengths, doutput,
                                                 gates, dh_state);
  S2S_CUDA_CHECK_LAUNCH("rnn_tanh_pointwise_backward_kernel");
}

}  // namespace s2s::cuda
