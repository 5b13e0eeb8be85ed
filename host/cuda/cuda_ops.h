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
