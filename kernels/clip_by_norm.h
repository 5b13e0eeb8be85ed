// Clipping by global norm (tf.clip_by_global_norm) with the norm read from device memory, so
// the host never waits for it. CPU twin: clip_by_norm_cpu (host/cpu/optimizer_cpu.cpp).
// No CUDA types here.
#pragma once

#include <cstddef>

#include "kernels/stream.h"

namespace s2s::cuda {

// x: [n] updated: unchanged when norm[0] is finite and <= max_norm, else scaled by
// max_norm / norm[0], or set to NaN when norm[0] is not finite. norm: [1]. Device memory.
void clip_by_norm_cuda(float* x, std::size_t n, const float* norm, float max_norm, Stream stream);

}  // namespace s2s::cuda
