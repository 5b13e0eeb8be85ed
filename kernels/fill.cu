// fill's CUDA kernel and launcher (kernels/fill.h); its CPU reference is host/cpu/fill_cpu.cpp.
#include "kernels/fill.h"

#include <algorithm>

#include "cuda/cuda_check.h"

namespace s2s::cuda {

namespace {

// Grid-stride loop: any n with a bounded grid.
__global__ void fill_kernel(float* out, std::size_t n, float value) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride)
    out[i] = value;
}

constexpr int kThreadsPerBlock = 256;
constexpr std::size_t kMaxBlocks = 4096;

}  // namespace

void fill_cuda(float* out, std::size_t n, float value) {
  if (n == 0) return;
  const std::size_t blocks = std::min(kMaxBlocks, (n + kThreadsPerBlock - 1) / kThreadsPerBlock);
  fill_kernel<<<static_cast<unsigned>(blocks), kThreadsPerBlock>>>(out, n, value);
  S2S_CUDA_CHECK_LAUNCH("fill_kernel");
}

bool kernel_image_available_cuda() {
  cudaFuncAttributes attributes{};
  const cudaError_t status = cudaFuncGetAttributes(&attributes, fill_kernel);
  if (status == cudaErrorNoKernelImageForDevice || status == cudaErrorInvalidDeviceFunction) {
    cudaGetLastError();
    return false;
  }
  S2S_CUDA_CHECK(status);
  return true;
}

}  // namespace s2s::cuda
