// fill: out[i] = value for i in [0, n). The smallest real kernel: it proves the CUDA build,
// launch and checking path, and mirrors its CPU reference (same name stem, same arguments).
// No CUDA types here: host code and tests include it in every build.
#pragma once

#include <cstddef>

namespace s2s {

namespace cpu {
// out: [n] host memory, overwritten. host/cpu/fill_cpu.cpp.
void fill_cpu(float* out, std::size_t n, float value);
}  // namespace cpu

namespace cuda {
// out: [n] device memory of the current device, overwritten; n may be 0. Launched on the
// default stream; throws Error on a launch failure. kernels/fill.cu (CUDA builds only).
void fill_cuda(float* out, std::size_t n, float value);

// Whether the current device has code for this build's kernels (false when the build's
// architectures do not cover it); throws Error for any other CUDA failure. kernels/fill.cu.
bool kernel_image_available_cuda();
}  // namespace cuda

}  // namespace s2s
