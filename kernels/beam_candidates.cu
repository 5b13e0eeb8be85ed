// beam_candidates' kernel and launcher (kernels/beam_candidates.h): a block per source (grid
// stride over sources), count rounds of a block-wide best under beam_ranks_before.
#include "kernels/beam_candidates.h"

#include "cuda/cuda_check.h"
#include "kernels/device_common.cuh"

namespace s2s::cuda {
namespace {

constexpr int kBeamWarps = kBeamThreads / detail::kWarpSize;
static_assert(kBeamThreads % detail::kWarpSize == 0 && kBeamWarps <= detail::kWarpSize,
              "the block's warps combine in one warp");

// The warp's best pick, in lane 0 (the other lanes hold partial bests).
__device__ __forceinline__ BeamPick warp_best_to_lane0(BeamPick pick) {
  for (int offset = detail::kWarpSize / 2; offset > 0; offset /= 2) {
    const float other_score = __shfl_down_sync(detail::kFullWarp, pick.score, offset);
    const int other_id = __shfl_down_sync(detail::kFullWarp, pick.id, offset);
    if (beam_ranks_before(other_score, other_id, pick.score, pick.id))
      pick = {other_score, other_id};
  }
  return pick;
}

__global__ void beam_candidates_kernel(BeamCandidatesArgs a, float* scores_out,
                                       std::int32_t* ids_out) {
  __shared__ float warp_scores[kBeamWarps];
  __shared__ int warp_ids[kBeamWarps];
  __shared__ BeamPick chosen;
  const int lane = threadIdx.x % detail::kWarpSize;
  const int warp = threadIdx.x / detail::kWarpSize;
  for (int b = blockIdx.x; b < a.batch; b += gridDim.x) {
    BeamPick previous{0.0f, -1};
    for (int round = 0; round < a.count; ++round) {
      BeamPick pick = beam_best_after(a, b, threadIdx.x, blockDim.x, previous);
      pick = warp_best_to_lane0(pick);
      if (lane == 0) {
        warp_scores[warp] = pick.score;
        warp_ids[warp] = pick.id;
      }
      __syncthreads();
      if (warp == 0) {
        BeamPick best =
            lane < kBeamWarps ? BeamPick{warp_scores[lane], warp_ids[lane]} : BeamPick{0.0f, -1};
        best = warp_best_to_lane0(best);
        if (lane == 0) {
          chosen = best;
          const std::size_t out = static_cast<std::size_t>(b) * a.count + round;
          scores_out[out] = best.score;
          ids_out[out] = best.id;
        }
      }
      __syncthreads();
      // Next round rewrites the warp slots (read above, before this barrier) and `chosen` only
      // after its first barrier, which every thread reaches after this read.
      previous = chosen;
    }
  }
}

}  // namespace

void beam_candidates_cuda(const BeamCandidatesArgs& args, float* scores_out, std::int32_t* ids_out,
                          Stream stream) {
  if (args.batch <= 0 || args.count <= 0) return;
  const LaunchShape s = beam_candidates_shape(args.batch);
  beam_candidates_kernel<<<detail::grid_of(s), detail::block_of(s), 0, stream>>>(args, scores_out,
                                                                                 ids_out);
  S2S_CUDA_CHECK_LAUNCH("beam_candidates_kernel");
}

}  // namespace s2s::cuda
