// Attention's batched GEMMs (host/cuda/cuda_attention.h): each op runs the plans of
// host/cuda/attention_gemm_plan.h (checked on the CPU by tests/test_kernel_attention.cpp) as
// strided batched cuBLAS GEMMs on the context's handle, so its math mode (TF32 or not) applies.
#include "cuda/cuda_attention.h"

#include "cuda/attention_gemm_plan.h"
#include "cuda/cuda_gemm.h"

namespace s2s::cuda {
namespace {

void run(CudaContext& context, const BatchedGemm& g) {
  gemm_strided_batched(context.blas(), g.trans_a, g.trans_b, g.m, g.n, g.k, 1.0f, g.a, g.lda,
                       g.stride_a, g.b, g.ldb, g.stride_b, g.beta, g.c, g.ldc, g.stride_c, g.count);
}

}  // namespace

void attention_scores_cuda(CudaContext& context, const float* query, const float* keys,
                           int query_len, int source_len, int batch, int width, float* scores) {
  const AttentionDims d{query_len, source_len, batch, width};
  run(context, scores_gemm(d, query, keys, scores));
}

void attention_scores_backward_cuda(CudaContext& context, const float* query, const float* keys,
                                    const float* dscores, int query_len, int source_len, int batch,
                                    int width, float* dquery, float* dkeys, GradMode mode) {
  const AttentionDims d{query_len, source_len, batch, width};
  if (dquery != nullptr) run(context, scores_dquery_gemm(d, dscores, keys, dquery, mode));
  if (dkeys != nullptr) run(context, scores_dkeys_gemm(d, dscores, query, dkeys, mode));
}

void attention_context_cuda(CudaContext& context, const float* weights, const float* values,
                            int query_len, int source_len, int batch, int width,
                            float* context_out) {
  const AttentionDims d{query_len, source_len, batch, width};
  run(context, context_gemm(d, weights, values, context_out));
}

void attention_context_backward_cuda(CudaContext& context, const float* weights,
                                     const float* values, const float* dcontext, int query_len,
                                     int source_len, int batch, int width, float* dweights,
                                     float* dvalues, GradMode mode) {
  const AttentionDims d{query_len, source_len, batch, width};
  if (dweights != nullptr) run(context, context_dweights_gemm(d, dcontext, values, dweights));
  if (dvalues != nullptr) run(context, context_dvalues_gemm(d, weights, dcontext, dvalues, mode));
}

}  // namespace s2s::cuda
