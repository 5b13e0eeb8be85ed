// A stack of recurrent layers run one layer (and one direction) at a time: what a
// bidirectional encoder needs (layer k+1 reads both directions of layer k) and what dropout
// between layers needs (a mask between two layers). Built only from backend ops (rnn_forward
// with one layer, reverse_sequences, concat_columns, split_columns, multiply, accumulate), so
// every backend runs it. A plain stack without dropout keeps the fused rnn_forward instead.
#pragma once

#include <cstdint>
#include <vector>

#include "s2s/backend.h"
#include "s2s/buffer.h"

namespace s2s {

// What a LayerStack runs: L layers of `cell`, each with 1 or 2 directions, over [T, B] steps.
struct LayerStackShape {
  CellType cell = CellType::lstm;
  int layers = 1;
  int directions = 1;  // 2: a forward and a reverse direction per layer (PyTorch bidirectional)
  int input_size = 0;  // In of layer 0; layer k > 0 reads directions * H
  int hidden_size = 0;
  int seq_len = 0;
  int batch = 0;
  int output_size() const { return directions * hidden_size; }
};

template <typename T>
class LayerStack {
 public:
  explicit LayerStack(Ops<T>& ops) : ops_(&ops) {}

  // weights: host array of layers * directions entries, (layer, direction) order
  //   (direction 0 forward, 1 reverse), layer k's weight_ih [G*H, In_k].
  // input: layer 0's input [T, B, In] (or x_repeated [B, In]: single direction only); must stay
  //   valid until backward.
  // reversed_tokens: [T, B] one-hot input reversed within each length, for the reverse
  //   direction; needed only when input.tokens is set and directions == 2.
  // lengths: [B] in [1, T]. h0, c0: [L, B, H] direction 0's initial states, nullable (zeros);
  //   must be null when directions == 2 (an encoder starts from zeros).
  // masks: [L-1, T, B, D] dropout masks (D = output_size()) multiplied into layer k's output
  //   before layer k+1 reads it, nullable (no dropout).
  // hn, cn: [directions, L, B, H] final states, direction-major (the reverse direction's final
  //   state is the one after reading the sequence's first token), nullable; cn LSTM only.
  void forward(const LayerStackShape& shape, const RnnLayerWeights<T>* weights,
               RnnInput<T> input, const std::int32_t* reversed_tokens,
               const std::int32_t* lengths, const T* h0, const T* c0, const T* masks, T* hn,
               T* cn);

  // The top layer's outputs [T, B, D] of the last forward ([forward ; reverse] columns, in time
  // order, zeros at padded steps); valid until the next forward.
  T* output() const { return output_; }

  // After forward (same everything): dy [T, B, D] gradient w.r.t. output(), nullable (zeros);
  // dhn, dcn [directions, L, B, H] w.r.t. hn and cn, nullable; dx [T, B, In] (or [B, In] for
  // x_repeated) overwritten, nullable, must be null for one-hot input; dh0, dc0 [L, B, H]
  // overwritten, nullable; grads: host array like weights, overwritten.
  void backward(const RnnLayerWeights<T>* weights, const T* dy, const T* dhn, const T* dcn,
                T* dx, T* dh0, T* dc0, const RnnLayerGrads<T>* grads);

 private:
  struct Direction {
    Buffer<T> workspace;
    RnnInput<T> input;  // what rnn_forward read (time-reversed for the reverse direction)
  };
  RnnDims layer_dims(int layer) const;
  std::size_t state_offset(int direction, int layer) const;
  T* grow(Buffer<T>& b, std::size_t n);

  Ops<T>* ops_;
  LayerStackShape shape_;
  const std::int32_t* lengths_ = nullptr;
  const T* h0_ = nullptr;
  const T* c0_ = nullptr;
  const T* masks_ = nullptr;
  std::vector<Direction> directions_;        // layers * directions
  std::vector<Buffer<T>> reversed_inputs_;   // per layer: its input reversed (directions == 2)
  std::vector<Buffer<T>> outputs_;           // per layer: [T, B, D] concatenated or masked
  Buffer<T> reverse_scratch_, gradient_a_, gradient_b_, gradient_c_, gradient_d_;
  T* output_ = nullptr;
};

}  // namespace s2s
