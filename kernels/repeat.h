// repeat (Keras' RepeatVector) on the GPU: one [B, H] state copied to every step, and its
// backward, the sum over steps in step order. CPU twin: host/cpu/repeat_cpu.cpp. No CUDA types.
#pragma once

#include "kernels/stream.h"

namespace s2s::cuda {

// x: [B, W]; out: [T, B, W] overwritten with out[t] = x. Device memory.
void repeat_forward_cuda(const float* x, int seq_len, int batch, int width, float* out,
                         Stream stream);

// dout: [T, B, W]; dx: [B, W] = (float) sum over t of dout[t] (in double, t increasing),
// written (accumulate false) or added once (accumulate true).
void repeat_backward_cuda(const float* dout, int seq_len, int batch, int width, float* dx,
                          bool accumulate, Stream stream);

}  // namespace s2s::cuda
