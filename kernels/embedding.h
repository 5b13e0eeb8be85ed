// The embedding op on the GPU: a row gather forward, and a deterministic scatter-add backward
// (sort positions by token, then one fixed-order sum per token: kernels/token_sort.h and
// kernels/token_segment_sum.h). CPU twin: host/cpu/embedding_cpu.cpp. No CUDA types here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/stream.h"

namespace s2s::cuda {

// table: [V, E]; tokens: [N], each in [0, V); out: [N, E] overwritten. Device memory.
void embedding_forward_cuda(const float* table, const std::int32_t* tokens, int n, int vocab,
                            int embedding_size, float* out, Stream stream);

// Device scratch bytes embedding_backward_cuda needs.
std::size_t embedding_backward_scratch_bytes(int n, int vocab);

// dout: [N, E]; dtable: [V, E], overwritten (accumulate false: rows of absent tokens become 0)
// or added to (accumulate true) with each token's rows summed over its positions first.
// scratch: embedding_backward_scratch_bytes(n, vocab) bytes of device memory, 256-aligned.
void embedding_backward_cuda(const std::int32_t* tokens, const float* dout, int n, int vocab,
                             int embedding_size, float* dtable, bool accumulate, void* scratch,
                             std::size_t scratch_bytes, Stream stream);

}  // namespace s2s::cuda
