// CudaOps: the backend interface (include/s2s/backend.h) on one CUDA device, float32: cuBLAS
// GEMMs and the kernels of kernels/, all queued on one stream (host/cuda/cuda_context.h). The
// library reaches it through make_cuda_ops(); the GPU tests and benchmarks may construct it
// directly to reach its stream. Internal to host/cuda/; includes CUDA headers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cuda/cuda_context.h"
#include "cuda/cuda_memory.h"
#include "s2s/backend.h"

namespace s2s::cuda {

// Every op makes the device current for its duration, queues its work on the context's stream
// and returns without waiting for the device (scalar results such as the loss and the norm stay
// in device memory); Memory::download, which waits for the stream, is where the host meets the
// results. Semantics, arguments and nullability are exactly those of Ops<float>.
class CudaOps final : public Ops<float> {
 public:
  // Throws Error when `device` is not a usable CUDA device this build has code for.
  explicit CudaOps(int device, CudaContextOptions options = {});

  BackendKind kind() const override { return BackendKind::cuda; }
  Memory& memory() override { return memory_; }
  CudaContext& context() { return context_; }

  std::size_t rnn_workspace_size(const RnnDims& dims) const override;
  // The repeat decoder's input is projected once per sequence, as on the CPU.
  bool supports_repeated_input() const override { return true; }
  void rnn_forward(const RnnDims& dims, const RnnLayerWeights<float>* weights,
                   RnnInput<float> input, const std::int32_t* lengths, const float* h0,
                   const float* c0, float* y, float* hn, float* cn, float* workspace) override;
  void rnn_backward(const RnnDims& dims, const RnnLayerWeights<float>* weights,
                    RnnInput<float> input, const std::int32_t* lengths, const float* h0,
                    const float* c0, const float* dy, const float* dhn, const float* dcn,
                    float* dx, float* dh0, float* dc0, const RnnLayerGrads<float>* grads,
                    GradMode mode, float* workspace) override;

  void embedding_forward(const float* table, const std::int32_t* tokens, int n, int vocab,
                         int embedding_size, float* out) override;
  void embedding_backward(const std::int32_t* tokens, const float* dout, int n, int vocab,
                          int embedding_size, float* dtable, GradMode mode) override;

  void linear_forward(const float* x, const float* weight, const float* bias, int n,
                      int in_features, int out_features, float* y) override;
  void linear_backward(const float* x, const float* weight, const float* dy, int n,
                       int in_features, int out_features, float* dx, float* dweight,
                       float* dbias, GradMode mode) override;

  void softmax_cross_entropy(const float* logits, const std::int32_t* targets,
                             const std::int32_t* lengths, int seq_len, int batch, int vocab,
                             float* loss, float* dlogits) override;
  void mse(const float* prediction, const float* target, const std::int32_t* lengths,
           int seq_len, int batch, int features, float* loss, float* dprediction) override;
  void argmax(const float* logits, int n, int vocab, std::int32_t* out) override;

  void repeat_forward(const float* x, int seq_len, int batch, int width, float* out) override;
  void repeat_backward(const float* dout, int seq_len, int batch, int width, float* dx,
                       GradMode mode) override;

  // Attention (host/cuda/cuda_attention.cpp: strided batched GEMMs on the context's handle, so
  // Precision::tf32 reaches them as it reaches linear's), its softmax and additive score
  // (kernels/masked_softmax.h, kernels/additive_scores.h).
  void attention_scores(const float* query, const float* keys, int query_len, int source_len,
                        int batch, int width, float* scores) override;
  void attention_scores_backward(const float* query, const float* keys, const float* dscores,
                                 int query_len, int source_len, int batch, int width,
                                 float* dquery, float* dkeys, GradMode mode) override;
  void additive_scores(const float* query, const float* keys, const float* v, int query_len,
                       int source_len, int batch, int width, float* scores) override;
  void additive_scores_backward(const float* query, const float* keys, const float* v,
                                const float* dscores, int query_len, int source_len, int batch,
                                int width, float* dquery, float* dkeys, float* dv,
                                GradMode mode) override;
  void masked_softmax(const float* scores, const std::int32_t* source_lengths, int query_len,
                      int source_len, int batch, float* weights) override;
  void masked_softmax_backward(const float* weights, const float* dweights,
                               const std::int32_t* source_lengths, int query_len,
                               int source_len, int batch, float* dscores) override;
  void attention_context(const float* weights, const float* values, int query_len,
                         int source_len, int batch, int width, float* context) override;
  void attention_context_backward(const float* weights, const float* values,
                                  const float* dcontext, int query_len, int source_len,
                                  int batch, int width, float* dweights, float* dvalues,
                                  GradMode mode) override;

  // Elementwise and layout (kernels/elementwise.h, kernels/layout.h).
  void tanh_forward(const float* x, std::size_t n, float* y) override;
  void tanh_backward(const float* y, const float* dy, std::size_t n, float* dx) override;
  void concat_columns(const float* a, const float* b, int rows, int a_width, int b_width,
                      float* out) override;
  void split_columns(const float* dout, int rows, int a_width, int b_width, float* da,
                     float* db, GradMode mode) override;
  void multiply(const float* x, const float* mask, std::size_t n, float* out) override;
  void accumulate(const float* x, std::size_t n, float* y) override;
  void reverse_sequences(const float* x, const std::int32_t* lengths, int seq_len, int batch,
                         int width, float* out) override;
  void gather_rows(const float* x, const std::int32_t* index, int groups, int rows_in,
                   int rows_out, int width, float* out) override;

  // Decoding (kernels/log_softmax.h, kernels/beam_candidates.h). beam_candidates throws Error
  // when count exceeds kMaxBeamCandidates (kernels/launch_shape.h) or beams * V does not fit
  // an int32 id.
  void log_softmax(const float* logits, int n, int vocab, float* out) override;
  void beam_candidates(const float* log_probs, const float* beam_scores, int batch, int beams,
                       int vocab, int count, float* scores_out, std::int32_t* ids_out) override;

  void global_norm(const float* x, std::size_t n, float* out) override;
  void clip_by_norm(float* x, std::size_t n, const float* norm, float max_norm) override;
  void sgd_step(float* params, const float* grads, float* velocity, std::size_t n, float lr,
                float momentum) override;
  void adam_step(float* params, const float* grads, float* m, float* v, std::size_t n, float lr,
                 float beta1, float beta2, float eps, std::int64_t step) override;

 private:
  // The context first: the memory queues its copies on the context's stream.
  CudaContext context_;
  CudaMemory memory_;
};

}  // namespace s2s::cuda
