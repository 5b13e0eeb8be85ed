// Typed CBLAS GEMM for the CPU reference (OpenBLAS): gemm<float> -> sgemm, gemm<double> -> dgemm.
#pragma once

#include <cblas.h>

namespace s2s::cpu {

// C[m, n] = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T when trans_X.
// lda, ldb, ldc: row strides of A, B, C as stored.
template <typename T>
void gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda,
          const T* b, int ldb, T beta, T* c, int ldc);

template <>
inline void gemm<float>(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                        const float* a, int lda, const float* b, int ldb, float beta, float* c,
                        int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
inline void gemm<double>(bool trans_a, bool trans_b, int m, int n, int k, double alpha,
                         const double* a, int lda, const double* b, int ldb, double beta,
                         double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// The same product column-major, with cuBLAS' argument convention (the recurrent stack's
// executors take it: host/rnn_stack.h): C[m, n] column-major with leading dimensions lda, ldb,
// ldc.
template <typename T>
void gemm_col_major(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda,
                    const T* b, int ldb, T beta, T* c, int ldc);

template <>
inline void gemm_col_major<float>(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                                  const float* a, int lda, const float* b, int ldb, float beta,
                                  float* c, int ldc) {
  cblas_sgemm(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
inline void gemm_col_major<double>(bool trans_a, bool trans_b, int m, int n, int k, double alpha,
                                   const double* a, int lda, const double* b, int ldb,
                                   double beta, double* c, int ldc) {
  cblas_dgemm(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace s2s::cpu
