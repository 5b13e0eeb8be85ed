// CudaOps (host/cuda/cuda_ops.h) and make_cuda_ops: each op makes the device current and
// forwards to its launcher in kernels/ (or to the recurrent stack in host/cuda/cuda_rnn.cpp),
// passing the context's stream and, where a reduction needs it, the context's scratch.
#include "cuda/cuda_ops.h"

#include <memory>

#include "cuda/cuda_check.h"
#include "cuda/cuda_device_scope.h"
#include "cuda/cuda_devices.h"
#include "cuda/cuda_gemm.h"
#include "cuda/cuda_rnn.h"
#include "kernels/adam_step.h"
#include "kernels/argmax.h"
#include "kernels/bias_add.h"
#include "kernels/clip_by_norm.h"
#include "kernels/column_sum.h"
#include "kernels/embedding.h"
#include "kernels/global_norm.h"
#include "kernels/mse.h"
#include "kernels/repeat.h"
#include "kernels/sgd_step.h"
#include "kernels/softmax_cross_entropy.h"

namespace s2s {
namespace cuda {
namespace {

// Checks the device before anything is created on it, so the error names the real problem.
int checked_device(int device) {
  check_cuda_device(device);
  return device;
}

}  // namespace

CudaOps::CudaOps(int device, CudaContextOptions options)
    : context_(checked_device(device), options), memory_(device, context_.stream()) {}

std::size_t CudaOps::rnn_workspace_size(const RnnDims& dims) const {
  return rnn_workspace_size_cuda(dims);
}

void CudaOps::rnn_forward(const RnnDims& dims, const RnnLayerWeights<float>* weights,
                          RnnInput<float> input, const std::int32_t* lengths, const float* h0,
                          const float* c0, float* y, float* hn, float* cn, float* workspace) {
  DeviceScope scope(context_.device());
  rnn_forward_cuda(context_, dims, weights, input, lengths, h0, c0, y, hn, cn, workspace);
}

void CudaOps::rnn_backward(const RnnDims& dims, const RnnLayerWeights<float>* weights,
                           RnnInput<float> input, const std::int32_t* lengths,
                           const float* /*h0: cached by rnn_forward*/,
                           const float* /*c0: cached by rnn_forward*/, const float* dy,
                           const float* dhn, const float* dcn, float* dx, float* dh0, float* dc0,
                           const RnnLayerGrads<float>* grads, GradMode mode, float* workspace) {
  DeviceScope scope(context_.device());
  rnn_backward_cuda(context_, dims, weights, input, lengths, dy, dhn, dcn, dx, dh0, dc0, grads,
                    mode, workspace);
}

void CudaOps::embedding_forward(const float* table, const std::int32_t* tokens, int n, int vocab,
                                int embedding_size, float* out) {
  DeviceScope scope(context_.device());
  embedding_forward_cuda(table, tokens, n, vocab, embedding_size, out, context_.stream());
}

void CudaOps::embedding_backward(const std::int32_t* tokens, const float* dout, int n, int vocab,
                                 int embedding_size, float* dtable, GradMode mode) {
  DeviceScope scope(context_.device());
  const std::size_t bytes = embedding_backward_scratch_bytes(n, vocab);
  void* scratch = context_.scratch(bytes);
  embedding_backward_cuda(tokens, dout, n, vocab, embedding_size, dtable,
                          mode == GradMode::accumulate, scratch, bytes, context_.stream());
}

void CudaOps::linear_forward(const float* x, const float* weight, const float* bias, int n,
                             int in_features, int out_features, float* y) {
  DeviceScope scope(context_.device());
  // y [N, Out] = x [N, In] * weight^T [In, Out]; beta = 0 does not read y.
  gemm(context_.blas(), false, true, n, out_features, in_features, 1.0f, x, in_features, weight,
       in_features, 0.0f, y, out_features);
  if (bias != nullptr) bias_add_cuda(y, bias, n, out_features, context_.stream());
}

void CudaOps::linear_backward(const float* x, const float* weight, const float* dy, int n,
                              int in_features, int out_features, float* dx, float* dweight,
                              float* dbias, GradMode mode) {
  DeviceScope scope(context_.device());
  cublasHandle_t blas = context_.blas();
  // dx [N, In] = dy [N, Out] * weight [Out, In]; always overwritten (an activation gradient).
  if (dx != nullptr)
    gemm(blas, false, false, n, in_features, out_features, 1.0f, dy, out_features, weight,
         in_features, 0.0f, dx, in_features);
  // The mode becomes GEMM's beta: 0 overwrites (without reading the old values), 1 adds.
  const bool accumulate = mode == GradMode::accumulate;
  if (dweight != nullptr)
    gemm(blas, true, false, out_features, in_features, n, 1.0f, dy, out_features, x, in_features,
         accumulate ? 1.0f : 0.0f, dweight, in_features);
  if (dbias != nullptr) {
    const std::size_t bytes = column_sum_scratch_bytes(n, out_features);
    column_sum_cuda(dy, n, out_features, dbias, accumulate, context_.scratch(bytes), bytes,
                    context_.stream());
  }
}

void CudaOps::softmax_cross_entropy(const float* logits, const std::int32_t* targets,
                                    const std::int32_t* lengths, int seq_len, int batch,
                                    int vocab, float* loss, float* dlogits) {
  DeviceScope scope(context_.device());
  const std::size_t bytes = softmax_cross_entropy_scratch_bytes(seq_len, batch);
  softmax_cross_entropy_cuda(logits, targets, lengths, seq_len, batch, vocab, loss, dlogits,
                             context_.scratch(bytes), bytes, context_.stream());
}

void CudaOps::mse(const float* prediction, const float* target, const std::int32_t* lengths,
                  int seq_len, int batch, int features, float* loss, float* dprediction) {
  DeviceScope scope(context_.device());
  const std::size_t bytes = mse_scratch_bytes(seq_len, batch);
  mse_cuda(prediction, target, lengths, seq_len, batch, features, loss, dprediction,
           context_.scratch(bytes), bytes, context_.stream());
}

void CudaOps::argmax(const float* logits, int n, int vocab, std::int32_t* out) {
  DeviceScope scope(context_.device());
  argmax_cuda(logits, n, vocab, out, context_.stream());
}

void CudaOps::repeat_forward(const float* x, int seq_len, int batch, int width, float* out) {
  DeviceScope scope(context_.device());
  repeat_forward_cuda(x, seq_len, batch, width, out, context_.stream());
}

void CudaOps::repeat_backward(const float* dout, int seq_len, int batch, int width, float* dx,
                              GradMode mode) {
  DeviceScope scope(context_.device());
  repeat_backward_cuda(dout, seq_len, batch, width, dx, mode == GradMode::accumulate,
                       context_.stream());
}

void CudaOps::global_norm(const float* x, std::size_t n, float* out) {
  DeviceScope scope(context_.device());
  const std::size_t bytes = global_norm_scratch_bytes(n);
  global_norm_cuda(x, n, out, context_.scratch(bytes), bytes, context_.stream());
}

void CudaOps::clip_by_norm(float* x, std::size_t n, const float* norm, float max_norm) {
  DeviceScope scope(context_.device());
  clip_by_norm_cuda(x, n, norm, max_norm, context_.stream());
}

void CudaOps::sgd_step(float* params, const float* grads, float* velocity, std::size_t n,
                       float lr, float momentum) {
  DeviceScope scope(context_.device());
  sgd_step_cuda(params, grads, velocity, n, lr, momentum, context_.stream());
}

void CudaOps::adam_step(float* params, const float* grads, float* m, float* v, std::size_t n,
                        float lr, float beta1, float beta2, float eps, std::int64_t step) {
  DeviceScope scope(context_.device());
  adam_step_cuda(params, grads, m, v, n, lr, beta1, beta2, eps, step, context_.stream());
}

}  // namespace cuda

std::unique_ptr<Ops<float>> make_cuda_ops(int device, Precision precision) {
  cuda::CudaContextOptions options;
  options.allow_tf32 = precision == Precision::tf32;
  return std::make_unique<cuda::CudaOps>(device, options);
}

}  // namespace s2s
