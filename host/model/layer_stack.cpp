// LayerStack: recurrent layers one (layer, direction) at a time; see layer_stack.h.
#include "model/layer_stack.h"

#include "rnn_workspace.h"

namespace s2s {

template <typename T>
RnnDims LayerStack<T>::layer_dims(int layer) const {
  return RnnDims{shape_.cell,        1,
                 layer == 0 ? shape_.input_size : shape_.output_size(),
                 shape_.hidden_size, shape_.seq_len,
                 shape_.batch};
}

template <typename T>
std::size_t LayerStack<T>::state_offset(int direction, int layer) const {
  return (static_cast<std::size_t>(direction) * shape_.layers + layer) * shape_.batch *
         shape_.hidden_size;
}

// Grows b to n elements (never shrinks: steady-state training allocates nothing).
template <typename T>
T* LayerStack<T>::grow(Buffer<T>& b, std::size_t n) {
  if (n == 0) n = 1;
  if (b.size() < n) {
    b.reset();
    b = Buffer<T>(ops_->memory(), n);
  }
  return b.data();
}

template <typename T>
void LayerStack<T>::forward(const LayerStackShape& shape, const RnnLayerWeights<T>* weights,
                            RnnInput<T> input, const std::int32_t* reversed_tokens,
                            const std::int32_t* lengths, const T* h0, const T* c0,
                            const T* masks, T* hn, T* cn) {
  shape_ = shape;
  lengths_ = lengths;
  h0_ = h0;
  c0_ = c0;
  masks_ = masks;
  const int L = shape.layers, dirs = shape.directions, H = shape.hidden_size;
  const int T_ = shape.seq_len, B = shape.batch, D = shape.output_size();
  const std::size_t rows = static_cast<std::size_t>(T_) * B;
  const std::size_t state = static_cast<std::size_t>(B) * H;
  directions_.resize(static_cast<std::size_t>(L) * dirs);
  reversed_inputs_.resize(L);
  outputs_.resize(L);
  const bool lstm = shape.cell == CellType::lstm;

  RnnInput<T> in = input;
  T* layer_out = nullptr;
  for (int k = 0; k < L; ++k) {
    const RnnDims d = layer_dims(k);
    Direction& f = directions_[static_cast<std::size_t>(k) * dirs];
    f.input = in;
    T* ws = grow(f.workspace, ops_->rnn_workspace_size(d));
    ops_->rnn_forward(d, &weights[k * dirs], in, lengths, h0 ? h0 + k * state : nullptr,
                      lstm && c0 ? c0 + k * state : nullptr, /*y=*/nullptr,
                      hn ? hn + state_offset(0, k) : nullptr,
                      lstm && cn ? cn + state_offset(0, k) : nullptr, ws);
    // The outputs stay in the workspace (rnn_top_output), which rnn_backward only reads.
    layer_out = rnn_top_output(d, ws);
    if (dirs == 2) {
      // The reverse direction reads each sequence backwards within its own length (as
      // pack_padded_sequence does), so its first step is the sequence's last real token.
      Direction& r = directions_[static_cast<std::size_t>(k) * dirs + 1];
      RnnInput<T> reversed;
      if (in.tokens != nullptr) {
        reversed.tokens = reversed_tokens;
      } else {
        T* x = grow(reversed_inputs_[k], rows * d.input_size);
        ops_->reverse_sequences(in.x, lengths, T_, B, d.input_size, x);
        reversed.x = x;
      }
      r.input = reversed;
      T* rws = grow(r.workspace, ops_->rnn_workspace_size(d));
      ops_->rnn_forward(d, &weights[k * dirs + 1], reversed, lengths, nullptr, nullptr,
                        /*y=*/nullptr, hn ? hn + state_offset(1, k) : nullptr,
                        lstm && cn ? cn + state_offset(1, k) : nullptr, rws);
      T* in_time_order = grow(reverse_scratch_, rows * H);
      ops_->reverse_sequences(rnn_top_output(d, rws), lengths, T_, B, H, in_time_order);
      T* both = grow(outputs_[k], rows * D);
      ops_->concat_columns(layer_out, in_time_order, static_cast<int>(rows), H, H, both);
      layer_out = both;
    }
    if (masks != nullptr && k + 1 < L) {
      // Dropout between layers: layer k+1 reads the masked copy (in place when the
      // concatenation already is a copy).
      T* dropped = grow(outputs_[k], rows * D);
      ops_->multiply(layer_out, masks + k * rows * D, rows * D, dropped);
      layer_out = dropped;
    }
    in = RnnInput<T>{layer_out, nullptr};
  }
  output_ = layer_out;
}

template <typename T>
void LayerStack<T>::backward(const RnnLayerWeights<T>* weights, const T* dy, const T* dhn,
                             const T* dcn, T* dx, T* dh0, T* dc0,
                             const RnnLayerGrads<T>* grads) {
  const int L = shape_.layers, dirs = shape_.directions, H = shape_.hidden_size;
  const int T_ = shape_.seq_len, B = shape_.batch, D = shape_.output_size();
  const std::size_t rows = static_cast<std::size_t>(T_) * B;
  const std::size_t state = static_cast<std::size_t>(B) * H;
  const bool lstm = shape_.cell == CellType::lstm;

  // dlayer: the gradient w.r.t. layer k's output as the layer above (or the caller) read it.
  // Layer k writes its input gradient into the other of two buffers, which becomes dlayer of
  // layer k-1.
  const T* dlayer = dy;
  Buffer<T>* ping_pong[2] = {&gradient_a_, &gradient_b_};
  int next = 0;
  for (int k = L - 1; k >= 0; --k) {
    const RnnDims d = layer_dims(k);
    const std::size_t in_width = static_cast<std::size_t>(d.input_size);
    T* dinput = k > 0 ? grow(*ping_pong[next], rows * in_width) : dx;
    next = 1 - next;

    const T* dforward = dlayer;
    const T* dreverse = nullptr;
    if (dirs == 2 && dlayer != nullptr) {
      T* halves = grow(gradient_c_, 2 * rows * H);
      ops_->split_columns(dlayer, static_cast<int>(rows), H, H, halves, halves + rows * H,
                          GradMode::overwrite);
      // The reverse direction saw its outputs in reversed order: so does their gradient.
      T* reversed = grow(reverse_scratch_, rows * H);
      ops_->reverse_sequences(halves + rows * H, lengths_, T_, B, H, reversed);
      dforward = halves;
      dreverse = reversed;
    }

    const Direction& f = directions_[static_cast<std::size_t>(k) * dirs];
    ops_->rnn_backward(d, &weights[k * dirs], f.input, lengths_, h0_ ? h0_ + k * state : nullptr,
                       lstm && c0_ ? c0_ + k * state : nullptr, dforward,
                       dhn ? dhn + state_offset(0, k) : nullptr,
                       lstm && dcn ? dcn + state_offset(0, k) : nullptr, dinput,
                       dh0 ? dh0 + k * state : nullptr, lstm && dc0 ? dc0 + k * state : nullptr,
                       &grads[k * dirs], GradMode::overwrite,
                       directions_[static_cast<std::size_t>(k) * dirs].workspace.data());
    if (dirs == 2) {
      Direction& r = directions_[static_cast<std::size_t>(k) * dirs + 1];
      T* dreversed_input = dinput ? grow(gradient_d_, 2 * rows * in_width) : nullptr;
      ops_->rnn_backward(d, &weights[k * dirs + 1], r.input, lengths_, nullptr, nullptr,
                         dreverse, dhn ? dhn + state_offset(1, k) : nullptr,
                         lstm && dcn ? dcn + state_offset(1, k) : nullptr, dreversed_input,
                         nullptr, nullptr, &grads[k * dirs + 1], GradMode::overwrite,
                         r.workspace.data());
      if (dinput != nullptr) {
        T* in_time_order = dreversed_input + rows * in_width;
        ops_->reverse_sequences(dreversed_input, lengths_, T_, B, static_cast<int>(in_width),
                                in_time_order);
        ops_->accumulate(in_time_order, rows * in_width, dinput);
      }
    }
    if (k > 0) {
      if (masks_ != nullptr)
        ops_->multiply(dinput, masks_ + (k - 1) * rows * D, rows * D, dinput);
      dlayer = dinput;
    }
  }
}

template class LayerStack<float>;
template class LayerStack<double>;

}  // namespace s2s
