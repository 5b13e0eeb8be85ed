// Helpers shared by the kernels in kernels/*.cu (device code only; never included from host
// code): launch sizes, the cell activations, and fixed-order reductions. Every reduction here
// combines values in an order fixed by the launch shape alone, so results are bit-identical from
// run to run (DESIGN.md, "Determinism": no atomics).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

#include "kernels/launch_shape.h"

namespace s2s::cuda::detail {

using cuda::kThreadsPerBlock;
constexpr int kWarpSize = 32;
constexpr unsigned kFullWarp = 0xffffffffu;

// Blocks of `threads` for n independent elements, capped (the kernels loop grid-stride); the
// shape is grid_stride_shape's (kernels/launch_shape.h), which the tests check.
inline unsigned grid_for(std::size_t n, int threads = kThreadsPerBlock) {
  return grid_stride_shape(n, threads).grid_x;
}

inline dim3 grid_of(const LaunchShape& s) { return dim3(s.grid_x, s.grid_y); }
inline dim3 block_of(const LaunchShape& s) { return dim3(s.block_x, s.block_y); }

// Sum over the warp into lane 0 by a fixed shuffle tree; other lanes hold partial sums.
__device__ __forceinline__ double warp_sum_to_lane0(double v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v += __shfl_down_sync(kFullWarp, v, offset);
  return v;
}

// The warp's sum, the same value in every lane (lane 0's tree, then a broadcast: a butterfly
// would give each lane its own rounding).
__device__ __forceinline__ double warp_sum(double v) {
  return __shfl_sync(kFullWarp, warp_sum_to_lane0(v), 0);
}

// The warp's maximum in every lane (v > m, so NaN lanes never win: the callers let NaN reach
// their result through the sums instead, as the CPU reference does). Max is exact, so the
// order does not matter.
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    const float other = __shfl_xor_sync(kFullWarp, v, offset);
    v = other > v ? other : v;
  }
  return v;
}

// Sum over a block of kThreads threads (a multiple of 32, at most 1024); the result is valid in
// thread 0. Every thread of the block must call it. shared: at least kThreads / 32 doubles.
template <int kThreads>
__device__ __forceinline__ double block_sum_to_thread0(double v, double* shared) {
  static_assert(kThreads % kWarpSize == 0 && kThreads <= 1024, "block size");
  constexpr int kWarps = kThreads / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int warp = threadIdx.x / kWarpSize;
  v = warp_sum_to_lane0(v);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  double total = 0.0;
  if (warp == 0) {
    total = lane < kWarps ? shared[lane] : 0.0;
    total = warp_sum_to_lane0(total);
  }
  __syncthreads();  // shared may be reused by the caller after this
  return total;
}

}  // namespace s2s::cuda::detail
