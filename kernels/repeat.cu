// repeat's kernels and launchers (kernels/repeat.h). The backward gives each dx element one
// thread that walks the steps in order: deterministic, and coalesced across the batch row.
#include "kernels/repeat.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void repeat_forward_kernel(const float* x, std::size_t step_size, std::size_t total,
                                      float* out) {
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < total; idx += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[idx] = x[idx % step_size];
}

__global__ void repeat_backward_kernel(const float* dout, int T, std::size_t step_size,
                                       float* dx, bool accumulate) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < step_size; i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    double sum = 0.0;
    for (int t = 0; t < T; ++t) sum += static_cast<double>(dout[t * step_size + i]);
    const float fresh = static_cast<float>(sum);
    dx[i] = accumulate ? dx[i] + fresh : fresh;
  }
}

}  // namespace

void repeat_forward_cuda(const float* x, int seq_len, int batch, int width, float* out,
                         Stream stream) {
  const std::size_t step_size = static_cast<std::size_t>(batch) * width;
  const std::size_t total = step_size * seq_len;
  if (total == 0) return;
  repeat_forward_kernel<<<detail::grid_for(total), detail::kThreadsPerBlock, 0, stream>>>(
      x, step_size, total, out);
  S2S_CUDA_CHECK_LAUNCH("repeat_forward_kernel");
}

void repeat_backward_cuda(const float* dout, int seq_len, int batch, int width, float* dx,
                          bool accumulate, Stream stream) {
  const std::size_t step_size = static_cast<std::size_t>(batch) * width;
  if (step_size == 0) return;
  repeat_backward_kernel<<<detail::grid_for(step_size), detail::kThreadsPerBlock, 0, stream>>>(
      dout, seq_len, step_size, dx, accumulate);
  S2S_CUDA_CHECK_LAUNCH("repeat_backward_kernel");
}

}  // namespace s2s::cuda
