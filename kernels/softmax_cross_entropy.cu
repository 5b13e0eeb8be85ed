// softmax_cross_entropy's kernel and launcher (kernels/softmax_cross_entropy.h).
//
// One warp per row (8 rows per block): the maximum, the sum of exponentials and the gradient
// each take one pass over the row with the lanes striding the vocabulary. Exponentials in float
// (expf, accurate), sums and the log-sum-exp in double, like the CPU reference's sums. A NaN or
// inf logit makes the row's sum, and so its loss and gradients, NaN, as on the CPU.
#include "kernels/softmax_cross_entropy.h"

#include <string>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/masked_mean.h"

namespace s2s::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void softmax_cross_entropy_rows_kernel(const float* logits,
                                                  const std::int32_t* targets,
                                                  const std::int32_t* lengths, int T, int B,
                                                  int V, const double* scale,
                                                  double* row_losses, float* dlogits) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / detail::kWarpSize;
  if (row >= T * B) return;  // whole warps only: no block-level synchronisation below
  const int t = row / B;
  const int b = row - t * B;
  const std::size_t offset = static_cast<std::size_t>(row) * V;
  const float* x = logits + offset;
  float* dx = dlogits != nullptr ? dlogits + offset : nullptr;
  if (t >= lengths[b]) {
    // Padded rows are never read (their logits may be garbage), only zeroed.
    if (dx != nullptr)
      for (int v = lane; v < V; v += detail::kWarpSize) dx[v] = 0.0f;
    if (lane == 0) row_losses[row] = 0.0;
    return;
  }
  float row_max = -INFINITY;
  for (int v = lane; v < V; v += detail::kWarpSize) row_max = x[v] > row_max ? x[v] : row_max;
  row_max = detail::warp_max(row_max);
  double sum_exp = 0.0;
  for (int v = lane; v < V; v += detail::kWarpSize)
    sum_exp += static_cast<double>(expf(x[v] - row_max));
  sum_exp = detail::warp_sum(sum_exp);
  const std::int32_t target = targets[row];
  if (lane == 0) {
    const double log_sum_exp = static_cast<double>(row_max) + log(sum_exp);
    row_losses[row] = log_sum_exp - static_cast<double>(x[target]);
  }
  if (dx == nullptr) return;
  const double inv_count = scale[0];
  const double inv_sum = 1.0 / sum_exp;
  for (int v = lane; v < V; v += detail::kWarpSize) {
    // d(mean loss)/d(logit v) = (softmax_v - [v == target]) / real_rows.
    const double probability = static_cast<double>(expf(x[v] - row_max)) * inv_sum;
    const double indicator = v == target ? 1.0 : 0.0;
    dx[v] = static_cast<float>((probability - indicator) * inv_count);
  }
}

}  // namespace

std::size_t softmax_cross_entropy_scratch_bytes(int seq_len, int batch) {
  return (1 + static_cast<std::size_t>(seq_len) * batch) * sizeof(double);
}

void softmax_cross_entropy_cuda(const float* logits, const std::int32_t* targets,
                                const std::int32_t* lengths, int seq_len, int batch, int vocab,
                                float* loss, float* dlogits, void* scratch,
                                std::size_t scratch_bytes, Stream stream) {
  const std::size_t needed = softmax_cross_entropy_scratch_bytes(seq_len, batch);
  if (scratch_bytes < needed)
    throw Error("softmax_cross_entropy_cuda: " + std::to_string(scratch_bytes) +
                " bytes of scratch given, " + std::to_string(needed) + " needed (internal error)");
  auto* scale = static_cast<double*>(scratch);
  double* row_losses = scale + 1;
  const std::size_t rows = static_cast<std::size_t>(seq_len) * batch;
  masked_mean_scale_cuda(lengths, seq_len, batch, 1, scale, stream);
  const unsigned blocks = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
  softmax_cross_entropy_rows_kernel<<<blocks, kWarpsPerBlock * detail::kWarpSize, 0, stream>>>(
      logits, targets, lengths, seq_len, batch, vocab, scale, row_losses, dlogits);
  S2S_CUDA_CHECK_LAUNCH("softmax_cross_entropy_rows_kernel");
  masked_mean_finish_cuda(row_losses, rows, scale, loss, stream);
}

}  // namespace s2s::cuda
