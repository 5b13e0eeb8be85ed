// Bridge: a bidirectional encoder's final states to the decoder's initial states.
#include "model/bridge.h"

namespace s2s {

namespace {
template <typename T>
T* grow(Memory& memory, Buffer<T>& b, std::size_t n) {
  if (b.size() < n) {
    b.reset();
    b = Buffer<T>(memory, n);
  }
  return b.data();
}
}  // namespace

template <typename T>
void Bridge<T>::forward(BridgeKind kind, int layers, int first_layer, int batch, int hidden,
                        const T* states, const std::vector<const T*>& weights,
                        const std::vector<const T*>& biases, T* out) {
  kind_ = kind;
  layers_ = layers;
  first_layer_ = first_layer;
  batch_ = batch;
  hidden_ = hidden;
  const std::size_t n = static_cast<std::size_t>(layers) * batch * hidden;
  const std::size_t block = static_cast<std::size_t>(batch) * hidden;
  if (kind == BridgeKind::sum) {
    ops_->memory().copy(out, states, n * sizeof(T));
    ops_->accumulate(states + n, n, out);
    return;
  }
  if (first_layer > 0) ops_->memory().zero(out, first_layer * block * sizeof(T));
  // Layer k's [h_forward ; h_reverse] rows, then its own linear map.
  T* both = grow(ops_->memory(), concatenated_, 2 * (layers - first_layer) * block);
  for (int k = first_layer; k < layers; ++k) {
    const std::size_t i = static_cast<std::size_t>(k - first_layer);
    ops_->concat_columns(states + k * block, states + n + k * block, batch, hidden, hidden,
                         both + 2 * i * block);
    ops_->linear_forward(both + 2 * i * block, weights[i], biases[i], batch, 2 * hidden, hidden,
                         out + k * block);
  }
}

template <typename T>
void Bridge<T>::backward(const std::vector<const T*>& weights, const T* dout, T* dstates,
                         const std::vector<T*>& dweights, const std::vector<T*>& dbiases) {
  const std::size_t n = static_cast<std::size_t>(layers_) * batch_ * hidden_;
  const std::size_t block = static_cast<std::size_t>(batch_) * hidden_;
  if (kind_ == BridgeKind::sum) {
    ops_->memory().copy(dstates, dout, n * sizeof(T));
    ops_->memory().copy(dstates + n, dout, n * sizeof(T));
    return;
  }
  if (first_layer_ > 0) {
    ops_->memory().zero(dstates, first_layer_ * block * sizeof(T));
    ops_->memory().zero(dstates + n, first_layer_ * block * sizeof(T));
  }
  T* dboth = grow(ops_->memory(), dconcatenated_, 2 * (layers_ - first_layer_) * block);
  for (int k = first_layer_; k < layers_; ++k) {
    const std::size_t i = static_cast<std::size_t>(k - first_layer_);
    ops_->linear_backward(concatenated_.data() + 2 * i * block, weights[i], dout + k * block,
                          batch_, 2 * hidden_, hidden_, dboth + 2 * i * block, dweights[i],
                          dbiases[i], GradMode::overwrite);
    ops_->split_columns(dboth + 2 * i * block, batch_, hidden_, hidden_, dstates + k * block,
                        dstates + n + k * block, GradMode::overwrite);
  }
}

template class Bridge<float>;
template class Bridge<double>;

}  // namespace s2s
