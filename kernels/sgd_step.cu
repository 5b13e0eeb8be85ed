// sgd_step's kernel and launcher (kernels/sgd_step.h). The arithmetic uses round-to-nearest
// intrinsics so the compiler cannot fuse it into FMAs: the update is then the CPU reference's,
// operation for operation.
#include "kernels/sgd_step.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void sgd_step_kernel(float* params, const float* grads, float* velocity,
                                std::size_t n, float lr, float momentum) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if (momentum == 0.0f) {
      params[i] = __fsub_rn(params[i], __fmul_rn(lr, grads[i]));
    } else {
      const float v = __fadd_rn(__fmul_rn(momentum, velocity[i]), grads[i]);
      velocity[i] = v;
      params[i] = __fsub_rn(params[i], __fmul_rn(lr, v));
    }
  }
}

}  // namespace

void sgd_step_cuda(float* params, const float* grads, float* velocity, std::size_t n, float lr,
                   float momentum, Stream stream) {
  if (n == 0) return;
  sgd_step_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(
      params, grads, velocity, n, lr, momentum);
  S2S_CUDA_CHECK_LAUNCH("sgd_step_kernel");
}

}  // namespace s2s::cuda
