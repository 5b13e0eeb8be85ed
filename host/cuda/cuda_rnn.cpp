// The CUDA executor of the recurrent stack (host/cuda/cuda_rnn.h): cuBLAS GEMMs with the
// arguments host/rnn_stack.h hands over (already column-major), the fused step kernels and the
// reductions of kernels/, all queued on the context's stream; nothing here waits for the
// device. The orchestration itself is host/rnn_stack.h, shared with the CPU.
#include "cuda/cuda_rnn.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "cuda/cuda_check.h"
#include "cuda/cuda_context.h"
#include "kernels/column_sum.h"
#include "kernels/gru_pointwise.h"
#include "kernels/lstm_pointwise.h"
#include "kernels/one_hot_projection.h"
#include "kernels/rnn_final_state.h"
#include "kernels/rnn_tanh_pointwise.h"
#include "rnn_stack.h"
#include "rnn_workspace.h"

namespace s2s::cuda {
namespace {

cublasOperation_t to_cublas(GemmOp op) { return op == GemmOp::t ? CUBLAS_OP_T : CUBLAS_OP_N; }

class CudaExecutor {
 public:
  using Scalar = float;

  explicit CudaExecutor(CudaContext& context)
      : context_(context), stream_(context.stream()), blas_(context.blas()) {}

  void gemm(GemmOp op_a, GemmOp op_b, int m, int n, int k, float alpha, const float* a, int lda,
            const float* b, int ldb, float beta, float* c, int ldc) {
    S2S_CUBLAS_CHECK(cublasSgemm(blas_, to_cublas(op_a), to_cublas(op_b), m, n, k, &alpha, a,
                                 lda, b, ldb, &beta, c, ldc));
  }
  void copy(float* destination, const float* source, std::size_t elements) {
    S2S_CUDA_CHECK(cudaMemcpyAsync(destination, source, elements * sizeof(float),
                                   cudaMemcpyDeviceToDevice, stream_));
  }
  void zero(float* destination, std::size_t elements) {
    S2S_CUDA_CHECK(cudaMemsetAsync(destination, 0, elements * sizeof(float), stream_));
  }

  void one_hot_gather(const float* weight_ih, const std::int32_t* tokens,
                      const std::int32_t* lengths, int steps, int B, int V, int GH,
                      float* gates) {
    one_hot_projection_forward_cuda(weight_ih, tokens, lengths, steps, B, V, GH, gates, stream_);
  }
  void one_hot_scatter(const std::int32_t* tokens, const std::int32_t* lengths, int steps, int B,
                       int V, int GH, const float* dgates, float* dweight_ih, bool accumulate) {
    const std::size_t bytes = one_hot_projection_backward_scratch_bytes(steps, B, V);
    one_hot_projection_backward_cuda(tokens, lengths, steps, B, V, GH, dgates, dweight_ih,
                                     accumulate, context_.scratch(bytes), bytes, stream_);
  }

