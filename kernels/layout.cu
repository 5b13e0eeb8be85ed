// The layout kernels and launchers (kernels/layout.h): grid-stride over elements, each thread
// the per-element body of the header.
#include "kernels/layout.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

#define S2S_GRID_STRIDE(idx, n)                                                           \
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; \
       idx < (n); idx += static_cast<std::size_t>(gridDim.x) * blockDim.x)

__global__ void concat_columns_kernel(const float* a, const float* b, int a_width, int b_width,
                                      std::size_t n, float* out) {
  S2S_GRID_STRIDE(i, n) concat_columns_unit(a, b, a_width, b_width, out, i);
}

__global__ void split_columns_kernel(const float* dout, int a_width, int b_width, float* da,
                                     float* db, bool accumulate, std::size_t n) {
  S2S_GRID_STRIDE(i, n) split_columns_unit(dout, a_width, b_width, da, db, accumulate, i);
}

__global__ void reverse_sequences_kernel(const float* x, const std::int32_t* lengths, int batch,
                                         int width, std::size_t n, float* out) {
  S2S_GRID_STRIDE(i, n) reverse_sequences_unit(x, lengths, batch, width, out, i);
}

__global__ void gather_rows_kernel(const float* x, const std::int32_t* index, int rows_in,
                                   int rows_out, int width, std::size_t n, float* out) {
  S2S_GRID_STRIDE(i, n) gather_rows_unit(x, index, rows_in, rows_out, width, out, i);
}

#undef S2S_GRID_STRIDE

}  // namespace

void concat_columns_cuda(const float* a, const float* b, int rows, int a_width, int b_width,
                         float* out, Stream stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * (a_width + b_width);
  if (n == 0) return;
  concat_columns_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(
      a, b, a_width, b_width, n, out);
  S2S_CUDA_CHECK_LAUNCH("concat_columns_kernel");
}

void split_columns_cuda(const float* dout, int rows, int a_width, int b_width, float* da, float* db,
                        bool accumulate, Stream stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * (a_width + b_width);
  if (n == 0 || (da == nullptr && db == nullptr)) return;
  split_columns_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(
      dout, a_width, b_width, da, db, accumulate, n);
  S2S_CUDA_CHECK_LAUNCH("split_columns_kernel");
}

void reverse_sequences_cuda(const float* x, const std::int32_t* lengths, int seq_len, int batch,
                            int width, float* out, Stream stream) {
  const std::size_t n = static_cast<std::size_t>(seq_len) * batch * width;
  if (n == 0) return;
  reverse_sequences_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(
      x, lengths, batch, width, n, out);
  S2S_CUDA_CHECK_LAUNCH("reverse_sequences_kernel");
}

void gather_rows_cuda(const float* x, const std::int32_t* index, int groups, int rows_in,
                      int rows_out, int width, float* out, Stream stream) {
  const std::size_t n = static_cast<std::size_t>(groups) * rows_out * width;
  if (n == 0) return;
  gather_rows_kernel<<<detail::grid_for(n), detail::kThreadsPerBlock, 0, stream>>>(
      x, index, rows_in, rows_out, width, n, out);
  S2S_CUDA_CHECK_LAUNCH("gather_rows_kernel");
}

}  // namespace s2s::cuda
