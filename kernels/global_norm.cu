// global_norm's kernels and launcher (kernels/global_norm.h). Pass 1: a fixed grid of up to
// kMaxPartials blocks, each thread summing a grid-stride slice of squares in double, each block
// reducing by a fixed tree into one partial. Pass 2: one block adds the partials by a fixed
// tree and takes the square root.
#include "kernels/global_norm.h"

#include <algorithm>
#include <string>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr int kPartialThreads = 256;
constexpr std::size_t kMaxPartials = 1024;
constexpr int kFinishThreads = 1024;  // >= kMaxPartials: one partial per thread

std::size_t partial_count(std::size_t n) {
  return std::max<std::size_t>(
      1, std::min(kMaxPartials, (n + kPartialThreads - 1) / kPartialThreads));
}

__global__ void global_norm_partial_kernel(const float* x, std::size_t n, double* partials) {
  __shared__ double shared[kPartialThreads / detail::kWarpSize];
  double sum = 0.0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * kPartialThreads + threadIdx.x;
       i < n; i += static_cast<std::size_t>(gridDim.x) * kPartialThreads) {
    const double value = static_cast<double>(x[i]);
    sum += value * value;
  }
  sum = detail::block_sum_to_thread0<kPartialThreads>(sum, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

__global__ void global_norm_finish_kernel(const double* partials, int count, float* out) {
  __shared__ double shared[kFinishThreads / detail::kWarpSize];
  double sum = static_cast<int>(threadIdx.x) < count ? partials[threadIdx.x] : 0.0;
  sum = detail::block_sum_to_thread0<kFinishThreads>(sum, shared);
  if (threadIdx.x == 0) out[0] = static_cast<float>(sqrt(sum));
}

}  // namespace

std::size_t global_norm_scratch_bytes(std::size_t n) { return partial_count(n) * sizeof(double); }

void global_norm_cuda(const float* x, std::size_t n, float* out, void* scratch,
                      std::size_t scratch_bytes, Stream stream) {
  const std::size_t needed = global_norm_scratch_bytes(n);
  if (scratch_bytes < needed)
    throw Error("global_norm_cuda: " + std::to_string(scratch_bytes) + " bytes of scratch given, " +
                std::to_string(needed) + " needed (internal error)");
  auto* partials = static_cast<double*>(scratch);
  const std::size_t blocks = partial_count(n);
  global_norm_partial_kernel<<<static_cast<unsigned>(blocks), kPartialThreads, 0, stream>>>(
      x, n, partials);
  S2S_CUDA_CHECK_LAUNCH("global_norm_partial_kernel");
  global_norm_finish_kernel<<<1, kFinishThreads, 0, stream>>>(partials, static_cast<int>(blocks),
                                                              out);
  S2S_CUDA_CHECK_LAUNCH("global_norm_finish_kernel");
}

}  // namespace s2s::cuda
