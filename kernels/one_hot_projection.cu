// One-hot input projection kernels and launchers (kernels/one_hot_projection.h).
#include "kernels/one_hot_projection.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/token_segment_sum.h"
#include "kernels/token_sort.h"

namespace s2s::cuda {
namespace {

// Tiles of 32 rows x 32 gate units (one_hot_gather_shape), transposed through shared memory:
// first the lanes run over rows, each reading W_ih[g, tokens[row]] (for one g the 32 reads fall
// inside one row of W_ih, V floats: a few cache lines); then the lanes run over gate units, each
// writing gates[row, g] (one contiguous 128-byte segment per row). The old one-thread-per-element
// form read W_ih with a stride of V floats between neighbouring lanes.
__global__ void one_hot_projection_forward_kernel(const float* weight_ih,
                                                  const std::int32_t* tokens,
                                                  const std::int32_t* lengths, int B, int V,
                                                  int GH, std::size_t rows, float* gates) {
  __shared__ float tile[kGatherTile][kGatherTile + 1];  // +1: no bank conflicts on the transpose
  const int lane = threadIdx.x;
  for (std::size_t row0 = static_cast<std::size_t>(blockIdx.y) * kGatherTile; row0 < rows;
       row0 += static_cast<std::size_t>(gridDim.y) * kGatherTile) {
    for (int g0 = blockIdx.x * kGatherTile; g0 < GH; g0 += gridDim.x * kGatherTile) {
      // Read: lane = row within the tile, threadIdx.y walks the gate units.
      const std::size_t row = row0 + lane;
      bool real = false;
      std::int32_t token = 0;
      if (row < rows) {
        const int t = static_cast<int>(row / B);
        const int b = static_cast<int>(row - static_cast<std::size_t>(t) * B);
        real = t < lengths[b];
        if (real) token = tokens[row];  // tokens at padded steps are never read
      }
      for (int gi = threadIdx.y; gi < kGatherTile; gi += blockDim.y) {
        const int g = g0 + gi;
        if (real && g < GH) tile[gi][lane] = one_hot_gather_element(weight_ih, V, token, g);
      }
      __syncthreads();
      // Write: lane = gate unit within the tile, threadIdx.y walks the rows.
      const int g = g0 + lane;
      for (int ri = threadIdx.y; ri < kGatherTile; ri += blockDim.y) {
        const std::size_t r = row0 + ri;
        if (r >= rows || g >= GH) continue;
        const int t = static_cast<int>(r / B);
        const int b = static_cast<int>(r - static_cast<std::size_t>(t) * B);
        if (t < lengths[b]) gates[r * GH + g] = tile[lane][ri];
      }
      __syncthreads();  // the tile is refilled by the next iteration
    }
  }
}

}  // namespace

void one_hot_projection_forward_cuda(const float* weight_ih, const std::int32_t* tokens,
                                     const std::int32_t* lengths, int seq_len, int batch,
                                     int vocab, int gate_width, float* gates, Stream stream) {
  const std::size_t rows = static_cast<std::size_t>(seq_len) * batch;
  const LaunchShape shape = one_hot_gather_shape(rows, gate_width);
  one_hot_projection_forward_kernel<<<detail::grid_of(shape), detail::block_of(shape), 0,
                                      stream>>>(weight_ih, tokens, lengths, batch, vocab,
                                                gate_width, rows, gates);
  S2S_CUDA_CHECK_LAUNCH("one_hot_projection_forward_kernel");
}

std::size_t one_hot_projection_backward_scratch_bytes(int seq_len, int batch, int vocab) {
  return token_sort_scratch_bytes(seq_len * batch, vocab);
}

void one_hot_projection_backward_cuda(const std::int32_t* tokens, const std::int32_t* lengths,
                                      int seq_len, int batch, int vocab, int gate_width,
                                      const float* dgates, float* dweight_ih, bool accumulate,
                                      void* scratch, std::size_t scratch_bytes, Stream stream) {
  if (!accumulate)
    S2S_CUDA_CHECK(cudaMemsetAsync(
        dweight_ih, 0, static_cast<std::size_t>(gate_width) * vocab * sizeof(float), stream));
  const int n = seq_len * batch;
  const SortedTokens sorted =
      sort_token_positions_cuda(tokens, lengths, batch, n, vocab, scratch, scratch_bytes, stream);
  // Column v of [GH, V]: token stride 1, column (gate unit) stride V.
  token_segment_sum_cuda(sorted.tokens, sorted.positions, n, vocab, dgates, gate_width,
                         dweight_ih, 1, static_cast<std::size_t>(vocab), stream);
}

}  // namespace s2s::cuda
