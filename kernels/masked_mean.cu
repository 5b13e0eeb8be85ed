// masked_mean's kernels and launchers (kernels/masked_mean.h). Both run as a single block: the
// inputs are small (B lengths; T*B row values) next to the per-row work between them.
#include "kernels/masked_mean.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr int kScaleThreads = 256;
constexpr int kFinishThreads = 1024;

__global__ void masked_mean_scale_kernel(const std::int32_t* lengths, int T, int B,
                                         int values_per_row, double* scale) {
  __shared__ double shared[kScaleThreads / detail::kWarpSize];
  // Counts are integers below 2^53, exact in double whatever the order.
  double count = 0.0;
  for (int b = threadIdx.x; b < B; b += kScaleThreads) {
    const int length = lengths[b] < 0 ? 0 : (lengths[b] > T ? T : lengths[b]);
    count += static_cast<double>(length);
  }
  count = detail::block_sum_to_thread0<kScaleThreads>(count, shared);
  if (threadIdx.x == 0) {
    const double values = count * static_cast<double>(values_per_row);
    scale[0] = values > 0.0 ? 1.0 / values : 0.0;
  }
}

__global__ void masked_mean_finish_kernel(const double* row_values, std::size_t n,
                                          const double* scale, float* out) {
  __shared__ double shared[kFinishThreads / detail::kWarpSize];
  double sum = 0.0;
  for (std::size_t i = threadIdx.x; i < n; i += kFinishThreads) sum += row_values[i];
  sum = detail::block_sum_to_thread0<kFinishThreads>(sum, shared);
  if (threadIdx.x == 0) out[0] = static_cast<float>(sum * scale[0]);
}

}  // namespace

void masked_mean_scale_cuda(const std::int32_t* lengths, int seq_len, int batch,
                            int values_per_row, double* scale, Stream stream) {
  masked_mean_scale_kernel<<<1, kScaleThreads, 0, stream>>>(lengths, seq_len, batch,
                                                            values_per_row, scale);
  S2S_CUDA_CHECK_LAUNCH("masked_mean_scale_kernel");
}

void masked_mean_finish_cuda(const double* row_values, std::size_t n, const double* scale,
                             float* out, Stream stream) {
  masked_mean_finish_kernel<<<1, kFinishThreads, 0, stream>>>(row_values, n, scale, out);
  S2S_CUDA_CHECK_LAUNCH("masked_mean_finish_kernel");
}

}  // namespace s2s::cuda
