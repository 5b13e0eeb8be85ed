// token_segment_sum's kernel and launcher (kernels/token_segment_sum.h).
//
// Grid (token_segment_sum_shape, kernels/launch_shape.h): x = at most kSegmentBlocks blocks
// that walk the sorted positions grid-stride (a block works only where a token's run of
// positions starts), y = tiles of 32 columns, grid-stride past the y limit. Block: 32 lanes
// (columns, coalesced row reads) x 8 rows of threads; thread row w sums the run's positions
// w, w+8, w+16, ... in double, then thread row 0 adds the 8 partial sums in order. Every output
// element has one writer, and its sum has one order whatever the scheduling: bit-identical
// across runs. Cost O(n * width) reads plus one cheap check per position; the grid is bounded,
// whatever n (T = 2,001 steps of a large batch no longer launches millions of blocks).
#include "kernels/token_segment_sum.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr int kColumnsPerBlock = kTileColumns;
constexpr int kRowThreads = kTileRowThreads;

__global__ void token_segment_sum_kernel(const std::uint32_t* sorted_tokens,
                                         const std::int32_t* sorted_positions, int n, int vocab,
                                         const float* rows, int width, float* out,
                                         std::size_t token_stride, std::size_t column_stride) {
  __shared__ double partial[kRowThreads][kColumnsPerBlock];
  for (int start = blockIdx.x; start < n; start += gridDim.x) {
    const std::uint32_t token = sorted_tokens[start];
    // Uniform per block, so skipping before __syncthreads is safe.
    if (start > 0 && sorted_tokens[start - 1] == token) continue;
    if (token >= static_cast<std::uint32_t>(vocab)) continue;  // padded positions
    for (int tile = blockIdx.y; tile * kColumnsPerBlock < width; tile += gridDim.y) {
      const int column = tile * kColumnsPerBlock + threadIdx.x;
      double sum = 0.0;
      if (column < width) {
        // The run is contiguous: the first position past it ends every thread's walk.
        for (int p = start + static_cast<int>(threadIdx.y); p < n && sorted_tokens[p] == token;
             p += kRowThreads) {
          sum += static_cast<double>(
              rows[static_cast<std::size_t>(sorted_positions[p]) * width + column]);
        }
      }
      partial[threadIdx.y][threadIdx.x] = sum;
      __syncthreads();
      if (threadIdx.y == 0 && column < width) {
        double total = 0.0;
        for (int w = 0; w < kRowThreads; ++w) total += partial[w][threadIdx.x];
        float* target = out + static_cast<std::size_t>(token) * token_stride +
                        static_cast<std::size_t>(column) * column_stride;
        *target += static_cast<float>(total);
      }
      __syncthreads();  // partial is rewritten by the next tile or run
    }
  }
}

}  // namespace

void token_segment_sum_cuda(const std::uint32_t* sorted_tokens,
                            const std::int32_t* sorted_positions, int n, int vocab,
                            const float* rows, int width, float* out, std::size_t token_stride,
                            std::size_t column_stride, Stream stream) {
  if (n <= 0 || width <= 0) return;
  const LaunchShape shape = token_segment_sum_shape(n, width);
  token_segment_sum_kernel<<<detail::grid_of(shape), detail::block_of(shape), 0, stream>>>(
      sorted_tokens, sorted_positions, n, vocab, rows, width, out, token_stride, column_stride);
  S2S_CUDA_CHECK_LAUNCH("token_segment_sum_kernel");
}

}  // namespace s2s::cuda
