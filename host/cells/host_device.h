// S2S_HOST_DEVICE marks a function that both the host compiler and nvcc's device pass compile
// (ATen's C10_HOST_DEVICE): `__host__ __device__` under nvcc, nothing under g++ or clang++.
// The cell math in host/cells/ is written once with it and run by the CPU loops and the kernels.
#pragma once

// Host side: plain inline; GCC inlines the cell math into the cell loops, which it vectorises.
#if defined(__CUDACC__)
#define S2S_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define S2S_HOST_DEVICE inline
#endif
