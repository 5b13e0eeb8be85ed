// Attention of a teacher-forcing decoder over the encoder's outputs (docs/CHECKPOINT.md has the
// equations): Luong dot and general, Bahdanau additive, masked over padded source positions,
// followed by Luong's attentional layer h~ = tanh(W_out [c ; h]). Written once against the
// backend ops, so it runs wherever they do.
//
// One object serves a batch: bind() it to the encoder's outputs, then forward() query steps
// (all Tt at once without input feeding, one at a time with it, or one decoding step at a time
// through attend()), then backward() the same chunks in reverse and finish_backward() for the
// gradient w.r.t. the encoder's outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/config.h"

namespace s2s {

// The attention tensors' names (PyTorch state_dict style) and shapes, in buffer order, for
// parameter_layout; empty without attention. D = encoder_output_size, H = hidden_size.
struct AttentionTensor {
  std::string name;
  std::int64_t rows = 0;
  std::int64_t columns = 0;  // 0: a vector [rows]
};
std::vector<AttentionTensor> attention_tensors(const ModelConfig& config);

// Pointers into the parameter buffer (null where the kind has no such tensor).
template <typename T>
struct AttentionWeights {
  const T* linear_in = nullptr;       // general: [D, H]
  const T* linear_query = nullptr;    // additive: [H, H]
  const T* query_bias = nullptr;      // additive: [H]
  const T* linear_context = nullptr;  // additive: [H, D]
  const T* v = nullptr;               // additive: [1, H]
  const T* linear_out = nullptr;      // every kind: [H, D + H]
};
// The same tensors' gradients; backward() and finish_backward() add to them (the caller zeroes
// them once per batch: zero_gradients()).
template <typename T>
struct AttentionGrads {
  T* linear_in = nullptr;
  T* linear_query = nullptr;
  T* query_bias = nullptr;
  T* linear_context = nullptr;
  T* v = nullptr;
  T* linear_out = nullptr;
};

template <typename T>
class Attention {
 public:
  Attention(const ModelConfig& config, Ops<T>& ops);

  // Binds the encoder's outputs `memory` [Ts, N, D] (zeros at padded positions) and the source
  // lengths [N] (each in [1, Ts]) for query steps 0 .. steps-1 over N rows (N = B in training;
  // B*K when beam search has expanded the memory). The pointers must stay valid until the last
  // backward (or attend) of this binding. Additive attention projects the memory here, once.
  void bind(const AttentionWeights<T>& weights, const T* memory,
            const std::int32_t* source_lengths, int source_len, int rows, int steps);

  // Steps [first, first + count) of the query (the decoder's top-layer outputs) [count, N, H]
  // into the attentional vectors h~ [count, N, H] (may not alias query). Keeps what backward
  // needs; a later forward of the same steps replaces it.
  void forward(const T* query, int first, int count, T* attentional);

  // One decoding step: query [N, H] -> h~ [N, H] (bind with steps = 1 first). A step decoder
  // calls this after each one-step rnn_forward (seq2seq.cpp: Impl::attend, which also keeps h~
  // as the next step's input feed).
  void attend(const T* query, T* attentional) { forward(query, 0, 1, attentional); }

  // The attention weights [N, count, Ts] of steps [first, first + count) of the last forward
  // (for attention maps: one [N, Ts] matrix per decoding step when count = 1).
  const T* weights(int first, int count) const;

  // Before the first backward() of a batch: clears the gradient w.r.t. the memory.
  void begin_backward();
  // Steps [first, first + count) backward, after their forward: dattentional [count, N, H]
  // (d loss / d h~) -> dquery [count, N, H] overwritten; adds to the parameter gradients and to
  // the memory's gradient.
  void backward(const T* query, const T* dattentional, int first, int count, T* dquery,
                const AttentionGrads<T>& grads);
  // After the last backward(): d loss / d memory [Ts, N, D] (valid until the next bind).
  const T* finish_backward(const AttentionGrads<T>& grads);

 private:
  std::size_t step_rows(int count) const { return static_cast<std::size_t>(count) * rows_; }

  AttentionKind kind_;
  int hidden_ = 0;  // H
  int width_ = 0;   // D
  Ops<T>& ops_;

  AttentionWeights<T> w_;
  const T* memory_ = nullptr;
  const std::int32_t* lengths_ = nullptr;
  int source_len_ = 0, rows_ = 0, steps_ = 0;

  // Per-step caches over all bound steps, indexed by step: projected query [steps, N, D or H]
  // (general, additive), weights [steps][N, count, Ts] in chunks, context ++ query
  // [steps, N, D + H], h~ [steps, N, H].
  Buffer<T> keys_, query_proj_, weights_, joined_, attentional_;
  // Backward scratch.
  Buffer<T> dmemory_, dkeys_, djoined_, dpre_, dcontext_, dweights_, dscores_, dquery_proj_,
      dquery_extra_, dmemory_extra_;
};

}  // namespace s2s
