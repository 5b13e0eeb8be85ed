// One-hot input projection kernels and launchers (kernels/one_hot_projection.h).
#include "kernels/one_hot_projection.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/token_segment_sum.h"
#include "kernels/token_sort.h"

namespace s2s::cuda {
namespace {

// One thread per (row, gate unit): the writes are coalesced; the reads walk a column of W_ih
// (stride V), which is small enough to stay in cache.
__global__ void one_hot_projection_forward_kernel(const float* weight_ih,
                                                  const std::int32_t* tokens,
                                                  const std::int32_t* lengths, int B, int V,
                                                  int GH, std::size_t total, float* gates) {
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < total; idx += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t row = idx / GH;
    const int g = static_cast<int>(idx - row * GH);
    const int t = static_cast<int>(row / B);
    const int b = static_cast<int>(row - static_cast<std::size_t>(t) * B);
    if (t >= lengths[b]) continue;
    gates[idx] = weight_ih[static_cast<std::size_t>(g) * V + tokens[row]];
  }
}

}  // namespace

void one_hot_projection_forward_cuda(const float* weight_ih, const std::int32_t* tokens,
                                     const std::int32_t* lengths, int seq_len, int batch,
                                     int vocab, int gate_width, float* gates, Stream stream) {
  const std::size_t total = static_cast<std::size_t>(seq_len) * batch * gate_width;
  one_hot_projection_forward_kernel<<<detail::grid_for(total), detail::kThreadsPerBlock, 0,
                                      stream>>>(weight_ih, tokens, lengths, batch, vocab,
                                                gate_width, total, gates);
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