  void lstm_forward(int B, int H, int t, const std::int32_t* lengths, const float* recurrent,
                    const float* b_ih, const float* b_hh, const float* c_prev, float* gates,
                    float* c_next, float* h_next) {
    lstm_pointwise_forward_cuda(
        LstmForwardStep{B, H, t, lengths, recurrent, b_ih, b_hh, c_prev, gates, c_next, h_next},
        stream_);
  }
  void gru_forward(int B, int H, int t, const std::int32_t* lengths, const float* recurrent,
                   const float* b_ih, const float* b_hh, const float* h_prev, float* gates,
                   float* hh_new, float* h_next) {
    gru_pointwise_forward_cuda(
        GruForwardStep{B, H, t, lengths, recurrent, b_ih, b_hh, h_prev, gates, hh_new, h_next},
        stream_);
  }
  void rnn_forward(int B, int H, int t, const std::int32_t* lengths, const float* recurrent,
                   const float* b_ih, const float* b_hh, float* gates, float* h_next) {
    rnn_tanh_pointwise_forward_cuda(
        RnnTanhForwardStep{B, H, t, lengths, recurrent, b_ih, b_hh, gates, h_next}, stream_);
  }
  void lstm_backward(int B, int H, int t, const std::int32_t* lengths, const float* c_prev,
                     const float* c_now, const float* doutput, float* gates, float* dh_state,
                     float* dc_state) {
    lstm_pointwise_backward_cuda(
        LstmBackwardStep{B, H, t, lengths, c_prev, c_now, doutput, gates, dh_state, dc_state},
        stream_);
  }
  void gru_backward(int B, int H, int t, const std::int32_t* lengths, const float* h_prev,
                    const float* hh_new, const float* doutput, float* gates, float* dgates_hh,
                    float* dh_state) {
    gru_pointwise_backward_cuda(
        GruBackwardStep{B, H, t, lengths, h_prev, hh_new, doutput, gates, dgates_hh, dh_state},
        stream_);
  }
  void rnn_backward(int B, int H, int t, const std::int32_t* lengths, const float* doutput,
                    float* gates, float* dh_state) {
    rnn_tanh_pointwise_backward_cuda(
        RnnTanhBackwardStep{B, H, t, lengths, doutput, gates, dh_state}, stream_);
  }

  void final_state(const float* state_seq, const std::int32_t* lengths, int B, int H,
                   float* out) {
    rnn_final_state_cuda(state_seq, lengths, B, H, out, stream_);
  }

  // LSTM and RNN: one column sum written to both bias gradients; GRU: two sums.
  void bias_gradients(const float* dgates, const float* dgates_hh, int rows, int width,
                      float* dbias_ih, float* dbias_hh, bool accumulate) {
    const std::size_t bytes = column_sum_scratch_bytes(rows, width);
    void* scratch = context_.scratch(bytes);
    if (dgates_hh == dgates) {
      column_sum_cuda(dgates, rows, width, dbias_ih, accumulate, scratch, bytes, stream_,
                      dbias_hh);
      return;
    }
    column_sum_cuda(dgates, rows, width, dbias_ih, accumulate, scratch, bytes, stream_);
    column_sum_cuda(dgates_hh, rows, width, dbias_hh, accumulate, scratch, bytes, stream_);
  }

  // data[0] = the sum over steps: a column sum of [steps, step_size] written over its own first
  // row (the second pass reads only the scratch, so the overlap is safe).
  void sum_steps(float* data, int steps, std::size_t step_size) {
    const int width = static_cast<int>(step_size);
    const std::size_t bytes = column_sum_scratch_bytes(steps, width);
    column_sum_cuda(data, steps, width, data, false, context_.scratch(bytes), bytes, stream_);
  }

 private:
  CudaContext& context_;
  cudaStream_t stream_;
  cublasHandle_t blas_;
};

}  // namespace

std::size_t rnn_workspace_size_cuda(const RnnDims& dims) {
  return RnnWorkspaceLayout(dims).total(dims.layers);
}

void rnn_forward_cuda(CudaContext& context, const RnnDims& dims,
                      const RnnLayerWeights<float>* weights, RnnInput<float> input,
                      const std::int32_t* lengths, const float* h0, const float* c0, float* y,
                      float* hn, float* cn, float* workspace) {
  CudaExecutor executor(context);
  rnn_stack_forward(executor, dims, weights, input, lengths, h0, c0, y, hn, cn, workspace);
}

void rnn_backward_cuda(CudaContext& context, const RnnDims& dims,
                       const RnnLayerWeights<float>* weights, RnnInput<float> input,
                       const std::int32_t* lengths, const float* dy, const float* dhn,
                       const float* dcn, float* dx, float* dh0, float* dc0,
                       const RnnLayerGrads<float>* grads, GradMode mode, float* workspace) {
  CudaExecutor executor(context);
  rnn_stack_backward(executor, dims, weights, input, lengths, dy, dhn, dcn, dx, dh0, dc0, grads,
                     mode, workspace);
}

}  // namespace s2s::cuda
