// The recurrent stack's workspace layout, used by the shared orchestration (host/rnn_stack.h,
// whose header comment documents it) on every backend, so that they compute into the same
// places and agree on its size.
#pragma once

#include <algorithm>
#include <cstddef>

#include "s2s/backend.h"

namespace s2s {

// Sizes and offsets of the workspace layout; all in elements.
struct RnnWorkspaceLayout {
  std::size_t gates = 0;       // T*B*G*H
  std::size_t state_seq = 0;   // (T+1)*B*H, for hseq and cseq
  std::size_t sequence = 0;    // T*B*H, for hh_new and dlayer_output
  std::size_t state = 0;       // B*H
  std::size_t per_layer = 0;   // cache of one layer
  std::size_t scratch = 0;     // the shared region after all layers' caches

  explicit RnnWorkspaceLayout(const RnnDims& dims) {
    const std::size_t G = static_cast<std::size_t>(gate_count(dims.cell));
    const std::size_t H = static_cast<std::size_t>(dims.hidden_size);
    const std::size_t T = static_cast<std::size_t>(dims.seq_len);
    const std::size_t B = static_cast<std::size_t>(dims.batch);
    gates = T * B * G * H;
    state_seq = (T + 1) * B * H;
    sequence = T * B * H;
    state = B * H;
    per_layer = gates + state_seq;
    if (dims.cell == CellType::lstm) per_layer += state_seq;
    if (dims.cell == CellType::gru) per_layer += sequence;

    const std::size_t forward_scratch = B * G * H;
    std::size_t backward_scratch = state;
    if (dims.cell == CellType::lstm) backward_scratch += state;
    if (dims.cell == CellType::gru) backward_scratch += gates;
    if (dims.layers > 1) backward_scratch += sequence;
    scratch = std::max(forward_scratch, backward_scratch);
  }

  std::size_t total(int layers) const {
    return static_cast<std::size_t>(layers) * per_layer + scratch;
  }
};

// Views of one layer's cache inside the workspace.
template <typename T>
struct LayerCache {
  T* gates = nullptr;
  T* hseq = nullptr;
  T* cseq = nullptr;    // LSTM only
  T* hh_new = nullptr;  // GRU only
};

template <typename T>
LayerCache<T> layer_cache(const RnnDims& dims, const RnnWorkspaceLayout& layout, T* workspace,
                          int layer) {
  LayerCache<T> cache;
  T* p = workspace + static_cast<std::size_t>(layer) * layout.per_layer;
  cache.gates = p;
  p += layout.gates;
  cache.hseq = p;
  p += layout.state_seq;
  if (dims.cell == CellType::lstm) {
    cache.cseq = p;
    p += layout.state_seq;
  }
  if (dims.cell == CellType::gru) cache.hh_new = p;
  return cache;
}

// The top layer's outputs [T, B, H] as rnn_forward leaves them in the workspace (hseq slots
// 1..T): the same values as its y, so a caller that needs them until the backward pass can
// read them here instead of storing a copy (activations stored once). rnn_backward reads hseq
// and does not write it.
template <typename T>
T* rnn_top_output(const RnnDims& dims, T* workspace) {
  const RnnWorkspaceLayout layout(dims);
  return layer_cache(dims, layout, workspace, dims.layers - 1).hseq + layout.state;
}

// rnn_backward's views of the scratch region after the layers' caches.
template <typename T>
struct BackwardScratch {
  T* dh_state = nullptr;       // [B, H]
  T* dc_state = nullptr;       // [B, H], LSTM only
  T* dgates_hh_gru = nullptr;  // [T, B, G*H], GRU only
  T* dlayer_output = nullptr;  // [T, B, H], only when layers > 1
};

template <typename T>
BackwardScratch<T> backward_scratch(const RnnDims& dims, const RnnWorkspaceLayout& layout,
                                    T* workspace) {
  BackwardScratch<T> views;
  T* p = workspace + static_cast<std::size_t>(dims.layers) * layout.per_layer;
  views.dh_state = p;
  p += layout.state;
  if (dims.cell == CellType::lstm) {
    views.dc_state = p;
    p += layout.state;
  }
  if (dims.cell == CellType::gru) {
    views.dgates_hh_gru = p;
    p += layout.gates;
  }
  if (dims.layers > 1) views.dlayer_output = p;
  return views;
}

}  // namespace s2s
