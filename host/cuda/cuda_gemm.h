// Row-major float GEMM on cuBLAS, with the CPU reference's signature (host/cpu/blas.h), so the
// CUDA ops read like their CPU twins. cuBLAS is column-major: a row-major X[r, c] with row
// stride ld is the column-major X^T with leading dimension ld, so the row-major
// C[m, n] = op(A) op(B) is computed as the column-major C^T[n, m] = op(B)^T op(A)^T, which is
// cublasSgemm with A and B swapped (and m and n), each keeping its own transpose flag.
#pragma once

#include <cublas_v2.h>

#include "cuda/cuda_check.h"

namespace s2s::cuda {

// C[m, n] = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T when trans_X. lda, ldb, ldc:
// row strides of A, B, C as stored. beta == 0 does not read C. Queued on the handle's stream.
inline void gemm(cublasHandle_t handle, bool trans_a, bool trans_b, int m, int n, int k,
                 float alpha, const float* a, int lda, const float* b, int ldb, float beta,
                 float* c, int ldc) {
  S2S_CUBLAS_CHECK(cublasSgemm(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                               trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, a,
                               lda, &beta, c, ldc));
}

// `count` independent products of gemm's form, C_i = alpha * op(A_i) op(B_i) + beta * C_i, where
// X_i starts stride_x elements after X_{i-1} (row-major, same swap as gemm). The attention ops
// read time-major [T, B, D] arrays as B matrices [T, D] with row stride B * D, one batch
// stride D apart. Follows the handle's math mode like gemm (TF32 only when the context allows
// it: CUBLAS_TF32_TENSOR_OP_MATH covers the Sgemm family, batched included).
inline void gemm_strided_batched(cublasHandle_t handle, bool trans_a, bool trans_b, int m, int n,
                                 int k, float alpha, const float* a, int lda, long long stride_a,
                                 const float* b, int ldb, long long stride_b, float beta,
                                 float* c, int ldc, long long stride_c, int count) {
  S2S_CUBLAS_CHECK(cublasSgemmStridedBatched(
      handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
      &alpha, b, ldb, stride_b, a, lda, stride_a, &beta, c, ldc, stride_c, count));
}

}  // namespace s2s::cuda
