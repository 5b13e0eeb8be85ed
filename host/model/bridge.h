// The bridge from a bidirectional encoder's final states to the decoder's initial states,
// layer by layer (docs/CHECKPOINT.md): `sum` adds the two directions' states; `linear` maps
// their concatenation [forward ; reverse] through one linear layer per decoder layer.
#pragma once

#include <vector>

#include "s2s/backend.h"
#include "s2s/buffer.h"

namespace s2s {

template <typename T>
class Bridge {
 public:
  explicit Bridge(Ops<T>& ops) : ops_(&ops) {}

  // states: [2, L, B, H] the encoder's final states, forward direction first (LayerStack's hn
  //   or cn), must stay valid until backward.
  // first_layer: linear maps layers first_layer..L-1 only (a repeat decoder reads the top
  //   layer alone); the rows of the layers below are zeroed. The sum adds every layer.
  // weights, biases (linear only; empty for sum): L - first_layer entries, [H, 2H] and [H].
  // out: [L, B, H] overwritten.
  void forward(BridgeKind kind, int layers, int first_layer, int batch, int hidden,
               const T* states, const std::vector<const T*>& weights,
               const std::vector<const T*>& biases, T* out);

  // After forward: dout [L, B, H]; dstates [2, L, B, H] overwritten (zeros below first_layer
  // for linear); dweights, dbiases (linear only) like weights, overwritten.
  void backward(const std::vector<const T*>& weights, const T* dout, T* dstates,
                const std::vector<T*>& dweights, const std::vector<T*>& dbiases);

 private:
  Ops<T>* ops_;
  BridgeKind kind_ = BridgeKind::sum;
  int layers_ = 0, first_layer_ = 0, batch_ = 0, hidden_ = 0;
  Buffer<T> concatenated_, dconcatenated_;  // [L - first_layer, B, 2H]
};

}  // namespace s2s
