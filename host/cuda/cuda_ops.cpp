// CudaOps (host/cuda/cuda_ops.h) and make_cuda_ops: each op makes the device current and
// forwards to its launcher in kernels/ (or to the recurrent stack in host/cuda/cuda_rnn.cpp),
// passing the context's stream and, where a reduction needs it, the context's scratch.
#include "cuda/cuda_ops.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "cuda/cuda_attention.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_device_scope.h"
#include "cuda/cuda_devices.h"
#include "cuda/cuda_gemm.h"
#include "cuda/cuda_rnn.h"
#include "kernels/adam_step.h"
#include "kernels/additive_scores.h"
#include "kernels/argmax.h"
#include "kernels/beam_candidates.h"
#include "kernels/bias_add.h"
#include "kernels/clip_by_norm.h"
#include "kernels/column_sum.h"
#include "kernels/elementwise.h"
#include "kernels/embedding.h"
#include "kernels/global_norm.h"
#include "kernels/launch_shape.h"
#include "kernels/layout.h"
#include "kernels/log_softmax.h"
#include "kernels/masked_softmax.h"
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

void CudaOps::attention_scores(const float* query, const float* keys, int query_len,
                               int source_len, int batch, int width, float* scores) {
  DeviceScope scope(context_.device());
  attention_scores_cuda(context_, query, keys, query_len, source_len, batch, width, scores);
}

void CudaOps::attention_scores_backward(const float* query, const float* keys,
                                        const float* dscores, int query_len, int source_len,
                                        int batch, int width, float* dquery, float* dkeys,
                                        GradMode mode) {
  DeviceScope scope(context_.device());
  attention_scores_backward_cuda(context_, query, keys, dscores, query_len, source_len, batch,
                                 width, dquery, dkeys, mode);
}

void CudaOps::additive_scores(const float* query, const float* keys, const float* v,
                              int query_len, int source_len, int batch, int width,
                              float* scores) {
  DeviceScope scope(context_.device());
  additive_scores_cuda(AdditiveScoresArgs{query, keys, v, query_len, source_len, batch, width},
                       scores, context_.stream());
}

void CudaOps::additive_scores_backward(const float* query, const float* keys, const float* v,
                                       const float* dscores, int query_len, int source_len,
                                       int batch, int width, float* dquery, float* dkeys,
                                       float* dv, GradMode mode) {
  DeviceScope scope(context_.device());
  AdditiveScoresBackwardArgs args;
  args.in = AdditiveScoresArgs{query, keys, v, query_len, source_len, batch, width};
  args.dscores = dscores;
  args.dquery = dquery;
  args.dkeys = dkeys;
  args.accumulate = mode == GradMode::accumulate;
  const std::size_t bytes =
      additive_scores_backward_scratch_bytes(query_len, batch, width, dv != nullptr);
  void* scratch = bytes > 0 ? context_.scratch(bytes) : nullptr;
  additive_scores_backward_cuda(args, dv, scratch, bytes, context_.stream());
}

void CudaOps::masked_softmax(const float* scores, const std::int32_t* source_lengths,
                             int query_len, int source_len, int batch, float* weights) {
  DeviceScope scope(context_.device());
  masked_softmax_cuda(scores, source_lengths, query_len, source_len, batch, weights,
                      context_.stream());
}

void CudaOps::masked_softmax_backward(const float* weights, const float* dweights,
                                      const std::int32_t* source_lengths, int query_len,
                                      int source_len, int batch, float* dscores) {
  DeviceScope scope(context_.device());
  masked_softmax_backward_cuda(weights, dweights, source_lengths, query_len, source_len, batch,
                               dscores, context_.stream());
}

void CudaOps::attention_context(const float* weights, const float* values, int query_len,
                                int source_len, int batch, int width, float* context) {
  DeviceScope scope(context_.device());
  attention_context_cuda(context_, weights, values, query_len, source_len, batch, width,
                         context);
}

void CudaOps::attention_context_backward(const float* weights, const float* values,
                                         const float* dcontext, int query_len, int source_len,
                                         int batch, int width, float* dweights, float* dvalues,
                                         GradMode mode) {
  DeviceScope scope(context_.device());
  attention_context_backward_cuda(context_, weights, values, dcontext, query_len, source_len,
                                  batch, width, dweights, dvalues, mode);
}

void CudaOps::tanh_forward(const float* x, std::size_t n, float* y) {
  DeviceScope scope(context_.device());
  tanh_forward_cuda(x, n, y, context_.stream());
}

void CudaOps::tanh_backward(const float* y, const float* dy, std::size_t n, float* dx) {
  DeviceScope scope(context_.device());
  tanh_backward_cuda(y, dy, n, dx, context_.stream());
}

void CudaOps::concat_columns(const float* a, const float* b, int rows, int a_width, int b_width,
                             float* out) {
  DeviceScope scope(context_.device());
  concat_columns_cuda(a, b, rows, a_width, b_width, out, context_.stream());
}

void CudaOps::split_columns(const float* dout, int rows, int a_width, int b_width, float* da,
                            float* db, GradMode mode) {
  DeviceScope scope(context_.device());
  split_columns_cuda(dout, rows, a_width, b_width, da, db, mode == GradMode::accumulate,
                     context_.stream());
}

void CudaOps::multiply(const float* x, const float* mask, std::size_t n, float* out) {
  DeviceScope scope(context_.device());
  multiply_cuda(x, mask, n, out, context_.stream());
}

void CudaOps::accumulate(const float* x, std::size_t n, float* y) {
  DeviceScope scope(context_.device());
  accumulate_cuda(x, n, y, context_.stream());
}

void CudaOps::reverse_sequences(const float* x, const std::int32_t* lengths, int seq_len,
                                int batch, int width, float* out) {
  DeviceScope scope(context_.device());
  reverse_sequences_cuda(x, lengths, seq_len, batch, width, out, context_.stream());
}

void CudaOps::gather_rows(const float* x, const std::int32_t* index, int groups, int rows_in,
                          int rows_out, int width, float* out) {
  DeviceScope scope(context_.device());
  gather_rows_cuda(x, index, groups, rows_in, rows_out, width, out, context_.stream());
}

void CudaOps::log_softmax(const float* logits, int n, int vocab, float* out) {
  DeviceScope scope(context_.device());
  log_softmax_cuda(logits, n, vocab, out, context_.stream());
}

void CudaOps::beam_candidates(const float* log_probs, const float* beam_scores, int batch,
                              int beams, int vocab, int count, float* scores_out,
                              std::int32_t* ids_out) {
  // The kernel's limits (kernels/beam_candidates.h), said before anything is queued.
  const long long candidates = static_cast<long long>(beams) * vocab;
  if (candidates > std::numeric_limits<std::int32_t>::max())
    throw Error("beam search on the cuda backend: " + std::to_string(beams) + " beams x " +
                std::to_string(vocab) + " tokens = " + std::to_string(candidates) +
                " candidates per source; at most 2147483647 are allowed (ids are int32)");
  if (count > kMaxBeamCandidates)
    throw Error("beam search on the cuda backend selects at most " +
                std::to_string(kMaxBeamCandidates) + " candidates per source and step; " +
                std::to_string(count) + " were asked for (use a smaller beam size)");
  DeviceScope scope(context_.device());
  beam_candidates_cuda(BeamCandidatesArgs{log_probs, beam_scores, batch, beams, vocab, count},
                       scores_out, ids_out, context_.stream());
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
