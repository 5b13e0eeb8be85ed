// The attention ops' matrix products on cuBLAS (attention_scores and attention_context, forward
// and backward), each one strided batched GEMM over the B sequences. Time-major [T, B, D]
// arrays are read in place as B matrices [T, D] with row stride B * D, one batch stride D apart;
// scores and weights [B, Tq, Ts] are B dense matrices. Arguments, shapes and nullability are
// exactly those of Ops<float> (include/s2s/backend.h). Internal to host/cuda/.
#pragma once

#include "cuda/cuda_context.h"
#include "s2s/backend.h"

namespace s2s::cuda {

void attention_scores_cuda(CudaContext& context, const float* query, const float* keys,
                           int query_len, int source_len, int batch, int width, float* scores);
void attention_scores_backward_cuda(CudaContext& context, const float* query, const float* keys,
                                    const float* dscores, int query_len, int source_len, int batch,
                                    int width, float* dquery, float* dkeys, GradMode mode);
void attention_context_cuda(CudaContext& context, const float* weights, const float* values,
                            int query_len, int source_len, int batch, int width,
                            float* context_out);
void attention_context_backward_cuda(CudaContext& context, const float* weights,
                                     const float* values, const float* dcontext, int query_len,
                                     int source_len, int batch, int width, float* dweights,
                                     float* dvalues, GradMode mode);

}  // namespace s2s::cuda
