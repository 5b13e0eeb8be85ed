// LSTM pointwise step kernels and launchers (kernels/lstm_pointwise.h). One thread per (b, j)
// unit handles its four gates, so no two threads touch the same element.
#include "kernels/lstm_pointwise.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void lstm_pointwise_forward_kernel(int B, int H, int t, const std::int32_t* lengths,
                                              const float* recurrent, const float* b_ih,
                                              const float* b_hh, const float* c_prev,
                                              float* gates, float* c_next, float* h_next) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x) {
    const int b = idx / H;
    const int j = idx - b * H;
    if (t >= lengths[b]) {
      h_next[idx] = 0.0f;
      continue;
    }
    float* gate = gates + static_cast<std::size_t>(b) * 4 * H;
    const float* rec = recurrent + static_cast<std::size_t>(b) * 4 * H;
    const int ji = j, jf = H + j, jg = 2 * H + j, jo = 3 * H + j;
    // Summed in the CPU reference's order: input side, its bias, recurrent side, its bias.
    const float i = detail::sigmoid(gate[ji] + b_ih[ji] + rec[ji] + b_hh[ji]);
    const float f = detail::sigmoid(gate[jf] + b_ih[jf] + rec[jf] + b_hh[jf]);
    const float g = tanhf(gate[jg] + b_ih[jg] + rec[jg] + b_hh[jg]);
    const float o = detail::sigmoid(gate[jo] + b_ih[jo] + rec[jo] + b_hh[jo]);
    const float c = f * c_prev[idx] + i * g;
    gate[ji] = i;
    gate[jf] = f;
    gate[jg] = g;
    gate[jo] = o;
    c_next[idx] = c;
    h_next[idx] = o * tanhf(c);
  }
}

__global__ void lstm_pointwise_backward_kernel(int B, int H, int t, const std::int32_t* lengths,
                                               const float* c_prev, const float* c_now,
                                               const float* doutput, float* gates,
                                               float* dh_state, float* dc_state) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x) {
    const int b = idx / H;
    const int j = idx - b * H;
    float* dgate = gates + static_cast<std::size_t>(b) * 4 * H;
    const int ji = j, jf = H + j, jg = 2 * H + j, jo = 3 * H + j;
    if (t >= lengths[b]) {
      // The state gradients pass a padded step unchanged; zero gate gradients make the
      // recurrent GEMM add nothing to this row, and the parameters get nothing from it.
      dgate[ji] = 0.0f;
      dgate[jf] = 0.0f;
      dgate[jg] = 0.0f;
      dgate[jo] = 0.0f;
      continue;
    }
    const float i = dgate[ji], f = dgate[jf], g = dgate[jg], o = dgate[jo];
    const float dh_total = dh_state[idx] + (doutput != nullptr ? doutput[idx] : 0.0f);
    const float tanh_c = tanhf(c_now[idx]);
    const float dc = dc_state[idx] + dh_total * o * (1.0f - tanh_c * tanh_c);
    dgate[ji] = dc * g * i * (1.0f - i);
    dgate[jf] = dc * c_prev[idx] * f * (1.0f - f);
    dgate[jg] = dc * i * (1.0f - g * g);
    dgate[jo] = dh_total * tanh_c * o * (1.0f - o);
    dc_state[idx] = dc * f;
    dh_state[idx] = 0.0f;  // h_{t-1} reaches the loss only through W_hh (the GEMM after this)
  }
}

}  // namespace

void lstm_pointwise_forward_cuda(int batch, int hidden_size, int step,
                                 const std::int32_t* lengths, const float* recurrent,
                                 const float* bias_ih, const float* bias_hh, const float* c_prev,
                                 float* gates, float* c_next, float* h_next, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  lstm_pointwise_forward_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0,
                                  stream>>>(batch, hidden_size, step, lengths, recurrent, bias_ih,
                                            bias_hh, c_prev, gates, c_next, h_next);
  S2S_CUDA_CHECK_LAUNCH("lstm_pointwise_forward_kernel");
}

void lstm_pointwise_backward_cuda(int batch, int hidden_size, int step,
                                  const std::int32_t* lengths, const float* c_prev,
                                  const float* c_now, const float* doutput, float* gates,
                                  float* dh_state, float* dc_state, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  lstm_pointwise_backward_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0,
                                   stream>>>(batch, hidden_size, step, lengths, c_prev, c_now,
                                             doutput, gates, dh_state, dc_state);
  S2S_CUDA_CHECK_LAUNCH("lstm_pointwise_backward_kernel");
}

}  // namespace s2s::cuda
