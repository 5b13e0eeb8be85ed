// mse's kernel and launcher (kernels/mse.h). One warp per row, lanes striding the features;
// differences and sums in double, as in the CPU reference.
#include "kernels/mse.h"

#include <string>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"
#include "kernels/masked_mean.h"

namespace s2s::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void mse_rows_kernel(const float* prediction, const float* target,
                                const std::int32_t* lengths, int T, int B, int F,
                                const double* scale, double* row_losses, float* dprediction) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const int row = blockIdx.x * kWarpsPerBlock + threadIdx.x / detail::kWarpSize;
  if (row >= T * B) return;  // whole warps only
  const int t = row / B;
  const int b = row - t * B;
  const bool real = t < lengths[b];
  const std::size_t offset = static_cast<std::size_t>(row) * F;
  const double inv_count = scale[0];
  double sum = 0.0;
  for (int f = lane; f < F; f += detail::kWarpSize) {
    double diff = 0.0;
    if (real) {
      diff = static_cast<double>(prediction[offset + f]) - static_cast<double>(target[offset + f]);
      sum += diff * diff;
    }
    if (dprediction != nullptr)
      dprediction[offset + f] = static_cast<float>(2.0 * diff * inv_count);
  }
  sum = detail::warp_sum_to_lane0(sum);
  if (lane == 0) row_losses[row] = sum;
}

}  // namespace

std::size_t mse_scratch_bytes(int seq_len, int batch) {
  return (1 + static_cast<std::size_t>(seq_len) * batch) * sizeof(double);
}

void mse_cuda(const float* prediction, const float* target, const std::int32_t* lengths,
              int seq_len, int batch, int features, float* loss, float* dprediction,
              void* scratch, std::size_t scratch_bytes, Stream stream) {
  const std::size_t needed = mse_scratch_bytes(seq_len, batch);
  if (scratch_bytes < needed)
    throw Error("mse_cuda: " + std::to_string(scratch_bytes) + " bytes of scratch given, " +
                std::to_string(needed) + " needed (internal error)");
  auto* scale = static_cast<double*>(scratch);
  double* row_losses = scale + 1;
  const std::size_t rows = static_cast<std::size_t>(seq_len) * batch;
  masked_mean_scale_cuda(lengths, seq_len, batch, features, scale, stream);
  const unsigned blocks = static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
  mse_rows_kernel<<<blocks, kWarpsPerBlock * detail::kWarpSize, 0, stream>>>(
      prediction, target, lengths, seq_len, batch, features, scale, row_losses, dprediction);
  S2S_CUDA_CHECK_LAUNCH("mse_rows_kernel");
  masked_mean_finish_cuda(row_losses, rows, scale, loss, stream);
}

}  // namespace s2s::cuda
