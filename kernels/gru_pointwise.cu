// GRU pointwise step kernels and launchers (kernels/gru_pointwise.h). One thread per (b, j)
// unit handles its three gates.
#include "kernels/gru_pointwise.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void gru_pointwise_forward_kernel(int B, int H, int t, const std::int32_t* lengths,
                                             const float* recurrent, const float* b_ih,
                                             const float* b_hh, const float* h_prev,
                                             float* gates, float* hh_new, float* h_next) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x) {
    const int b = idx / H;
    const int j = idx - b * H;
    if (t >= lengths[b]) {
      h_next[idx] = 0.0f;
      continue;
    }
    float* gate = gates + static_cast<std::size_t>(b) * 3 * H;
    const float* rec = recurrent + static_cast<std::size_t>(b) * 3 * H;
    const int jr = j, jz = H + j, jn = 2 * H + j;
    const float r = detail::sigmoid(gate[jr] + b_ih[jr] + rec[jr] + b_hh[jr]);
    const float z = detail::sigmoid(gate[jz] + b_ih[jz] + rec[jz] + b_hh[jz]);
    const float recurrent_new = rec[jn] + b_hh[jn];
    const float n = tanhf(gate[jn] + b_ih[jn] + r * recurrent_new);
    gate[jr] = r;
    gate[jz] = z;
    gate[jn] = n;
    hh_new[idx] = recurrent_new;
    h_next[idx] = (1.0f - z) * n + z * h_prev[idx];
  }
}

__global__ void gru_pointwise_backward_kernel(int B, int H, int t, const std::int32_t* lengths,
                                              const float* h_prev, const float* hh_new,
                                              const float* doutput, float* gates,
                                              float* dgates_hh, float* dh_state) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x) {
    const int b = idx / H;
    const int j = idx - b * H;
    const std::size_t row = static_cast<std::size_t>(b) * 3 * H;
    float* dgate = gates + row;
    float* dgate_hh = dgates_hh + row;
    const int jr = j, jz = H + j, jn = 2 * H + j;
    if (t >= lengths[b]) {
      dgate[jr] = dgate[jz] = dgate[jn] = 0.0f;
      dgate_hh[jr] = dgate_hh[jz] = dgate_hh[jn] = 0.0f;
      continue;
    }
    const float r = dgate[jr], z = dgate[jz], n = dgate[jn];
    const float dh_total = dh_state[idx] + (doutput != nullptr ? doutput[idx] : 0.0f);
    const float dn_pre = dh_total * (1.0f - z) * (1.0f - n * n);
    const float dz_pre = dh_total * (h_prev[idx] - n) * z * (1.0f - z);
    const float dr_pre = dn_pre * hh_new[idx] * r * (1.0f - r);
    dgate[jr] = dr_pre;
    dgate[jz] = dz_pre;
    dgate[jn] = dn_pre;
    dgate_hh[jr] = dr_pre;
    dgate_hh[jz] = dz_pre;
    dgate_hh[jn] = dn_pre * r;
    dh_state[idx] = dh_total * z;  // the direct path h' = ... + z h; the GEMM adds the rest
  }
}

}  // namespace

void gru_pointwise_forward_cuda(int batch, int hidden_size, int step,
                                const std::int32_t* lengths, const float* recurrent,
                                const float* bias_ih, const float* bias_hh, const float* h_prev,
                                float* gates, float* hh_new, float* h_next, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  gru_pointwise_forward_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0,
                                 stream>>>(batch, hidden_size, step, lengths, recurrent, bias_ih,
                                           bias_hh, h_prev, gates, hh_new, h_next);
  S2S_CUDA_CHECK_LAUNCH("gru_pointwise_forward_kernel");
}

void gru_pointwise_backward_cuda(int batch, int hidden_size, int step,
                                 const std::int32_t* lengths, const float* h_prev,
                                 const float* hh_new, const float* doutput, float* gates,
                                 float* dgates_hh, float* dh_state, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  gru_pointwise_backward_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0,
                                  stream>>>(batch, hidden_size, step, lengths, h_prev, hh_new,
                                            doutput, gates, dgates_hh, dh_state);
  S2S_CUDA_CHECK_LAUNCH("gru_pointwise_backward_kernel");
}

}  // namespace s2s::cuda
