// rnn_final_state's kernel and launcher (kernels/rnn_final_state.h).
#include "kernels/rnn_final_state.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void rnn_final_state_kernel(const float* state_seq, const std::int32_t* lengths,
                                       int B, int H, float* out) {
  const int units = B * H;
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < units;
       idx += gridDim.x * blockDim.x)
    rnn_final_state_unit(state_seq, lengths, B, H, out, idx);
}

}  // namespace

void rnn_final_state_cuda(const float* state_seq, const std::int32_t* lengths, int batch,
                          int hidden_size, float* out, Stream stream) {
  const std::size_t units = static_cast<std::size_t>(batch) * hidden_size;
  rnn_final_state_kernel<<<detail::grid_for(units), detail::kThreadsPerBlock, 0, stream>>>(
      state_seq, lengths, batch, hidden_size, out);
  S2S_CUDA_CHECK_LAUNCH("rnn_final_state_kernel");
}

}  // namespace s2s::cuda
