// column_sum's kernels and launcher (kernels/column_sum.h).
//
// Pass 1: grid (column tiles of 32, row chunks); block 32 columns x 8 row threads; thread row w
// sums rows w, w+8, ... of its chunk in double, the 8 partials are added in order, and each
// (chunk, column) partial goes to scratch. Pass 2: one thread per column adds the chunk partials
// in chunk order. Every order is fixed by (rows, width): bit-identical runs.
#include "kernels/column_sum.h"

#include <algorithm>
#include <string>

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr int kColumnsPerBlock = kTileColumns;
constexpr int kRowThreads = kTileRowThreads;

int chunk_count(int rows) { return column_sum_chunks(rows); }

__global__ void column_sum_partial_kernel(const float* data, int rows, int width,
                                          int rows_per_chunk, double* partials) {
  __shared__ double partial[kRowThreads][kColumnsPerBlock];
  const int column = blockIdx.x * kColumnsPerBlock + threadIdx.x;
  const int chunk = blockIdx.y;
  const int first = chunk * rows_per_chunk;
  const int last = min(rows, first + rows_per_chunk);
  double sum = 0.0;
  if (column < width) {
    for (int r = first + static_cast<int>(threadIdx.y); r < last; r += kRowThreads)
      sum += static_cast<double>(data[static_cast<std::size_t>(r) * width + column]);
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && column < width) {
    double total = 0.0;
    for (int w = 0; w < kRowThreads; ++w) total += partial[w][threadIdx.x];
    partials[static_cast<std::size_t>(chunk) * width + column] = total;
  }
}

__global__ void column_sum_finish_kernel(const double* partials, int chunks, int width,
                                         float* out, float* also_out, bool accumulate) {
  for (int column = blockIdx.x * blockDim.x + threadIdx.x; column < width;
       column += gridDim.x * blockDim.x) {
    double total = 0.0;
    for (int chunk = 0; chunk < chunks; ++chunk)
      total += partials[static_cast<std::size_t>(chunk) * width + column];
    const float fresh = static_cast<float>(total);
    out[column] = accumulate ? out[column] + fresh : fresh;
    if (also_out != nullptr) also_out[column] = accumulate ? also_out[column] + fresh : fresh;
  }
}

}  // namespace

std::size_t column_sum_scratch_bytes(int rows, int width) {
  return static_cast<std::size_t>(chunk_count(rows)) * static_cast<std::size_t>(width) *
         sizeof(double);
}

void column_sum_cuda(const float* data, int rows, int width, float* out, bool accumulate,
                     void* scratch, std::size_t scratch_bytes, Stream stream, float* also_out) {
  if (width <= 0) return;
  const std::size_t needed = column_sum_scratch_bytes(rows, width);
  if (scratch_bytes < needed)
    throw Error("column_sum_cuda: " + std::to_string(scratch_bytes) + " bytes of scratch given, " +
                std::to_string(needed) + " needed (internal error)");
  const int chunks = chunk_count(rows);
  const int rows_per_chunk = (std::max(rows, 0) + chunks - 1) / chunks;
  auto* partials = static_cast<double*>(scratch);
  const LaunchShape shape = column_sum_partial_shape(rows, width);
  column_sum_partial_kernel<<<detail::grid_of(shape), detail::block_of(shape), 0, stream>>>(
      data, rows, width, rows_per_chunk, partials);
  S2S_CUDA_CHECK_LAUNCH("column_sum_partial_kernel");
  column_sum_finish_kernel<<<detail::grid_for(static_cast<std::size_t>(width)),
                             detail::kThreadsPerBlock, 0, stream>>>(partials, chunks, width, out,
                                                                    also_out, accumulate);
  S2S_CUDA_CHECK_LAUNCH("column_sum_finish_kernel");
}

}  // namespace s2s::cuda
