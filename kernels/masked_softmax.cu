// masked_softmax's kernels and launchers (kernels/masked_softmax.h): one warp per row, rows
// visited grid-stride by whole warps (so every lane of a warp takes part in its reductions).
#include "kernels/masked_softmax.h"

#include <cstddef>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/row_softmax.h"

namespace s2s::cuda {
namespace {

// launch_shape.h's warp (the shapes, and the Kernel* tests' lanes) is the hardware's.
static_assert(kWarpLanes == detail::kWarpSize, "a warp is 32 lanes");

__global__ void masked_softmax_kernel(const float* scores, const std::int32_t* lengths, int Tq,
                                      int Ts, std::size_t rows, float* weights) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const std::size_t warp = threadIdx.x / detail::kWarpSize;
  for (std::size_t row = blockIdx.x * static_cast<std::size_t>(kWarpRowsPerBlock) + warp;
       row < rows; row += static_cast<std::size_t>(gridDim.x) * kWarpRowsPerBlock) {
    const int length = lengths[row / Tq];
    const float* x = scores + row * Ts;
    const float row_max = detail::warp_max(row_lane_max(x, length, lane, detail::kWarpSize));
    const double sum_exp =
        detail::warp_sum(row_lane_sum_exp(x, length, row_max, lane, detail::kWarpSize));
    masked_softmax_lane_write(x, length, Ts, row_max, sum_exp, weights + row * Ts, lane,
                              detail::kWarpSize);
  }
}

__global__ void masked_softmax_backward_kernel(const float* weights, const float* dweights,
                                               const std::int32_t* lengths, int Tq, int Ts,
                                               std::size_t rows, float* dscores) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const std::size_t warp = threadIdx.x / detail::kWarpSize;
  for (std::size_t row = blockIdx.x * static_cast<std::size_t>(kWarpRowsPerBlock) + warp;
       row < rows; row += static_cast<std::size_t>(gridDim.x) * kWarpRowsPerBlock) {
    const int length = lengths[row / Tq];
    const std::size_t offset = row * Ts;
    const double dot = detail::warp_sum(masked_softmax_lane_dot(weights + offset, dweights + offset,
                                                                length, lane, detail::kWarpSize));
    masked_softmax_backward_lane_write(weights + offset, dweights + offset, length, Ts, dot,
                                       dscores + offset, lane, detail::kWarpSize);
  }
}

}  // namespace

void masked_softmax_cuda(const float* scores, const std::int32_t* source_lengths, int query_len,
                         int source_len, int batch, float* weights, Stream stream) {
  const std::size_t rows = static_cast<std::size_t>(batch) * query_len;
  if (rows == 0 || source_len <= 0) return;
  const LaunchShape s = warp_rows_shape(rows);
  masked_softmax_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(
      scores, source_lengths, query_len, source_len, rows, weights);
  S2S_CUDA_CHECK_LAUNCH("masked_softmax_kernel");
}

void masked_softmax_backward_cuda(const float* weights, const float* dweights,
                                  const std::int32_t* source_lengths, int query_len, int source_len,
                                  int batch, float* dscores, Stream stream) {
  const std::size_t rows = static_cast<std::size_t>(batch) * query_len;
  if (rows == 0 || source_len <= 0) return;
  const LaunchShape s = warp_rows_shape(rows);
  masked_softmax_backward_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(
      weights, dweights, source_lengths, query_len, source_len, rows, dscores);
  S2S_CUDA_CHECK_LAUNCH("masked_softmax_backward_kernel");
}

}  // namespace s2s::cuda
