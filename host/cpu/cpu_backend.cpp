// The CPU backend: host memory (CpuMemory) and the Ops<T> that forward to the reference free
// functions of host/cpu/*_cpu.cpp. make_cpu_ops<T>() is how the rest of the library gets one.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>

#include "cpu/ops_cpu.h"
#include "s2s/backend.h"
#include "s2s/error.h"

namespace s2s {
namespace {

// 64 bytes: one cache line and one AVX-512 vector, so no array starts mid-line.
constexpr std::size_t kCpuAlignment = 64;

std::string byte_count_text(std::size_t bytes) {
  std::string text = std::to_string(bytes) + " bytes";
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  if (static_cast<double>(bytes) >= kGiB / 10) {
    const double gib = static_cast<double>(bytes) / kGiB;
    const std::string number = std::to_string(gib);
    text += " (" + number.substr(0, number.find('.') + 2) + " GiB)";
  }
  return text;
}

class CpuMemory final : public Memory {
 public:
  // Never returns nullptr: 0 bytes still give a distinct, releasable pointer, so a null pointer
  // keeps meaning "not given" to the ops.
  void* allocate(std::size_t bytes) override {
    const std::size_t asked = bytes == 0 ? kCpuAlignment : bytes;
    // The nothrow form turns a failure into nullptr, which becomes the Error the interface
    // promises instead of a bad_alloc escaping the library. Sizes within one alignment of
    // SIZE_MAX are refused first: some runtimes round the size up to the alignment, which would
    // wrap to a tiny block.
    void* pointer = nullptr;
    if (asked <= std::numeric_limits<std::size_t>::max() - kCpuAlignment)
      pointer = ::operator new(asked, std::align_val_t{kCpuAlignment}, std::nothrow);
    if (pointer == nullptr) {
      throw Error("CPU backend: cannot allocate " + byte_count_text(bytes) +
                  " of host memory; use smaller batches or sizes, or free memory");
    }
    return pointer;
  }
  void release(void* pointer) noexcept override {
    ::operator delete(pointer, std::align_val_t{kCpuAlignment});
  }
  // memcpy with 0 bytes and a null pointer is undefined, hence the guards.
  void upload(void* destination, const void* host_source, std::size_t bytes) override {
    if (bytes > 0) std::memcpy(destination, host_source, bytes);
  }
  void download(void* host_destination, const void* source, std::size_t bytes) override {
    if (bytes > 0) std::memcpy(host_destination, source, bytes);
  }
  void copy(void* destination, const void* source, std::size_t bytes) override {
    if (bytes > 0) std::memcpy(destination, source, bytes);
  }
  void zero(void* destination, std::size_t bytes) override {
    if (bytes > 0) std::memset(destination, 0, bytes);
  }
  void synchronize() override {}
};

// Pure forwarding: the semantics live in the free functions, which tests also call directly.
template <typename T>
class CpuOps final : public Ops<T> {
 public:
  BackendKind kind() const override { return BackendKind::cpu; }
  Memory& memory() override { return memory_; }

  bool supports_repeated_input() const override { return true; }
  std::size_t rnn_workspace_size(const RnnDims& dims) const override {
    return cpu::rnn_workspace_size_cpu(dims);
  }
  void rnn_forward(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                   const std::int32_t* lengths, const T* h0, const T* c0, T* y, T* hn, T* cn,
                   T* workspace) override {
    cpu::rnn_forward_cpu<T>(dims, weights, input, lengths, h0, c0, y, hn, cn, workspace);
  }
  void rnn_backward(const RnnDims& dims, const RnnLayerWeights<T>* weights, RnnInput<T> input,
                    const std::int32_t* lengths, const T* h0, const T* c0, const T* dy,
                    const T* dhn, const T* dcn, T* dx, T* dh0, T* dc0,
                    const RnnLayerGrads<T>* grads, GradMode mode, T* workspace) override {
    cpu::rnn_backward_cpu<T>(dims, weights, input, lengths, h0, c0, dy, dhn, dcn, dx, dh0, dc0,
                             grads, mode, workspace);
  }

