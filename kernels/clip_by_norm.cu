// clip_by_norm's kernel and launcher (kernels/clip_by_norm.h). Every thread reads the norm
// itself (one cached load) and decides, as the CPU reference does, in float.
#include "kernels/clip_by_norm.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

__global__ void clip_by_norm_kernel(float* x, std::size_t n, const float* norm, float max_norm) {
  const float current = norm[0];
  if (isfinite(current) && current <= max_norm) return;
  const float scale = isfinite(current) ? max_norm / current : NAN;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    x[i] *= scale;
}

}  // namespace

void clip_by_norm_cuda(float* x, std::size_t n, const float* norm, float max_norm,
                       Stream stream) {
  if (n == 0) return;
  clip_by_norm_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(x, n, norm,
                                                                                    max_norm);
  S2S_CUDA_CHECK_LAUNCH("clip_by_norm_kernel");
}

}  // namespace s2s::cuda
