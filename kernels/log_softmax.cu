// log_softmax's kernel and launcher (kernels/log_softmax.h): one warp per row, rows visited
// grid-stride by whole warps. The reductions end (with a warp-wide shuffle) before any lane
// writes, so out may alias logits.
#include "kernels/log_softmax.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/row_softmax.h"

namespace s2s::cuda {
namespace {

__global__ void log_softmax_kernel(const float* logits, std::size_t rows, int V, float* out) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const std::size_t warp = threadIdx.x / detail::kWarpSize;
  for (std::size_t row = blockIdx.x * static_cast<std::size_t>(kWarpRowsPerBlock) + warp;
       row < rows; row += static_cast<std::size_t>(gridDim.x) * kWarpRowsPerBlock) {
    const float* x = logits + row * V;
    const float row_max = detail::warp_max(row_lane_max(x, V, lane, detail::kWarpSize));
    const double sum_exp =
        detail::warp_sum(row_lane_sum_exp(x, V, row_max, lane, detail::kWarpSize));
    log_softmax_lane_write(x, V, row_max, sum_exp, out + row * V, lane, detail::kWarpSize);
  }
}

}  // namespace

void log_softmax_cuda(const float* logits, int n, int vocab, float* out, Stream stream) {
  if (n <= 0 || vocab <= 0) return;
  const LaunchShape s = warp_rows_shape(static_cast<std::size_t>(n));
  log_softmax_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(
      logits, static_cast<std::size_t>(n), vocab, out);
  S2S_CUDA_CHECK_LAUNCH("log_softmax_kernel");
}

}  // namespace s2s::cuda
