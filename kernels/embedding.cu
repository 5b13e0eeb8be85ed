// Embedding kernels and launchers (kernels/embedding.h).
#include "kernels/embedding.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/token_segment_sum.h"
#include "kernels/token_sort.h"

namespace s2s::cuda {
namespace {

// One thread per output element; consecutive threads read consecutive columns of one row.
__global__ void embedding_forward_kernel(const float* table, const std::int32_t* tokens,
                                         std::size_t total, int E, float* out) {
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < total; idx += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t i = idx / E;
    const std::size_t e = idx - i * E;
    out[idx] = table[static_cast<std::size_t>(tokens[i]) * E + e];
  }
}

}  // namespace

void embedding_forward_cuda(const float* table, const std::int32_t* tokens, int n, int /*vocab*/,
                            int embedding_size, float* out, Stream stream) {
  const std::size_t total = static_cast<std::size_t>(n) * embedding_size;
  if (total == 0) return;
  embedding_forward_kernel<<<detail::grid_for(total), detail::kThreadsPerBlock, 0, stream>>>(
      table, tokens, total, embedding_size, out);
  S2S_CUDA_CHECK_LAUNCH("embedding_forward_kernel");
}

std::size_t embedding_backward_scratch_bytes(int n, int vocab) {
  return token_sort_scratch_bytes(n, vocab);
}

void embedding_backward_cuda(const std::int32_t* tokens, const float* dout, int n, int vocab,
                             int embedding_size, float* dtable, bool accumulate, void* scratch,
                             std::size_t scratch_bytes, Stream stream) {
  if (!accumulate)
    S2S_CUDA_CHECK(cudaMemsetAsync(
        dtable, 0, static_cast<std::size_t>(vocab) * embedding_size * sizeof(float), stream));
  if (n <= 0) return;
  const SortedTokens sorted = sort_token_positions_cuda(tokens, nullptr, n, n, vocab, scratch,
                                                        scratch_bytes, stream);
  token_segment_sum_cuda(sorted.tokens, sorted.positions, n, vocab, dout, embedding_size, dtable,
                         static_cast<std::size_t>(embedding_size), 1, stream);
}

}  // namespace s2s::cuda