  void embedding_forward(const T* table, const std::int32_t* tokens, int n, int vocab,
                         int embedding_size, T* out) override {
    cpu::embedding_forward_cpu<T>(table, tokens, n, vocab, embedding_size, out);
  }
  void embedding_backward(const std::int32_t* tokens, const T* dout, int n, int vocab,
                          int embedding_size, T* dtable, GradMode mode) override {
    cpu::embedding_backward_cpu<T>(tokens, dout, n, vocab, embedding_size, dtable, mode);
  }

  void linear_forward(const T* x, const T* weight, const T* bias, int n, int in_features,
                      int out_features, T* y) override {
    cpu::linear_forward_cpu<T>(x, weight, bias, n, in_features, out_features, y);
  }
  void linear_backward(const T* x, const T* weight, const T* dy, int n, int in_features,
                       int out_features, T* dx, T* dweight, T* dbias, GradMode mode) override {
    cpu::linear_backward_cpu<T>(x, weight, dy, n, in_features, out_features, dx, dweight, dbias,
                                mode);
  }

  void softmax_cross_entropy(const T* logits, const std::int32_t* targets,
                             const std::int32_t* lengths, int seq_len, int batch, int vocab,
                             T* loss, T* dlogits) override {
    cpu::softmax_cross_entropy_cpu<T>(logits, targets, lengths, seq_len, batch, vocab, loss,
                                      dlogits);
  }
  void mse(const T* prediction, const T* target, const std::int32_t* lengths, int seq_len,
           int batch, int features, T* loss, T* dprediction) override {
    cpu::mse_cpu<T>(prediction, target, lengths, seq_len, batch, features, loss, dprediction);
  }
  void argmax(const T* logits, int n, int vocab, std::int32_t* out) override {
    cpu::argmax_cpu<T>(logits, n, vocab, out);
  }

  void beam_candidates(const T* log_probs, const T* beam_scores, int batch, int beams, int vocab,
                       int count, T* scores_out, std::int32_t* ids_out) override {
    cpu::beam_candidates_cpu<T>(log_probs, beam_scores, batch, beams, vocab, count, scores_out,
                                ids_out);
  }

  void repeat_forward(const T* x, int seq_len, int batch, int width, T* out) override {
    cpu::repeat_forward_cpu<T>(x, seq_len, batch, width, out);
  }
  void repeat_backward(const T* dout, int seq_len, int batch, int width, T* dx,
                       GradMode mode) override {
    cpu::repeat_backward_cpu<T>(dout, seq_len, batch, width, dx, mode);
  }

  void attention_scores(const T* query, const T* keys, int query_len, int source_len,
                        int batch, int width, T* scores) override {
    cpu::attention_scores_cpu<T>(query, keys, query_len, source_len, batch, width, scores);
  }
  void attention_scores_backward(const T* query, const T* keys, const T* dscores,
                                 int query_len, int source_len, int batch, int width, T* dquery,
                                 T* dkeys, GradMode mode) override {
    cpu::attention_scores_backward_cpu<T>(query, keys, dscores, query_len, source_len, batch,
                                          width, dquery, dkeys, mode);
  }
  void additive_scores(const T* query, const T* keys, const T* v, int query_len, int source_len,
                       int batch, int width, T* scores) override {
    cpu::additive_scores_cpu<T>(query, keys, v, query_len, source_len, batch, width, scores);
  }
  void additive_scores_backward(const T* query, const T* keys, const T* v, const T* dscores,
                                int query_len, int source_len, int batch, int width, T* dquery,
                                T* dkeys, T* dv, GradMode mode) override {
    cpu::additive_scores_backward_cpu<T>(query, keys, v, dscores, query_len, source_len, batch,
                                         width, dquery, dkeys, dv, mode);
  }
  void masked_softmax(const T* scores, const std::int32_t* source_lengths, int query_len,
                      int source_len, int batch, T* weights) override {
    cpu::masked_softmax_cpu<T>(scores, source_lengths, query_len, source_len, batch, weights);
  }
  void masked_softmax_backward(const T* weights, const T* dweights,
                               const std::int32_t* source_lengths, int query_len, int source_len,
                               int batch, T* dscores) override {
    cpu::masked_softmax_backward_cpu<T>(weights, dweights, source_lengths, query_len,
                                        source_len, batch, dscores);
  }
  void attention_context(const T* weights, const T* values, int query_len, int source_len,
                         int batch, int width, T* context) override {
    cpu::attention_context_cpu<T>(weights, values, query_len, source_len, batch, width, context);
  }
  void attention_context_backward(const T* weights, const T* values, const T* dcontext,
                                  int query_len, int source_len, int batch, int width,
                                  T* dweights, T* dvalues, GradMode mode) override {
    cpu::attention_context_backward_cpu<T>(weights, values, dcontext, query_len, source_len,
                                           batch, width, dweights, dvalues, mode);
  }

