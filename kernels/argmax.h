// Row-wise argmax (greedy decoding, token accuracy). CPU twin: argmax_cpu
// (host/cpu/loss_cpu.cpp). No CUDA types here.
#pragma once

#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// logits: [N, V]; out: [N] overwritten with the index of each row's first maximum, or of its
// first NaN when it has one (torch.argmax). Device memory.
void argmax_cuda(const float* logits, int n, int vocab, std::int32_t* out, Stream stream);

}  // namespace s2s::cuda
