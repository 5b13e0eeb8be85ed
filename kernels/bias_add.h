// Adds a bias row to every row of a row-major matrix (the linear op's y = x W^T + b after its
// GEMM). CPU twin: the bias loop of linear_forward_cpu (host/cpu/linear_cpu.cpp). No CUDA types.
#pragma once

#include "kernels/stream.h"

namespace s2s::cuda {

// y: [rows, width] device memory, y[r, c] += bias[c]; bias: [width].
void bias_add_cuda(float* y, const float* bias, int rows, int width, Stream stream);

}  // namespace s2s::cuda
