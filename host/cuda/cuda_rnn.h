// The CUDA recurrent stack (LSTM, GRU, tanh RNN), forward and backward: the shared
// orchestration (host/rnn_stack.h) run by the CUDA executor (cuBLAS GEMMs and the fused step
// kernels of kernels/). Arguments as Ops::rnn_forward / rnn_backward (include/s2s/backend.h);
// every array is device memory of context's device, which must be current.
#pragma once

#include <cstddef>
#include <cstdint>

#include "s2s/backend.h"

namespace s2s::cuda {

class CudaContext;

// Elements of workspace, the same layout and size as rnn_workspace_size_cpu.
std::size_t rnn_workspace_size_cuda(const RnnDims& dims);

void rnn_forward_cuda(CudaContext& context, const RnnDims& dims,
                      const RnnLayerWeights<float>* weights, RnnInput<float> input,
                      const std::int32_t* lengths, const float* h0, const float* c0, float* y,
                      float* hn, float* cn, float* workspace);

void rnn_backward_cuda(CudaContext& context, const RnnDims& dims,
                       const RnnLayerWeights<float>* weights, RnnInput<float> input,
                       const std::int32_t* lengths, const float* dy, const float* dhn,
                       const float* dcn, float* dx, float* dh0, float* dc0,
                       const RnnLayerGrads<float>* grads, GradMode mode, float* workspace);

}  // namespace s2s::cuda
