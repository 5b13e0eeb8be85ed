// The elementwise kernels and launchers (kernels/elementwise.h): grid-stride, one value per
// thread and step; an output may alias its input (each thread reads its value before writing
// it, and no thread touches another's).
#include "kernels/elementwise.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

#define S2S_GRID_STRIDE(idx, n)                                                           \
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; \
       idx < (n); idx += static_cast<std::size_t>(gridDim.x) * blockDim.x)

__global__ void tanh_forward_kernel(const float* x, std::size_t n, float* y) {
  S2S_GRID_STRIDE(i, n) y[i] = tanh_forward_value(x[i]);
}

__global__ void tanh_backward_kernel(const float* y, const float* dy, std::size_t n, float* dx) {
  S2S_GRID_STRIDE(i, n) dx[i] = tanh_backward_value(y[i], dy[i]);
}

__global__ void multiply_kernel(const float* x, const float* mask, std::size_t n, float* out) {
  S2S_GRID_STRIDE(i, n) out[i] = x[i] * mask[i];
}

__global__ void accumulate_kernel(const float* x, std::size_t n, float* y) {
  S2S_GRID_STRIDE(i, n) y[i] += x[i];
}

#undef S2S_GRID_STRIDE

}  // namespace

void tanh_forward_cuda(const float* x, std::size_t n, float* y, Stream stream) {
  if (n == 0) return;
  tanh_forward_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(x, n, y);
  S2S_CUDA_CHECK_LAUNCH("tanh_forward_kernel");
}

void tanh_backward_cuda(const float* y, const float* dy, std::size_t n, float* dx, Stream stream) {
  if (n == 0) return;
  tanh_backward_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(y, dy, n, dx);
  S2S_CUDA_CHECK_LAUNCH("tanh_backward_kernel");
}

void multiply_cuda(const float* x, const float* mask, std::size_t n, float* out, Stream stream) {
  if (n == 0) return;
  multiply_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(x, mask, n, out);
  S2S_CUDA_CHECK_LAUNCH("multiply_kernel");
}

void accumulate_cuda(const float* x, std::size_t n, float* y, Stream stream) {
  if (n == 0) return;
  accumulate_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(x, n, y);
  S2S_CUDA_CHECK_LAUNCH("accumulate_kernel");
}

}  // namespace s2s::cuda
