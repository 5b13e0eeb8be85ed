// additive_scores' kernels and launchers (kernels/additive_scores.h).
#include "kernels/additive_scores.h"

#include <string>

#include "cuda/cuda_check.h"
#include "kernels/column_sum.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

// Aligns the column sums' scratch after the partial sums.
constexpr std::size_t kScratchAlignment = 256;

std::size_t aligned(std::size_t bytes) {
  return (bytes + kScratchAlignment - 1) / kScratchAlignment * kScratchAlignment;
}

std::size_t partial_bytes(int query_len, int batch, int width) {
  return aligned(static_cast<std::size_t>(query_len) * batch * width * sizeof(float));
}

__global__ void additive_scores_kernel(AdditiveScoresArgs a, std::size_t count, float* scores) {
  const int lane = threadIdx.x % detail::kWarpSize;
  const std::size_t warp = threadIdx.x / detail::kWarpSize;
  for (std::size_t out = blockIdx.x * static_cast<std::size_t>(kWarpRowsPerBlock) + warp;
       out < count; out += static_cast<std::size_t>(gridDim.x) * kWarpRowsPerBlock) {
    const double score = detail::warp_sum(additive_score_lane(a, out, lane, detail::kWarpSize));
    if (lane == 0) scores[out] = static_cast<float>(score);
  }
}

__global__ void additive_dquery_kernel(AdditiveScoresBackwardArgs a, std::size_t count) {
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < count; idx += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    additive_dquery_unit(a, idx);
}

__global__ void additive_dkeys_kernel(AdditiveScoresBackwardArgs a, std::size_t count) {
  for (std::size_t idx = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       idx < count; idx += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    additive_dkeys_unit(a, idx);
}

}  // namespace

void additive_scores_cuda(const AdditiveScoresArgs& args, float* scores, Stream stream) {
  const std::size_t count = static_cast<std::size_t>(args.batch) * args.query_len * args.source_len;
  if (count == 0 || args.width <= 0) return;
  const LaunchShape s = warp_rows_shape(count);
  additive_scores_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(args, count,
                                                                                 scores);
  S2S_CUDA_CHECK_LAUNCH("additive_scores_kernel");
}

std::size_t additive_scores_backward_scratch_bytes(int query_len, int batch, int width,
                                                   bool want_dv) {
  if (!want_dv) return 0;
  return partial_bytes(query_len, batch, width) +
         column_sum_scratch_bytes(query_len * batch, width);
}

void additive_scores_backward_cuda(AdditiveScoresBackwardArgs args, float* dv, void* scratch,
                                   std::size_t scratch_bytes, Stream stream) {
  const AdditiveScoresArgs& in = args.in;
  const std::size_t needed =
      additive_scores_backward_scratch_bytes(in.query_len, in.batch, in.width, dv != nullptr);
  if (scratch_bytes < needed)
    throw Error("additive_scores_backward_cuda: " + std::to_string(scratch_bytes) +
                " bytes of scratch given, " + std::to_string(needed) + " needed (internal error)");
  args.dv_partial = dv != nullptr ? static_cast<float*>(scratch) : nullptr;
  const std::size_t query_count = static_cast<std::size_t>(in.query_len) * in.batch * in.width;
  const std::size_t key_count = static_cast<std::size_t>(in.source_len) * in.batch * in.width;
  if (query_count == 0 || key_count == 0) return;
  if (args.dquery != nullptr || args.dv_partial != nullptr) {
    const LaunchShape s = grid_stride_shape(query_count);
    additive_dquery_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(args,
                                                                                   query_count);
    S2S_CUDA_CHECK_LAUNCH("additive_dquery_kernel");
  }
  if (args.dkeys != nullptr) {
    const LaunchShape s = grid_stride_shape(key_count);
    additive_dkeys_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(args, key_count);
    S2S_CUDA_CHECK_LAUNCH("additive_dkeys_kernel");
  }
  if (dv != nullptr) {
    const std::size_t offset = partial_bytes(in.query_len, in.batch, in.width);
    column_sum_cuda(args.dv_partial, in.query_len * in.batch, in.width, dv, args.accumulate,
                    static_cast<char*>(scratch) + offset, scratch_bytes - offset, stream);
  }
}

}  // namespace s2s::cuda
