// argmax's kernel and launcher (kernels/argmax.h). One warp per row: each lane keeps the best
// of its strided elements (scanned in increasing index), then the lanes' candidates are
// combined by a rule that is a total order (NaN first, then larger value, then smaller index),
// so the result is the CPU reference's whatever the combination order.
#include "kernels/argmax.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

// Whether candidate (value a, index ia) beats (value b, index ib); index -1 is "none".
__device__ __forceinline__ bool better(float a, int ia, float b, int ib) {
  if (ia < 0) return false;
  if (ib < 0) return true;
  const bool a_nan = isnan(a), b_nan = isnan(b);
  if (a_nan != b_nan) return a_nan;
  if (!a_nan && a != b) return a > b;
  return ia < ib;
}

__global__ void argmax_kernel(const float* logits, int n, int V, std::int32_t* out) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / detail::kWarpSize;
  if (row >= n) return;  // whole warps only
  const float* x = logits + static_cast<std::size_t>(row) * V;
  float best = 0.0f;
  int best_index = -1;
  for (int v = lane; v < V; v += detail::kWarpSize) {
    const float value = x[v];
    if (better(value, v, best, best_index)) {
      best = value;
      best_index = v;
    }
  }
  for (int offset = detail::kWarpSize / 2; offset > 0; offset /= 2) {
    const float other = __shfl_down_sync(detail::kFullWarp, best, offset);
    const int other_index = __shfl_down_sync(detail::kFullWarp, best_index, offset);
    if (better(other, other_index, best, best_index)) {
      best = other;
      best_index = other_index;
    }
  }
  if (lane == 0) out[row] = best_index;
}

}  // namespace

void argmax_cuda(const float* logits, int n, int vocab, std::int32_t* out, Stream stream) {
  if (n <= 0) return;
  const unsigned blocks = static_cast<unsigned>((n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  argmax_kernel<<<blocks, kWarpsPerBlock * detail::kWarpSize, 0, stream>>>(logits, n, vocab, out);
  S2S_CUDA_CHECK_LAUNCH("argmax_kernel");
}

}  // namespace s2s::cuda
