// Global L2 norm of a flat buffer (the gradient norm before clipping, also the trainer's
// finiteness check). CPU twin: global_norm_cpu (host/cpu/optimizer_cpu.cpp). No CUDA types.
#pragma once

#include <cstddef>

#include "kernels/stream.h"

namespace s2s::cuda {

// Device scratch bytes global_norm_cuda needs for n values.
std::size_t global_norm_scratch_bytes(std::size_t n);

// x: [n]; out: [1] overwritten with sqrt(sum x^2), summed in double in two fixed-order passes
// (a number of blocks that depends on n only), so NaN and inf propagate and runs are
// bit-identical. Device memory; scratch: the bytes above, 8-aligned.
void global_norm_cuda(const float* x, std::size_t n, float* out, void* scratch,
                      std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
