// Attention's batched GEMMs (host/cuda/cuda_attention.h). Per sequence b, with Q_b = query's
// [Tq, D] rows of b, K_b and V_b likewise [Ts, D], S_b = scores' [Tq, Ts] and W_b = weights':
//   scores:   S_b = Q_b K_b^T             dQ_b (+)= dS_b K_b      dK_b (+)= dS_b^T Q_b
//   context:  C_b = W_b V_b               dW_b = dC_b V_b^T       dV_b (+)= W_b^T dC_b
// The GradMode becomes beta (0 overwrites without reading, 1 adds), as in linear_backward.
#include "cuda/cuda_attention.h"

#include "cuda/cuda_gemm.h"

namespace s2s::cuda {
namespace {

// Strides (elements) of the three layouts: a time-major sequence's matrix is D after the
// previous sequence's and its rows are B * D apart; a [B, Tq, Ts] matrix is Tq * Ts after.
struct AttentionStrides {
  int row;               // B * D: leading dimension of a time-major [T, D] view
  long long sequence;    // D
  long long score;       // Tq * Ts
};

AttentionStrides strides_of(int query_len, int source_len, int batch, int width) {
  return {batch * width, static_cast<long long>(width),
          static_cast<long long>(query_len) * source_len};
}

float beta_of(GradMode mode) { return mode == GradMode::accumulate ? 1.0f : 0.0f; }

}  // namespace

void attention_scores_cuda(CudaContext& context, const float* query, const float* keys,
                           int query_len, int source_len, int batch, int width, float* scores) {
  const AttentionStrides s = strides_of(query_len, source_len, batch, width);
  // S_b [Tq, Ts] = Q_b [Tq, D] K_b^T [D, Ts].
  gemm_strided_batched(context.blas(), false, true, query_len, source_len, width, 1.0f, query,
                       s.row, s.sequence, keys, s.row, s.sequence, 0.0f, scores, source_len,
                       s.score, batch);
}

void attention_scores_backward_cuda(CudaContext& context, const float* query, const float* keys,
                                    const float* dscores, int query_len, int source_len,
                                    int batch, int width, float* dquery, float* dkeys,
                                    GradMode mode) {
  const AttentionStrides s = strides_of(query_len, source_len, batch, width);
  const float beta = beta_of(mode);
  // dQ_b [Tq, D] = dS_b [Tq, Ts] K_b [Ts, D].
  if (dquery != nullptr)
    gemm_strided_batched(context.blas(), false, false, query_len, width, source_len, 1.0f,
                         dscores, source_len, s.score, keys, s.row, s.sequence, beta, dquery,
                         s.row, s.sequence, batch);
  // dK_b [Ts, D] = dS_b^T [Ts, Tq] Q_b [Tq, D].
  if (dkeys != nullptr)
    gemm_strided_batched(context.blas(), true, false, source_len, width, query_len, 1.0f,
                         dscores, source_len, s.score, query, s.row, s.sequence, beta, dkeys,
                         s.row, s.sequence, batch);
}

void attention_context_cuda(CudaContext& context, const float* weights, const float* values,
                            int query_len, int source_len, int batch, int width,
                            float* context_out) {
  const AttentionStrides s = strides_of(query_len, source_len, batch, width);
  // C_b [Tq, D] = W_b [Tq, Ts] V_b [Ts, D].
  gemm_strided_batched(context.blas(), false, false, query_len, width, source_len, 1.0f, weights,
                       source_len, s.score, values, s.row, s.sequence, 0.0f, context_out, s.row,
                       s.sequence, batch);
}

void attention_context_backward_cuda(CudaContext& context, const float* weights,
                                     const float* values, const float* dcontext, int query_len,
                                     int source_len, int batch, int width, float* dweights,
                                     float* dvalues, GradMode mode) {
  const AttentionStrides s = strides_of(query_len, source_len, batch, width);
  // dW_b [Tq, Ts] = dC_b [Tq, D] V_b^T [D, Ts]; always overwritten (an activation gradient).
  if (dweights != nullptr)
    gemm_strided_batched(context.blas(), false, true, query_len, source_len, width, 1.0f,
                         dcontext, s.row, s.sequence, values, s.row, s.sequence, 0.0f, dweights,
                         source_len, s.score, batch);
  // dV_b [Ts, D] = W_b^T [Ts, Tq] dC_b [Tq, D].
  if (dvalues != nullptr)
    gemm_strided_batched(context.blas(), true, false, source_len, width, query_len, 1.0f,
                         weights, source_len, s.score, dcontext, s.row, s.sequence,
                         beta_of(mode), dvalues, s.row, s.sequence, batch);
}

}  // namespace s2s::cuda
