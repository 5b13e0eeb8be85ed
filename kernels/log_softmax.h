// Row-wise log-softmax for decoding (beam search's log-probabilities): one warp per row, the
// arithmetic in kernels/row_softmax.h. CPU twin: log_softmax of the CPU backend. No CUDA types.
#pragma once

#include "kernels/stream.h"

namespace s2s::cuda {

// logits, out: [N, V] device memory; out may alias logits. out = logits - max - log(sum exp),
// the sum in double.
void log_softmax_cuda(const float* logits, int n, int vocab, float* out, Stream stream);

}  // namespace s2s::cuda
