// Column sums of a row-major matrix in a fixed order (bias gradients: the sum of the gate or
// output gradients over all rows). CPU twin: sum_rows in host/cpu/rnn_cpu.cpp and the dbias
// loop of host/cpu/linear_cpu.cpp. No CUDA types here.
#pragma once

#include <cstddef>

#include "kernels/stream.h"

namespace s2s::cuda {

// Device scratch bytes column_sum_cuda needs for [rows, width].
std::size_t column_sum_scratch_bytes(int rows, int width);

// data: [rows, width] device memory; out: [width], out[c] = (float) sum_r data[r, c] (sum in
// double), written (accumulate false) or added once (accumulate true: exactly existing + what
// overwrite would write). Two passes, rows split into a number of chunks that depends on
// (rows, width) only: deterministic. scratch: column_sum_scratch_bytes bytes, 8-aligned.
// also_out: [width], nullable: receives the same sums the same way (the bias gradients of LSTM
// and RNN layers, whose input and recurrent sides are equal: one sum, two outputs). out and
// also_out may be a row of data (the second pass reads only the scratch).
void column_sum_cuda(const float* data, int rows, int width, float* out, bool accumulate,
                     void* scratch, std::size_t scratch_bytes, Stream stream,
                     float* also_out = nullptr);

}  // namespace s2s::cuda
