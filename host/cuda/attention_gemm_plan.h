// The attention ops' strided batched GEMMs written down as plain arguments (no CUDA types), so
// host/cuda/cuda_attention.cpp hands them to cuBLAS and tests/test_kernel_attention.cpp runs
// them on the CPU with a naive row-major batched GEMM against the formulas of
// include/s2s/backend.h. Per sequence b, with Q_b = query's [Tq, D] rows of b, K_b and V_b
// likewise [Ts, D], S_b = scores' [Tq, Ts] and W_b = weights':
//   scores:   S_b = Q_b K_b^T             dQ_b (+)= dS_b K_b      dK_b (+)= dS_b^T Q_b
//   context:  C_b = W_b V_b               dW_b = dC_b V_b^T       dV_b (+)= W_b^T dC_b
// A time-major [T, B, D] array is read in place as B matrices [T, D] with row stride B * D, one
// batch stride D apart; a [B, Tq, Ts] array is B dense matrices Tq * Ts apart. The GradMode
// becomes beta (0 overwrites without reading, 1 adds), as in linear_backward.
#pragma once

#include "s2s/backend.h"

namespace s2s::cuda {

// count products C_i = op(A_i) op(B_i) + beta * C_i, row-major, X_i = X + i * stride_x; the
// arguments of gemm_strided_batched (host/cuda/cuda_gemm.h) with alpha = 1.
struct BatchedGemm {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int lda = 0;
  long long stride_a = 0;
  const float* b = nullptr;
  int ldb = 0;
  long long stride_b = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int ldc = 0;
  long long stride_c = 0;
  int count = 0;
};

// The sizes every attention GEMM shares.
struct AttentionDims {
  int query_len, source_len, batch, width;      // Tq, Ts, B, D
  int row() const { return batch * width; }     // a time-major [T, D] view's ld
  long long sequence() const { return width; }  // next sequence's [T, D] view
  long long score() const { return static_cast<long long>(query_len) * source_len; }
};

// The plans below list their arguments one operand a line (transposes and sizes; A; B; beta, C
// and the count), in BatchedGemm's order.
// clang-format off

inline float beta_of(GradMode mode) { return mode == GradMode::accumulate ? 1.0f : 0.0f; }

// S_b [Tq, Ts] = Q_b [Tq, D] K_b^T [D, Ts].
inline BatchedGemm scores_gemm(const AttentionDims& d, const float* query, const float* keys,
                               float* scores) {
  return {false, true, d.query_len, d.source_len, d.width,
          query, d.row(), d.sequence(),
          keys, d.row(), d.sequence(),
          0.0f, scores, d.source_len, d.score(), d.batch};
}

// dQ_b [Tq, D] (+)= dS_b [Tq, Ts] K_b [Ts, D].
inline BatchedGemm scores_dquery_gemm(const AttentionDims& d, const float* dscores,
                                      const float* keys, float* dquery, GradMode mode) {
  return {false, false, d.query_len, d.width, d.source_len,
          dscores, d.source_len, d.score(),
          keys, d.row(), d.sequence(),
          beta_of(mode), dquery, d.row(), d.sequence(), d.batch};
}

// dK_b [Ts, D] (+)= dS_b^T [Ts, Tq] Q_b [Tq, D].
inline BatchedGemm scores_dkeys_gemm(const AttentionDims& d, const float* dscores,
                                     const float* query, float* dkeys, GradMode mode) {
  return {true, false, d.source_len, d.width, d.query_len,
          dscores, d.source_len, d.score(),
          query, d.row(), d.sequence(),
          beta_of(mode), dkeys, d.row(), d.sequence(), d.batch};
}

// C_b [Tq, D] = W_b [Tq, Ts] V_b [Ts, D].
inline BatchedGemm context_gemm(const AttentionDims& d, const float* weights, const float* values,
                                float* context) {
  return {false, false, d.query_len, d.width, d.source_len,
          weights, d.source_len, d.score(),
          values, d.row(), d.sequence(),
          0.0f, context, d.row(), d.sequence(), d.batch};
}

// dW_b [Tq, Ts] = dC_b [Tq, D] V_b^T [D, Ts]; always overwritten (an activation gradient).
inline BatchedGemm context_dweights_gemm(const AttentionDims& d, const float* dcontext,
                                         const float* values, float* dweights) {
  return {false, true, d.query_len, d.source_len, d.width,
          dcontext, d.row(), d.sequence(),
          values, d.row(), d.sequence(),
          0.0f, dweights, d.source_len, d.score(), d.batch};
}

// dV_b [Ts, D] (+)= W_b^T [Ts, Tq] dC_b [Tq, D].
inline BatchedGemm context_dvalues_gemm(const AttentionDims& d, const float* weights,
                                        const float* dcontext, float* dvalues, GradMode mode) {
  return {true, false, d.source_len, d.width, d.query_len,
          weights, d.source_len, d.score(),
          dcontext, d.row(), d.sequence(),
          beta_of(mode), dvalues, d.row(), d.sequence(), d.batch};
}

// clang-format on

}  // namespace s2s::cuda
