// bias_add's kernel and launcher (kernels/bias_add.h).
#include "kernels/bias_add.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void bias_add_kernel(float* y, const float* bias, std::size_t total, int width) {
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < total; idx += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[idx] += bias[idx % width];
}

}  // namespace

void bias_add_cuda(float* y, const float* bias, int rows, int width, Stream stream) {
  const std::size_t total = static_cast<std::size_t>(rows) * width;
  if (total == 0) return;
  bias_add_kernel<<<detail::grid_for(total), detail::kThreadsPerBlock, 0, stream>>>(y, bias,
                                                                                    total, width);
  S2S_CUDA_CHECK_LAUNCH("bias_add_kernel");
}

}  // namespace s2s::cuda