  // Elementwise, layout and decoding ops (host/cpu/elementwise_cpu.cpp, layout_cpu.cpp,
  // loss_cpu.cpp).
  void tanh_forward(const T* x, std::size_t n, T* y) override { cpu::tanh_forward_cpu<T>(x, n, y); }
  void tanh_backward(const T* y, const T* dy, std::size_t n, T* dx) override {
    cpu::tanh_backward_cpu<T>(y, dy, n, dx);
  }
  void concat_columns(const T* a, const T* b, int rows, int a_width, int b_width,
                      T* out) override {
    cpu::concat_columns_cpu<T>(a, b, rows, a_width, b_width, out);
  }
  void split_columns(const T* dout, int rows, int a_width, int b_width, T* da, T* db,
                     GradMode mode) override {
    cpu::split_columns_cpu<T>(dout, rows, a_width, b_width, da, db, mode);
  }
  void multiply(const T* x, const T* mask, std::size_t n, T* out) override {
    cpu::multiply_cpu<T>(x, mask, n, out);
  }
  void accumulate(const T* x, std::size_t n, T* y) override { cpu::accumulate_cpu<T>(x, n, y); }
  void reverse_sequences(const T* x, const std::int32_t* lengths, int seq_len, int batch,
                         int width, T* out) override {
    cpu::reverse_sequences_cpu<T>(x, lengths, seq_len, batch, width, out);
  }
  void gather_rows(const T* x, const std::int32_t* index, int groups, int rows_in, int rows_out,
                   int width, T* out) override {
    cpu::gather_rows_cpu<T>(x, index, groups, rows_in, rows_out, width, out);
  }
  void log_softmax(const T* logits, int n, int vocab, T* out) override {
    cpu::log_softmax_cpu<T>(logits, n, vocab, out);
  }

  void global_norm(const T* x, std::size_t n, T* out) override {
    cpu::global_norm_cpu<T>(x, n, out);
  }
  void clip_by_norm(T* x, std::size_t n, const T* norm, T max_norm) override {
    cpu::clip_by_norm_cpu<T>(x, n, norm, max_norm);
  }
  void sgd_step(T* params, const T* grads, T* velocity, std::size_t n, T lr,
                T momentum) override {
    cpu::sgd_step_cpu<T>(params, grads, velocity, n, lr, momentum);
  }
  void adam_step(T* params, const T* grads, T* m, T* v, std::size_t n, T lr, T beta1, T beta2,
                 T eps, std::int64_t step) override {
    cpu::adam_step_cpu<T>(params, grads, m, v, n, lr, beta1, beta2, eps, step);
  }

 private:
  CpuMemory memory_;
};

}  // namespace

template <>
std::unique_ptr<Ops<float>> make_cpu_ops<float>() {
  return std::make_unique<CpuOps<float>>();
}

template <>
std::unique_ptr<Ops<double>> make_cpu_ops<double>() {
  return std::make_unique<CpuOps<double>>();
}

}  // namespace s2s
