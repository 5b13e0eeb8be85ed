// Elementwise ops of the attention and dropout paths: tanh forward and backward (the attentional
// vector), multiply (dropout masks) and accumulate (y += x). One thread per value, grid-stride.
// CPU twins: tanh_forward/tanh_backward/multiply/accumulate of the CPU backend. No CUDA types.
#pragma once

#include <cmath>
#include <cstddef>

#include "cells/host_device.h"
#include "kernels/stream.h"

namespace s2s::cuda {

S2S_HOST_DEVICE float tanh_forward_value(float x) { return tanhf(x); }
// The derivative through tanh's output y.
S2S_HOST_DEVICE float tanh_backward_value(float y, float dy) { return dy * (1.0f - y * y); }

// All device memory, n values. y (dx, out) may alias x (dy, x) as in include/s2s/backend.h.
void tanh_forward_cuda(const float* x, std::size_t n, float* y, Stream stream);
void tanh_backward_cuda(const float* y, const float* dy, std::size_t n, float* dx, Stream stream);
void multiply_cuda(const float* x, const float* mask, std::size_t n, float* out, Stream stream);
void accumulate_cuda(const float* x, std::size_t n, float* y, Stream stream);

}  // namespace s2s::cuda
