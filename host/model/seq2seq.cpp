// Seq2Seq written once against the backend interface: input -> encoder -> decoder -> head ->
// loss, its backward pass, optimizer updates and greedy decoding.
#include "s2s/seq2seq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "cpu/flush_denormals.h"
#include "model/attention.h"
#include "model/bridge.h"
#include "model/dropout_masks.h"
#include "model/layer_stack.h"
#include "model/parameters.h"
#include "rnn_workspace.h"
#include "s2s/buffer.h"
#include "s2s/error.h"
#include "s2s/random.h"
#include "s2s/vocab.h"

namespace s2s {

namespace {

// Grows b to hold at least n elements (never shrinks, so steady-state training allocates
// nothing) and returns its data.
template <typename U>
U* sized(Memory& memory, Buffer<U>& b, std::size_t n) {
  n = std::max<std::size_t>(n, 1);
  if (b.size() < n) {
    b.reset();
    b = Buffer<U>(memory, n);
  }
  return b.data();
}

// Uploads host values into b (grown as needed) and returns its data.
template <typename U, typename V>
U* upload_as(Memory& memory, Buffer<U>& b, const std::vector<V>& values) {
  U* data = sized(memory, b, values.size());
  if constexpr (std::is_same_v<U, V>) {
    if (!values.empty()) memory.upload(data, values.data(), values.size() * sizeof(U));
  } else {
    std::vector<U> converted(values.begin(), values.end());
    if (!converted.empty()) memory.upload(data, converted.data(), converted.size() * sizeof(U));
  }
  return data;
}

std::string position(int t, int b) {
  return "(t=" + std::to_string(t) + ", b=" + std::to_string(b) + ")";
}

// Checks one side (source or target) of a batch and returns its tokens with padded positions
// set to the pad id, so a backend never reads an id outside the vocabulary.
void check_lengths(const char* side, const std::vector<std::int32_t>& lengths, int batch,
                   int length) {
  require(length >= 1, std::string("batch: ") + side + "_length is " + std::to_string(length) +
                           " (allowed: 1 or more)");
  require(static_cast<int>(lengths.size()) == batch,
          std::string("batch: ") + side + "_lengths has " + std::to_string(lengths.size()) +
              " entries for a batch of " + std::to_string(batch));
  for (int b = 0; b < batch; ++b)
    if (lengths[b] < 1 || lengths[b] > length)
      throw Error(std::string("batch: ") + side + "_lengths[" + std::to_string(b) + "] is " +
                  std::to_string(lengths[b]) + " (allowed: 1 to " + side + "_length " +
                  std::to_string(length) + ")");
}

std::vector<std::int32_t> checked_tokens(const char* side, const std::vector<std::int32_t>& tokens,
                                         const std::vector<std::int32_t>& lengths, int batch,
                                         int length, int vocab) {
  const std::size_t expected = static_cast<std::size_t>(length) * batch;
  require(tokens.size() == expected, std::string("batch: ") + side + "_tokens has " +
                                         std::to_string(tokens.size()) + " values (expected " +
                                         side + "_length x batch_size = " +
                                         std::to_string(expected) + ")");
  std::vector<std::int32_t> clean(expected, Vocabulary::pad_id);
  for (int t = 0; t < length; ++t)
    for (int b = 0; b < batch; ++b) {
      if (t >= lengths[b]) continue;
      const std::int32_t id = tokens[static_cast<std::size_t>(t) * batch + b];
      if (id < 0 || id >= vocab)
        throw Error(std::string("batch: ") + side + " token " + std::to_string(id) + " at " +
                    position(t, b) + " is outside the vocabulary (allowed: 0 to " +
                    std::to_string(vocab - 1) + ")");
      clean[static_cast<std::size_t>(t) * batch + b] = id;
    }
  return clean;
}

// Checks one side's features and returns them with padded rows zeroed: padded rows meet zero
// gradients inside the backend's GEMMs, and 0 * NaN would still poison a weight gradient.
std::vector<double> checked_features(const char* side, const std::vector<double>& values,
                                     const std::vector<std::int32_t>& lengths, int batch,
                                     int length, int features) {
  const std::size_t expected = static_cast<std::size_t>(length) * batch * features;
  require(values.size() == expected,
          std::string("batch: ") + side + "_features has " + std::to_string(values.size()) +
              " values (expected " + side + "_length x batch_size x " +
              std::to_string(features) + " features = " + std::to_string(expected) + ")");
  for (int t = 0; t < length; ++t)
    for (int b = 0; b < batch; ++b) {
      if (t >= lengths[b]) continue;
      for (int f = 0; f < features; ++f) {
        const double v = values[(static_cast<std::size_t>(t) * batch + b) * features + f];
        if (!std::isfinite(v))
          throw Error(std::string("batch: ") + side + "_features is " + std::to_string(v) +
                      " at " + position(t, b) + ", feature " + std::to_string(f) +
                      " (inputs must be finite numbers)");
      }
    }
  std::vector<double> clean(values);
  for (int t = 0; t < length; ++t)
    for (int b = 0; b < batch; ++b)
      if (t >= lengths[b])
        std::fill_n(clean.begin() + (static_cast<std::ptrdiff_t>(t) * batch + b) * features,
                    features, 0.0);
  return clean;
}

// Each sequence's tokens [T, B] reversed within its length (pad beyond it): the one-hot input of
// a bidirectional encoder's reverse direction, reversed on the host at upload.
std::vector<std::int32_t> reversed_within_lengths(const std::vector<std::int32_t>& tokens,
                                                  const std::vector<std::int32_t>& lengths,
                                                  int length, int batch) {
  std::vector<std::int32_t> reversed(tokens.size(), Vocabulary::pad_id);
  for (int b = 0; b < batch; ++b)
    for (int t = 0; t < lengths[b] && t < length; ++t)
      reversed[static_cast<std::size_t>(t) * batch + b] =
          tokens[static_cast<std::size_t>(lengths[b] - 1 - t) * batch + b];
  return reversed;
}

}  // namespace

template <typename T>
struct BasicSeq2Seq<T>::Impl {
  ModelConfig config;
  BackendKind backend;
  std::unique_ptr<Ops<T>> ops;
  std::vector<ParameterInfo> layout;
  Buffer<T> params, grads;

  bool has_optimizer = false;
  OptimizerConfig optimizer;
  std::int64_t step = 0;
  Buffer<T> moment1, moment2;  // Adam m and v, or SGD velocity in moment1

  // Per-batch activations, grown on demand and reused.
  Buffer<std::int32_t> src_tokens, src_lengths, dec_tokens, tgt_tokens, tgt_lengths, ones,
      argmax_out;
  Buffer<T> src_x, enc_h, enc_c, enc_ws, dec_x, dec_y, dec_h0, dec_c0, dec_ws, out,
      dout, dec_dy, dec_dx, enc_dh, enc_dc, enc_dx, scalars, tgt_features;

  // The head's input of the last forward(): the decoder's outputs (inside its workspace) or h~,
  // or their dropped-out copy in dec_dropped.
  T* dec_out = nullptr;

  // Attention (model/attention.h), when the config has it; and its per-batch buffers: h~ and its
  // gradient [Tt, B, H], the query's gradient; with input feeding the per-step recurrent inputs
  // [Tt, B, In + H], states [(Tt + 1), L, B, H], the step inputs' gradient, the previous
  // step's h~ (feed_prev: zeros at the first step) and the one-hot table.
  std::unique_ptr<Attention<T>> attention;
  Buffer<T> att_out, att_dout, att_dquery, feed_x, feed_h, feed_c, feed_dx, feed_dh, feed_dc,
      feed_din, feed_prev, one_hot_table;
  T* memory = nullptr;   // the encoder's outputs [Ts, B, D] when kept (encoder_forward)

  // Bidirectional encoders and dropout between layers run the stacks layer by layer.
  std::uint64_t seed = 0;  // of the dropout masks (set_dropout_seed)
  // A data-parallel rank draws its own masks for its own shard (rank 0's are a single process's).
  std::uint64_t mask_rank = 0;
  static constexpr std::uint64_t kRankSeedStride = 0x632BE59BD9B4E019ULL;
  LayerStack<T> enc_stack, dec_stack;
  Bridge<T> bridge_h, bridge_c;
  Buffer<std::int32_t> src_tokens_reversed;  // one-hot sources for the reverse direction
  Buffer<T> enc_states_h, enc_states_c, enc_dstates_h, enc_dstates_c;  // [2, L, B, H]
  // This forward pass's dropout masks (null: none), inside dropout_masks; prepare() clears them
  // so that nothing but a training forward (or fixed masks) ever applies them.
  Buffer<T> dropout_masks, dec_dropped;
  const T* enc_masks = nullptr;   // [L-1, Ts, B, D]
  const T* dec_masks = nullptr;   // [L-1, Tt, B, H]
  const T* head_mask = nullptr;   // [Tt, B, H]
  bool masks_fixed = false;       // fix_dropout_masks: the same masks in every forward pass
  std::uint64_t fixed_mask_seed = 0;

  // The batch as uploaded by prepare().
  int B = 0, Ts = 0, Tt = 0;

  Impl(const ModelConfig& c, BackendKind kind, Precision precision)
      : config((c.validate(), c)),
        ops(make_ops<T>(resolve_backend(kind), precision)),
        enc_stack(*ops),
        dec_stack(*ops),
        bridge_h(*ops),
        bridge_c(*ops) {
    backend = ops->kind();
    layout = parameter_layout(config);
    const std::size_t n = layout.back().offset + layout.back().size();
    params = Buffer<T>(ops->memory(), n);
    grads = Buffer<T>(ops->memory(), n);
    grads.zero();
    sized(ops->memory(), scalars, 2);
    if (config.attention != AttentionKind::none)
      attention = std::make_unique<Attention<T>>(config, *ops);
  }

  Memory& mem() { return ops->memory(); }
  std::size_t count() const { return params.size(); }
  const ParameterInfo& info(const std::string& name) const {
    for (const auto& p : layout)
      if (p.name == name) return p;
    throw Error("model has no parameter '" + name + "'");
  }
  T* param(const std::string& name) { return params.data() + info(name).offset; }
  T* grad(const std::string& name) { return grads.data() + info(name).offset; }

  // Weights and gradients of every (layer, direction), PyTorch's `_reverse` names for the
  // reverse direction, in LayerStack's order.
  std::vector<RnnLayerWeights<T>> stack_weights(const std::string& prefix, int directions) {
    std::vector<RnnLayerWeights<T>> w;
    for (int k = 0; k < config.layers; ++k)
      for (int d = 0; d < directions; ++d) {
        const std::string l = std::to_string(k) + (d == 1 ? "_reverse" : "");
        w.push_back({param(prefix + ".weight_ih_l" + l), param(prefix + ".weight_hh_l" + l),
                     param(prefix + ".bias_ih_l" + l), param(prefix + ".bias_hh_l" + l)});
      }
    return w;
  }
  std::vector<RnnLayerGrads<T>> stack_grads(const std::string& prefix, int directions) {
    std::vector<RnnLayerGrads<T>> g;
    for (int k = 0; k < config.layers; ++k)
      for (int d = 0; d < directions; ++d) {
        const std::string l = std::to_string(k) + (d == 1 ? "_reverse" : "");
        g.push_back({grad(prefix + ".weight_ih_l" + l), grad(prefix + ".weight_hh_l" + l),
                     grad(prefix + ".bias_ih_l" + l), grad(prefix + ".bias_hh_l" + l)});
      }
    return g;
  }
  int encoder_directions() const { return config.bidirectional ? 2 : 1; }
  std::vector<RnnLayerWeights<T>> rnn_weights(const std::string& prefix) {
    return stack_weights(prefix, 1);
  }
  std::vector<RnnLayerGrads<T>> rnn_grads(const std::string& prefix) {
    return stack_grads(prefix, 1);
  }

  RnnDims dims(int input_size, int seq_len) const {
    return RnnDims{config.cell, config.layers, input_size, config.hidden_size, seq_len, B};
  }
  std::size_t state_size() const {
    return static_cast<std::size_t>(config.layers) * B * config.hidden_size;
  }
  bool is_lstm() const { return config.cell == CellType::lstm; }

  void initialise(std::uint64_t seed) {
    Rng rng(seed);
    std::vector<T> host(count());
    for (const auto& p : layout) {
      T* data = host.data() + p.offset;
      if (p.name.find(".embedding.") != std::string::npos) {
        for (std::size_t i = 0; i < p.size(); ++i) data[i] = static_cast<T>(rng.normal());
      } else {
        // PyTorch: RNN parameters U(-1/sqrt(H), 1/sqrt(H)); Linear U(-1/sqrt(in), 1/sqrt(in)),
        // and the head's input is the decoder's hidden state, so both bounds are 1/sqrt(H).
        // Attention's linear layers: PyTorch's U(-1/sqrt(in), 1/sqrt(in)) with in = columns;
        // a linear bridge reads [h_forward ; h_reverse]: its fan-in is 2H.
        const bool attention_tensor = p.name.rfind("decoder.attention.", 0) == 0;
        const double fan_in =
            attention_tensor && p.shape.size() == 2 ? static_cast<double>(p.shape[1])
            : p.name.find(".bridge_") != std::string::npos
                ? 2.0 * config.hidden_size
                : static_cast<double>(config.hidden_size);
        const double bound = 1.0 / std::sqrt(fan_in);
        for (std::size_t i = 0; i < p.size(); ++i)
          data[i] = static_cast<T>(rng.uniform(-bound, bound));
      }
    }
    params.upload(host);
  }

  // ---- batch upload and checks -------------------------------------------------------------

  // Checks the batch against the model and uploads the sources (and the targets when
  // with_targets). Nothing reaches the backend unless every check passed.
  void prepare(const Batch& batch, bool with_targets) {
    require(batch.batch_size >= 1, "batch: batch_size is " + std::to_string(batch.batch_size) +
                                       " (allowed: 1 or more)");
    const int b = batch.batch_size;
    check_lengths("source", batch.source_lengths, b, batch.source_length);
    std::vector<std::int32_t> src;
    std::vector<double> src_features, tgt_features_clean;
    if (config.input == InputKind::features) {
      src_features = checked_features("source", batch.source_features, batch.source_lengths, b,
                                      batch.source_length, config.source_features);
    } else {
      src = checked_tokens("source", batch.source_tokens, batch.source_lengths, b,
                           batch.source_length, config.source_vocab_size);
    }
    std::vector<std::int32_t> tgt;
    if (with_targets) {
      check_lengths("target", batch.target_lengths, b, batch.target_length);
      if (config.mode == DecoderMode::repeat && batch.target_length > config.max_target_length)
        throw Error("batch: target_length " + std::to_string(batch.target_length) +
                    " is longer than the model's max_target_length " +
                    std::to_string(config.max_target_length) +
                    " (a repeat-mode decoder writes a fixed number of steps)");
      if (config.output == OutputKind::tokens) {
        tgt = checked_tokens("target", batch.target_tokens, batch.target_lengths, b,
                             batch.target_length, config.target_vocab_size);
      } else {
        tgt_features_clean =
            checked_features("target", batch.target_features, batch.target_lengths, b,
                             batch.target_length, config.target_features);
      }
    }

    B = b;
    Ts = batch.source_length;
    enc_masks = dec_masks = head_mask = nullptr;
    upload_as(mem(), src_lengths, batch.source_lengths);
    if (config.input == InputKind::features)
      upload_as(mem(), src_x, src_features);
    else
      upload_as(mem(), src_tokens, src);
    if (config.bidirectional && config.input == InputKind::one_hot)
      upload_as(mem(), src_tokens_reversed,
                reversed_within_lengths(src, batch.source_lengths, Ts, B));
    if (!with_targets) return;
    Tt = batch.target_length;
    upload_as(mem(), tgt_lengths, batch.target_lengths);
    if (config.output == OutputKind::tokens) {
      upload_as(mem(), tgt_tokens, tgt);
      if (config.mode == DecoderMode::teacher_forcing) {
        // Decoder input at step t is target t-1; a start token first.
        std::vector<std::int32_t> shifted(tgt.size(), Vocabulary::pad_id);
        for (int i = 0; i < B; ++i) shifted[i] = Vocabulary::start_id;
        std::copy(tgt.begin(), tgt.end() - B, shifted.begin() + B);
        upload_as(mem(), dec_tokens, shifted);
      }
    } else {
      upload_as(mem(), tgt_features, tgt_features_clean);
      if (config.mode == DecoderMode::teacher_forcing) {
        // Decoder input at step t is target vector t-1; zeros first.
        const std::size_t row = static_cast<std::size_t>(B) * config.target_features;
        std::vector<double> shifted(tgt_features_clean.size(), 0.0);
        std::copy(tgt_features_clean.begin(), tgt_features_clean.end() - row,
                  shifted.begin() + row);
        upload_as(mem(), dec_x, shifted);
      }
    }
  }

  // ---- forward -----------------------------------------------------------------------------

  RnnInput<T> encoder_input() {
    const int vocab = config.source_vocab_size;
    switch (config.input) {
      case InputKind::embedding: {
        T* x = sized(mem(), src_x, static_cast<std::size_t>(Ts) * B * config.embedding_size);
        ops->embedding_forward(param("encoder.embedding.weight"), src_tokens.data(), Ts * B,
                               vocab, config.embedding_size, x);
        return {x, nullptr};
      }
      case InputKind::one_hot: return {nullptr, src_tokens.data()};
      case InputKind::features: return {src_x.data(), nullptr};
    }
    return {};
  }

  // Runs the encoder over the uploaded sources: the decoder's initial states [L, B, H] into
  // enc_h and enc_c, and, when keep_outputs (attention reads them), the encoder's outputs
  // [Ts, B, D] (D = encoder_output_size) in `memory`, valid until the next encoder_forward.
  void encoder_forward(bool keep_outputs = false) {
    if (config.bidirectional || enc_masks != nullptr) {
      stacked_encoder_forward(keep_outputs);
      return;
    }
    const RnnDims d = dims(encoder_input_size(config), Ts);
    auto w = rnn_weights("encoder.rnn");
    // No y: the top layer's outputs are in the workspace (rnn_top_output), so they are not
    // stored a second time.
    T* h = sized(mem(), enc_h, state_size());
    T* c = sized(mem(), enc_c, state_size());
    T* ws = sized(mem(), enc_ws, ops->rnn_workspace_size(d));
    ops->rnn_forward(d, w.data(), encoder_input(), src_lengths.data(), nullptr, nullptr,
                     /*y=*/nullptr, h, is_lstm() ? c : nullptr, ws);
    memory = keep_outputs ? rnn_top_output(d, ws) : nullptr;
  }

  // The encoder's backward pass after encoder_forward: dmemory [Ts, B, D] the gradient w.r.t.
  // `memory` (nullable: none), dh and dc [L, B, H] w.r.t. the decoder's initial states (dc
  // nullable; LSTM only). Overwrites the encoder's parameter gradients.
  void encoder_backward(const T* dmemory, const T* dh, const T* dc) {
    if (config.bidirectional || enc_masks != nullptr) {
      stacked_encoder_backward(dmemory, dh, dc);
      return;
    }
    const RnnDims ed = dims(encoder_input_size(config), Ts);
    const RnnInput<T> ein = current_encoder_input();
    const bool embed = config.input == InputKind::embedding;
    T* edx = embed ? sized(mem(), enc_dx, static_cast<std::size_t>(Ts) * B * ed.input_size)
                   : nullptr;
    auto ew = rnn_weights("encoder.rnn");
    auto eg = rnn_grads("encoder.rnn");
    ops->rnn_backward(ed, ew.data(), ein, src_lengths.data(), nullptr, nullptr, dmemory, dh,
                      is_lstm() ? dc : nullptr, edx, nullptr, nullptr, eg.data(),
                      GradMode::overwrite, enc_ws.data());
    if (embed)
      ops->embedding_backward(src_tokens.data(), edx, Ts * B, config.source_vocab_size,
                              config.embedding_size, grad("encoder.embedding.weight"),
                              GradMode::overwrite);
  }

  // encoder_forward layer by layer (LayerStack): both directions, dropout between layers, and
  // the bridge from the two directions' final states to the decoder's initial states.
  void stacked_encoder_forward(bool keep_outputs) {
    const int dirs = encoder_directions();
    const LayerStackShape shape{config.cell, config.layers, dirs, encoder_input_size(config),
                                config.hidden_size, Ts, B};
    const std::size_t S = state_size();
    T* h = sized(mem(), enc_h, S);
    T* c = sized(mem(), enc_c, S);
    T* hn = dirs == 2 ? sized(mem(), enc_states_h, 2 * S) : h;
    T* cn = dirs == 2 ? sized(mem(), enc_states_c, 2 * S) : c;
    const auto w = stack_weights("encoder.rnn", dirs);
    enc_stack.forward(shape, w.data(), encoder_input(), src_tokens_reversed.data(),
                      src_lengths.data(), nullptr, nullptr, enc_masks, hn,
                      is_lstm() ? cn : nullptr);
    if (dirs == 2) {
      const int first = bridge_first_layer(config);
      bridge_h.forward(config.bridge, config.layers, first, B, config.hidden_size, hn,
                       bridge_params("h"), bridge_params("h", "bias"), h);
      if (bridges_cell_state())
        bridge_c.forward(config.bridge, config.layers, first, B, config.hidden_size, cn,
                         bridge_params("c"), bridge_params("c", "bias"), c);
    }
    memory = keep_outputs ? enc_stack.output() : nullptr;
  }

  void stacked_encoder_backward(const T* dmemory, const T* dh, const T* dc) {
    const int dirs = encoder_directions();
    const T* dhn = dh;
    const T* dcn = is_lstm() ? dc : nullptr;
    if (dirs == 2) {
      const std::size_t S = state_size();
      T* dstates_h = sized(mem(), enc_dstates_h, 2 * S);
      bridge_h.backward(bridge_params("h"), dh, dstates_h, bridge_grads("h"),
                        bridge_grads("h", "bias"));
      dhn = dstates_h;
      // A repeat decoder reads no cell state (dc is null): no gradient reaches cn.
      if (bridges_cell_state() && dc != nullptr) {
        T* dstates_c = sized(mem(), enc_dstates_c, 2 * S);
        bridge_c.backward(bridge_params("c"), dc, dstates_c, bridge_grads("c"),
                          bridge_grads("c", "bias"));
        dcn = dstates_c;
      } else {
        dcn = nullptr;
      }
    }
    const bool embed = config.input == InputKind::embedding;
    const int in = encoder_input_size(config);
    T* edx = embed ? sized(mem(), enc_dx, static_cast<std::size_t>(Ts) * B * in) : nullptr;
    const auto w = stack_weights("encoder.rnn", dirs);
    const auto g = stack_grads("encoder.rnn", dirs);
    enc_stack.backward(w.data(), dmemory, dhn, dcn, edx, nullptr, nullptr, g.data());
    if (embed)
      ops->embedding_backward(src_tokens.data(), edx, Ts * B, config.source_vocab_size,
                              config.embedding_size, grad("encoder.embedding.weight"),
                              GradMode::overwrite);
  }

  // Whether the decoder starts from a bridged cell state (LSTM; for a linear bridge only under
  // teacher forcing, as a repeat decoder reads no encoder cell state).
  bool bridges_cell_state() const {
    if (!is_lstm()) return false;
    return config.bridge == BridgeKind::sum || config.mode == DecoderMode::teacher_forcing;
  }
  // A linear bridge's tensors for state "h" or "c" (empty for the sum bridge).
  std::vector<const T*> bridge_params(const std::string& state,
                                      const std::string& kind = "weight") {
    std::vector<const T*> p;
    if (config.bridge != BridgeKind::linear) return p;
    for (int i = 0; i < config.layers - bridge_first_layer(config); ++i)
      p.push_back(param(bridge_prefix(state, i) + "." + kind));
    return p;
  }
  std::vector<T*> bridge_grads(const std::string& state, const std::string& kind = "weight") {
    std::vector<T*> g;
    if (config.bridge != BridgeKind::linear) return g;
    for (int i = 0; i < config.layers - bridge_first_layer(config); ++i)
      g.push_back(grad(bridge_prefix(state, i) + "." + kind));
    return g;
  }

  // Draws this forward pass's dropout masks when it trains (or the masks are fixed):
  // inverted dropout, kept values scaled by 1/(1-p), from s2s::Rng seeded from (seed, step) on
  // the host, so a seed gives the same masks on every backend.
  void draw_dropout_masks(bool training) {
    enc_masks = dec_masks = head_mask = nullptr;
    if (config.dropout <= 0 || !(training || masks_fixed)) return;
    const std::size_t between = static_cast<std::size_t>(config.layers - 1);
    const std::size_t enc_n = between * Ts * B * encoder_output_size(config);
    const std::size_t dec_n = between * Tt * B * config.hidden_size;
    const std::size_t head_n = static_cast<std::size_t>(Tt) * B * config.hidden_size;
    const std::vector<T> host = dropout_mask_values<T>(
        masks_fixed ? fixed_mask_seed : dropout_seed(seed + kRankSeedStride * mask_rank, step),
        config.dropout,
        enc_n + dec_n + head_n);
    const T* m = upload_as(mem(), dropout_masks, host);
    if (between > 0) {
      enc_masks = m;
      dec_masks = m + enc_n;
    }
    head_mask = m + enc_n + dec_n;
  }

  // The decoder's layer-0 input over Tt steps (teacher forcing from the uploaded targets;
  // repeat from the encoder's top final hidden state).
  RnnInput<T> decoder_input() {
    const std::size_t H = config.hidden_size;
    if (config.mode == DecoderMode::repeat) {
      if (ops->supports_repeated_input()) return repeated_decoder_input();
      T* x = sized(mem(), dec_x, static_cast<std::size_t>(Tt) * B * H);
      ops->repeat_forward(encoder_top_state(), Tt, B, static_cast<int>(H), x);
      return {x, nullptr};
    }
    if (config.output == OutputKind::features) return {dec_x.data(), nullptr};
    if (decoder_uses_embedding(config)) {
      T* x = sized(mem(), dec_x, static_cast<std::size_t>(Tt) * B * config.embedding_size);
      ops->embedding_forward(param("decoder.embedding.weight"), dec_tokens.data(), Tt * B,
                             config.target_vocab_size, config.embedding_size, x);
      return {x, nullptr};
    }
    return {nullptr, dec_tokens.data()};
  }

  // Runs the whole forward pass over the prepared batch; leaves the loss in scalars[0] and,
  // when want_gradient, d(loss)/d(head output) in dout.
  void forward(bool want_gradient) {
    draw_dropout_masks(want_gradient);
    encoder_forward(has_attention());
    const bool tf = config.mode == DecoderMode::teacher_forcing;
    T* y = nullptr;  // what the head reads (before dropout): decoder outputs or h~
    if (config.input_feed) {
      forward_input_feed();
      y = att_out.data();
    } else {
      const RnnDims d = dims(decoder_rnn_input_size(config), Tt);
      auto w = rnn_weights("decoder.rnn");
      if (dec_masks != nullptr) {
        const LayerStackShape shape{config.cell, config.layers, 1, d.input_size,
                                    config.hidden_size, Tt, B};
        dec_stack.forward(shape, w.data(), decoder_input(), nullptr, tgt_lengths.data(),
                          tf ? enc_h.data() : nullptr, tf && is_lstm() ? enc_c.data() : nullptr,
                          dec_masks, nullptr, nullptr);
        y = dec_stack.output();
      } else {
        T* ws = sized(mem(), dec_ws, ops->rnn_workspace_size(d));
        // The head reads the decoder's outputs where its cache holds them (rnn_top_output): one
        // copy of [Tt, B, H] instead of two, valid until the next decoder forward.
        ops->rnn_forward(d, w.data(), decoder_input(), tgt_lengths.data(),
                         tf ? enc_h.data() : nullptr, tf && is_lstm() ? enc_c.data() : nullptr,
                         /*y=*/nullptr, nullptr, nullptr, ws);
        y = rnn_top_output(d, ws);
      }
      if (has_attention()) {
        // Without input feeding no step waits for another's attention: all Tt steps at once.
        attention->bind(attention_weights(), memory, src_lengths.data(), Ts, B, Tt);
        T* a = sized(mem(), att_out, static_cast<std::size_t>(Tt) * B * config.hidden_size);
        attention->forward(y, 0, Tt, a);
        y = a;
      }
    }
    const int V = output_size(config);
    const std::size_t rows = static_cast<std::size_t>(Tt) * B;
    dec_out = y;
    if (head_mask != nullptr) {
      dec_out = sized(mem(), dec_dropped, rows * config.hidden_size);
      ops->multiply(y, head_mask, rows * config.hidden_size, dec_out);
    }
    T* o = sized(mem(), out, rows * V);
    ops->linear_forward(dec_out, param("decoder.out.weight"), param("decoder.out.bias"),
                        static_cast<int>(rows), config.hidden_size, V, o);
    T* g = want_gradient ? sized(mem(), dout, rows * V) : nullptr;
    if (config.output == OutputKind::tokens)
      ops->softmax_cross_entropy(o, tgt_tokens.data(), tgt_lengths.data(), Tt, B, V,
                                 scalars.data(), g);
    else
      ops->mse(o, tgt_features.data(), tgt_lengths.data(), Tt, B, V, scalars.data(), g);
  }

  // ---- backward (every parameter gradient is written by exactly one op: overwrite) ----------

  void backward() {
    const std::size_t H = config.hidden_size;
    const bool tf = config.mode == DecoderMode::teacher_forcing;
    const int V = output_size(config);
    const std::size_t rows = static_cast<std::size_t>(Tt) * B;

    T* dy = sized(mem(), dec_dy, rows * H);
    ops->linear_backward(dec_out, param("decoder.out.weight"), dout.data(),
                         static_cast<int>(rows), static_cast<int>(H), V, dy,
                         grad("decoder.out.weight"), grad("decoder.out.bias"),
                         GradMode::overwrite);
    if (head_mask != nullptr) ops->multiply(dy, head_mask, rows * H, dy);
    if (config.input_feed) {
      backward_input_feed(dy);
      return;
    }

    const RnnDims dd = dims(decoder_rnn_input_size(config), Tt);
    const T* dmemory = nullptr;
    if (has_attention()) {
      // dy is d loss / d h~ so far; through attention it becomes d loss / d decoder output.
      zero_attention_grads();
      attention->begin_backward();
      T* dq = sized(mem(), att_dquery, rows * H);
      const T* query = dec_masks != nullptr ? dec_stack.output() : rnn_top_output(dd, dec_ws.data());
      attention->backward(query, dy, 0, Tt, dq, attention_grads());
      dmemory = attention->finish_backward(attention_grads());
      dy = dq;
    }
    const RnnInput<T> din = current_decoder_input();
    // The decoder's input gradient is wanted only where it flows on to parameters.
    const bool want_ddx = !tf || decoder_uses_embedding(config);
    T* dh = sized(mem(), enc_dh, state_size());
    T* dc = sized(mem(), enc_dc, state_size());
    // Repeat with a repeated input: dx is [B, H], the sum over steps, which is exactly the top
    // layer's dhn for the encoder; lower layers and cell states reach the decoder not at all.
    const bool repeated = din.x_repeated;
    if (repeated) mem().zero(dh, state_size() * sizeof(T));
    T* ddx = repeated ? dh + static_cast<std::size_t>(config.layers - 1) * B * H
             : want_ddx ? sized(mem(), dec_dx, rows * dd.input_size)
                        : nullptr;
    auto dw = rnn_weights("decoder.rnn");
    auto dg = rnn_grads("decoder.rnn");
    if (dec_masks != nullptr)
      dec_stack.backward(dw.data(), dy, nullptr, nullptr, ddx, tf ? dh : nullptr,
                         tf && is_lstm() ? dc : nullptr, dg.data());
    else
      ops->rnn_backward(dd, dw.data(), din, tgt_lengths.data(), tf ? enc_h.data() : nullptr,
                        tf && is_lstm() ? enc_c.data() : nullptr, dy, nullptr, nullptr, ddx,
                        tf ? dh : nullptr, tf && is_lstm() ? dc : nullptr, dg.data(),
                        GradMode::overwrite, dec_ws.data());

    if (tf) {
      if (decoder_uses_embedding(config))
        ops->embedding_backward(dec_tokens.data(), ddx, static_cast<int>(rows),
                                config.target_vocab_size, config.embedding_size,
                                grad("decoder.embedding.weight"), GradMode::overwrite);
    } else if (!repeated) {
      // Repeat: the top layer's final hidden state fed every decoder step; lower layers and
      // cell states reach the decoder not at all.
      mem().zero(dh, state_size() * sizeof(T));
      ops->repeat_backward(ddx, Tt, B, static_cast<int>(H),
                           dh + static_cast<std::size_t>(config.layers - 1) * B * H,
                           GradMode::overwrite);
    }

    encoder_backward(dmemory, dh, tf ? dc : nullptr);
  }

  // ---- attention (model/attention.h) ---------------------------------------------------------

  bool has_attention() const { return config.attention != AttentionKind::none; }

  const T* optional_param(const char* name) {
    for (const auto& p : layout)
      if (p.name == name) return params.data() + p.offset;
    return nullptr;
  }
  T* optional_grad(const char* name) {
    for (const auto& p : layout)
      if (p.name == name) return grads.data() + p.offset;
    return nullptr;
  }
  AttentionWeights<T> attention_weights() {
    return {optional_param("decoder.attention.linear_in.weight"),
            optional_param("decoder.attention.linear_query.weight"),
            optional_param("decoder.attention.linear_query.bias"),
            optional_param("decoder.attention.linear_context.weight"),
            optional_param("decoder.attention.v.weight"),
            optional_param("decoder.attention.linear_out.weight")};
  }
  AttentionGrads<T> attention_grads() {
    return {optional_grad("decoder.attention.linear_in.weight"),
            optional_grad("decoder.attention.linear_query.weight"),
            optional_grad("decoder.attention.linear_query.bias"),
            optional_grad("decoder.attention.linear_context.weight"),
            optional_grad("decoder.attention.v.weight"),
            optional_grad("decoder.attention.linear_out.weight")};
  }
  // Attention adds to its gradients (a batch's steps may come in several chunks): zeroed first.
  void zero_attention_grads() {
    for (const auto& p : layout)
      if (p.name.rfind("decoder.attention.", 0) == 0)
        mem().zero(grads.data() + p.offset, p.size() * sizeof(T));
  }
  void zero_grads(const std::string& prefix) {
    for (const auto& p : layout)
      if (p.name.rfind(prefix, 0) == 0) mem().zero(grads.data() + p.offset, p.size() * sizeof(T));
  }

  // The [In, In] identity: one-hot decoder inputs as dense rows (embedding_forward over it),
  // which input feeding needs to put the fed columns beside them. Built once.
  const T* one_hot_rows() {
    const std::size_t V = config.target_vocab_size;
    if (one_hot_table.size() < V * V) {
      std::vector<T> identity(V * V, T(0));
      for (std::size_t i = 0; i < V; ++i) identity[i * V + i] = T(1);
      upload_as(mem(), one_hot_table, identity);
    }
    return one_hot_table.data();
  }

  // A decoding step's recurrent input with input feeding: out [N, In + H] = [x ; feed], x the
  // step's input (dense [N, In], or token ids made one-hot), feed the previous step's h~
  // [N, H] (zeros at the first step). The step decoder calls it before rnn_forward.
  void feed_columns(RnnInput<T> step, const T* feed, int rows, T* out) {
    const int in = decoder_input_size(config);
    const T* x = step.x;
    if (x == nullptr) {
      T* dense = sized(mem(), feed_din, static_cast<std::size_t>(rows) * in);
      ops->embedding_forward(one_hot_rows(), step.tokens, rows, in, in, dense);
      x = dense;
    }
    ops->concat_columns(x, feed, rows, in, config.hidden_size, out);
  }

  // ---- attention in a step-by-step decoder (greedy here; beam search reorders N = B*K rows) --
  // Per step: input = fed_step_input(input, N) when input feeding; rnn_forward; h~ =
  // attend(top output, N); the head reads h~. Beam search reorders feed_rows() [N, H] with
  // gather_rows like the states, and reads each step's weights with attention->weights(0, 1).

  // Binds attention to the encoder's outputs `rows_memory` [Ts, N, D] and source lengths [N]
  // (the batch's own, or expanded to N = B*K rows with gather_rows) for one step at a time, and
  // starts the input-feed buffer at h~_0 = 0.
  void begin_attention_steps(const T* rows_memory, const std::int32_t* lengths, int rows) {
    attention->bind(attention_weights(), rows_memory, lengths, Ts, rows, 1);
    if (config.input_feed) {
      const std::size_t n = static_cast<std::size_t>(rows) * config.hidden_size;
      mem().zero(sized(mem(), feed_prev, n), n * sizeof(T));
    }
  }
  // One step's attention: the decoder's top-layer output [N, H] -> h~ [N, H] (valid until the
  // next call), which input feeding also keeps for the next step's input.
  const T* attend(const T* query, int rows) {
    const std::size_t n = static_cast<std::size_t>(rows) * config.hidden_size;
    T* attended = sized(mem(), att_out, n);
    attention->attend(query, attended);
    if (config.input_feed) mem().copy(feed_prev.data(), attended, n * sizeof(T));
    return attended;
  }
  // The previous step's h~ [N, H] that input feeding puts beside the next input.
  T* feed_rows() { return feed_prev.data(); }
  // A step's input [N, In] (dense or token ids) with the fed h~ beside it: [N, In + H].
  RnnInput<T> fed_step_input(RnnInput<T> step, int rows) {
    T* x = sized(mem(), feed_x, static_cast<std::size_t>(rows) * decoder_rnn_input_size(config));
    feed_columns(step, feed_prev.data(), rows, x);
    return {x, nullptr};
  }

  // Step t's slice of the decoder's whole-sequence input (decoder_input()).
  RnnInput<T> step_input(RnnInput<T> all, int t) const {
    const std::size_t row = static_cast<std::size_t>(t) * B;
    if (all.x != nullptr) return {all.x + row * decoder_input_size(config), nullptr};
    return {nullptr, all.tokens + row};
  }

  // Per-step view of the input-feeding decoder's buffers.
  RnnDims feed_dims() const { return dims(decoder_rnn_input_size(config), 1); }
  std::size_t feed_ws_size() const { return ops->rnn_workspace_size(feed_dims()); }

  // Input feeding in training: step t's input holds h~_{t-1}, so the decoder runs one step at
  // a time (each with its own workspace, kept for the backward), attention after each step.
  void forward_input_feed() {
    const std::size_t H = config.hidden_size, S = state_size();
    const int wide = decoder_rnn_input_size(config);
    const RnnDims d = feed_dims();
    const std::size_t ws_size = feed_ws_size();
    auto w = rnn_weights("decoder.rnn");
    const RnnInput<T> all = decoder_input();
    T* ws = sized(mem(), dec_ws, ws_size * Tt);
    T* x = sized(mem(), feed_x, static_cast<std::size_t>(Tt) * B * wide);
    T* h = sized(mem(), feed_h, (Tt + 1) * S);
    T* c = is_lstm() ? sized(mem(), feed_c, (Tt + 1) * S) : nullptr;
    T* a = sized(mem(), att_out, static_cast<std::size_t>(Tt) * B * H);
    T* zero = sized(mem(), feed_prev, B * H);
    mem().zero(zero, B * H * sizeof(T));
    mem().copy(h, enc_h.data(), S * sizeof(T));
    if (c != nullptr) mem().copy(c, enc_c.data(), S * sizeof(T));
    // Every step is run for every sequence (lengths 1): a sequence's padded steps come after
    // its real ones and get no gradient from the loss, so they change nothing that counts.
    const std::int32_t* one = upload_as(mem(), ones, std::vector<std::int32_t>(B, 1));
    attention->bind(attention_weights(), memory, src_lengths.data(), Ts, B, Tt);
    for (int t = 0; t < Tt; ++t) {
      T* xt = x + static_cast<std::size_t>(t) * B * wide;
      feed_columns(step_input(all, t), t == 0 ? zero : a + (t - 1) * B * H, B, xt);
      T* wst = ws + t * ws_size;
      ops->rnn_forward(d, w.data(), {xt, nullptr}, one, h + t * S,
                       c != nullptr ? c + t * S : nullptr, nullptr, h + (t + 1) * S,
                       c != nullptr ? c + (t + 1) * S : nullptr, wst);
      attention->forward(rnn_top_output(d, wst), t, 1, a + t * B * H);
    }
    dec_out = a;
  }

  // The steps in reverse: step t's h~ gradient is the head's plus what step t+1's input sent
  // back through its fed columns.
  void backward_input_feed(T* dattentional) {
    const std::size_t H = config.hidden_size, S = state_size();
    const int in = decoder_input_size(config);
    const int wide = decoder_rnn_input_size(config);
    const RnnDims d = feed_dims();
    const std::size_t ws_size = feed_ws_size();
    auto w = rnn_weights("decoder.rnn");
    auto g = rnn_grads("decoder.rnn");
    zero_grads("decoder.rnn.");
    zero_attention_grads();
    attention->begin_backward();
    const bool embed = decoder_uses_embedding(config);
    T* dx = sized(mem(), feed_dx, static_cast<std::size_t>(B) * wide);
    T* dq = sized(mem(), att_dquery, B * H);
    T* dh = sized(mem(), feed_dh, 2 * S);  // [next step's, this step's]
    T* dc = sized(mem(), feed_dc, 2 * S);
    mem().zero(dh, 2 * S * sizeof(T));
    mem().zero(dc, 2 * S * sizeof(T));
    T* dembedded = embed ? sized(mem(), dec_dx, static_cast<std::size_t>(Tt) * B * in) : nullptr;
    const std::int32_t* one = ones.data();
    int next = 0;
    for (int t = Tt - 1; t >= 0; --t) {
      T* wst = dec_ws.data() + t * ws_size;
      const T* xt = feed_x.data() + static_cast<std::size_t>(t) * B * wide;
      attention->backward(rnn_top_output(d, wst), dattentional + t * B * H, t, 1, dq,
                          attention_grads());
      ops->rnn_backward(d, w.data(), {xt, nullptr}, one, feed_h.data() + t * S,
                        is_lstm() ? feed_c.data() + t * S : nullptr, dq, dh + next * S,
                        is_lstm() ? dc + next * S : nullptr, dx, dh + (1 - next) * S,
                        is_lstm() ? dc + (1 - next) * S : nullptr, g.data(),
                        GradMode::accumulate, wst);
      next = 1 - next;
      if (embed)
        ops->split_columns(dx, B, in, static_cast<int>(H),
                           dembedded + static_cast<std::size_t>(t) * B * in, nullptr,
                           GradMode::overwrite);
      if (t > 0)
        ops->split_columns(dx, B, in, static_cast<int>(H), nullptr,
                           dattentional + (t - 1) * B * H, GradMode::accumulate);
    }
    if (embed)
      ops->embedding_backward(dec_tokens.data(), dembedded, Tt * B, config.target_vocab_size,
                              config.embedding_size, grad("decoder.embedding.weight"),
                              GradMode::overwrite);
    const T* dmemory = attention->finish_backward(attention_grads());
    encoder_backward(dmemory, dh + next * S, is_lstm() ? dc + next * S : nullptr);
  }

  // The inputs forward() used, without recomputing them.
  RnnInput<T> current_encoder_input() const {
    if (config.input == InputKind::one_hot) return {nullptr, src_tokens.data()};
    return {src_x.data(), nullptr};
  }
  RnnInput<T> current_decoder_input() const {
    if (config.mode == DecoderMode::teacher_forcing && config.output == OutputKind::tokens &&
        !decoder_uses_embedding(config))
      return {nullptr, dec_tokens.data()};
    if (config.mode == DecoderMode::repeat && ops->supports_repeated_input())
      return repeated_decoder_input();
    return {dec_x.data(), nullptr};
  }
  // Repeat mode on a backend that takes the encoder's top final state [B, H] as every step's
  // input without copying it T times (RnnInput::x_repeated).
  RnnInput<T> repeated_decoder_input() const {
    RnnInput<T> input;
    input.x = encoder_top_state();
    input.x_repeated = true;
    return input;
  }
  // The encoder's top layer's final hidden state [B, H]: what a repeat decoder reads each step.
  const T* encoder_top_state() const {
    return enc_h.data() + static_cast<std::size_t>(config.layers - 1) * B * config.hidden_size;
  }

  double loss_value() {
    T host[1];
    mem().download(host, scalars.data(), sizeof(T));
    return static_cast<double>(host[0]);
  }

  // A step's metrics live in one device buffer, `scalars`: [0] the loss, [1] the gradient
  // norm, then (token outputs) the argmax of each target row as int32, so that one download
  // reads them all: a training step waits for the device once. Sized before forward() writes
  // the loss (growing it later would lose it).
  std::size_t argmax_rows() const {
    return config.output == OutputKind::tokens ? static_cast<std::size_t>(Tt) * B : 0;
  }
  std::size_t metrics_size() const {
    return 2 + (argmax_rows() * sizeof(std::int32_t) + sizeof(T) - 1) / sizeof(T);
  }
  void reserve_metrics() { sized(mem(), scalars, metrics_size()); }

  // Queues the argmax of the head output of the last forward() behind the loss and norm.
  void queue_argmax() {
    const std::size_t rows = argmax_rows();
    if (rows == 0) return;
    auto* ids = reinterpret_cast<std::int32_t*>(scalars.data() + 2);
    ops->argmax(out.data(), static_cast<int>(rows), config.target_vocab_size, ids);
  }

  // The one device-to-host read of a step: the loss, the norm (when with_norm) and the token
  // accuracy counts under teacher forcing.
  void read_metrics(StepResult& r, const Batch& batch, bool with_norm) {
    std::vector<T> host(metrics_size());
    mem().download(host.data(), scalars.data(), host.size() * sizeof(T));
    r.loss = static_cast<double>(host[0]);
    if (with_norm) r.gradient_norm = static_cast<double>(host[1]);
    const std::size_t rows = argmax_rows();
    if (rows == 0) return;
    std::vector<std::int32_t> predicted(rows);
    std::memcpy(predicted.data(), host.data() + 2, rows * sizeof(std::int32_t));
    for (int t = 0; t < Tt; ++t)
      for (int b = 0; b < B; ++b) {
        if (t >= batch.target_lengths[b]) continue;
        const std::size_t i = static_cast<std::size_t>(t) * B + b;
        ++r.total;
        if (predicted[i] == batch.target_tokens[i]) ++r.correct;
      }
  }

  StepResult evaluate(const Batch& batch) {
    prepare(batch, true);
    reserve_metrics();
    forward(false);
    queue_argmax();
    StepResult r;
    read_metrics(r, batch, false);
    return r;
  }

  // Forward and backward with nothing read back (train_step reads once, after the norm).
  void run_forward_backward(const Batch& batch) {
    prepare(batch, true);
    reserve_metrics();
    forward(true);
    backward();
    queue_argmax();
  }

  StepResult forward_backward(const Batch& batch) {
    run_forward_backward(batch);
    StepResult r;
    read_metrics(r, batch, false);
    return r;
  }

  std::string tensor_at(std::size_t index) const {
    for (const auto& p : layout)
      if (index >= p.offset && index < p.offset + p.size())
        return p.name + "[" + std::to_string(index - p.offset) + "]";
    return "index " + std::to_string(index);
  }

  StepResult train_step(const Batch& batch) {
    require(has_optimizer, "train_step: no optimizer was set (call set_optimizer first)");
    run_forward_backward(batch);
    queue_gradient_norm();
    StepResult r;
    read_metrics(r, batch, true);  // the step's one device-to-host read
    return update(r);
  }

  // ---- data parallel (include/s2s/communicator.h) -------------------------------------------

  // What the loss is a mean over: real target tokens, or real target values for feature outputs.
  double loss_weight(const Batch& batch) const {
    double positions = 0;
    for (std::int32_t n : batch.target_lengths) positions += n;
    return config.output == OutputKind::tokens ? positions
                                               : positions * config.target_features;
  }

  StepResult train_step(const Batch& batch, const Communicator& comm) {
    if (comm.size() == 1) return train_step(batch);
    require(has_optimizer, "train_step: no optimizer was set (call set_optimizer first)");
    StepResult r;
    double weight = 0;
    mask_rank = static_cast<std::uint64_t>(comm.rank());
    if (batch.batch_size > 0) {
      r = forward_backward(batch);
      weight = loss_weight(batch);
    } else {
      grads.zero();  // an empty shard (a global batch smaller than the ranks) adds nothing
    }
    double totals[4] = {r.loss * weight, weight, static_cast<double>(r.correct),
                        static_cast<double>(r.total)};
    comm.allreduce(totals, 4, ReduceOp::sum);
    require(totals[1] > 0, "training step " + std::to_string(step + 1) +
                               ": the global batch has no real target positions");
    reduce_gradients(comm, weight / totals[1]);
    queue_gradient_norm();
    r.gradient_norm = scalar_value(1);  // the global norm, after the allreduce
    r.loss = totals[0] / totals[1];
    r.correct = static_cast<std::int64_t>(totals[2]);
    r.total = static_cast<std::int64_t>(totals[3]);
    return update(r);
  }

  // grads = sum over ranks of scale_r * grads_r: in device memory when the communicator reduces
  // it (NCCL), in place on the CPU backend, through a host copy otherwise.
  void reduce_gradients(const Communicator& comm, double scale) {
    const std::size_t n = count();
    if constexpr (std::is_same_v<T, float>) {
      if (backend == BackendKind::cuda && comm.reduces_device_memory()) {
        mem().synchronize();
        comm.allreduce_scaled_sum_device(grads.data(), n, scale);
        return;
      }
    }
    if (backend == BackendKind::cpu) {
      comm.allreduce_scaled_sum(grads.data(), n, scale);
      return;
    }
    std::vector<T> host = grads.download();
    comm.allreduce_scaled_sum(host.data(), n, scale);
    grads.upload(host);
  }

  // ||grads|| into scalars[1], where update() and clipping read it.
  void queue_gradient_norm() { ops->global_norm(grads.data(), count(), scalars.data() + 1); }

  double scalar_value(std::size_t index) {
    T host[1];
    mem().download(host, scalars.data() + index, sizeof(T));
    return static_cast<double>(host[0]);
  }

  // Clipping by the global norm (queued in scalars[1], its value in r) and one optimizer update
  // from the gradients in grads.
  StepResult update(StepResult r) {
    const std::size_t n = count();
    T* norm = scalars.data() + 1;
    const std::string at = "training step " + std::to_string(step + 1);
    if (!std::isfinite(r.loss))
      throw Error(at + ": the loss is not finite (" + std::to_string(r.loss) +
                  "); the parameters were left as they were (lower the learning rate or clip "
                  "gradients)");
    if (!std::isfinite(r.gradient_norm)) {
      const std::vector<T> g = grads.download();
      std::size_t i = 0;
      while (i < g.size() && std::isfinite(static_cast<double>(g[i]))) ++i;
      throw Error(at + ": the gradient of " + tensor_at(i) + " is not finite; the parameters " +
                  "were left as they were (lower the learning rate or clip gradients)");
    }
    if (optimizer.clip_norm > 0)
      ops->clip_by_norm(grads.data(), n, norm, static_cast<T>(optimizer.clip_norm));
    const T lr = static_cast<T>(optimizer.rate_at(step));
    if (optimizer.kind == OptimizerKind::adam) {
      ops->adam_step(params.data(), grads.data(), moment1.data(), moment2.data(), n, lr,
                     static_cast<T>(optimizer.beta1), static_cast<T>(optimizer.beta2),
                     static_cast<T>(optimizer.epsilon), step + 1);
    } else {
      ops->sgd_step(params.data(), grads.data(),
                    optimizer.momentum > 0 ? moment1.data() : nullptr, n, lr,
                    static_cast<T>(optimizer.momentum));
    }
    ++step;
    return r;
  }

  void set_optimizer(const OptimizerConfig& o) {
    o.validate();
    optimizer = o;
    has_optimizer = true;
    step = 0;
    moment1.reset();
    moment2.reset();
    if (o.kind == OptimizerKind::adam || o.momentum > 0) {
      moment1 = Buffer<T>(mem(), count());
      moment1.zero();
    }
    if (o.kind == OptimizerKind::adam) {
      moment2 = Buffer<T>(mem(), count());
      moment2.zero();
    }
  }

  // ---- greedy decoding ----------------------------------------------------------------------

  // Runs the decoder over `steps` steps from the current encoder state and returns the head
  // output [steps, B, V] on the host. Repeat: one pass. Teacher forcing: one step at a time,
  // feeding back the argmax token or the output vector.
  std::vector<T> decode(int steps, bool stop_at_end) {
    const std::size_t H = config.hidden_size;
    const int V = output_size(config);
    const int in = decoder_input_size(config);
    std::vector<std::int32_t> all_ones(B, 1);
    if (config.mode == DecoderMode::repeat) {
      Tt = steps;
      upload_as(mem(), tgt_lengths, std::vector<std::int32_t>(B, steps));
      const RnnDims d = dims(in, steps);
      auto w = rnn_weights("decoder.rnn");
      T* y = sized(mem(), dec_y, static_cast<std::size_t>(steps) * B * H);
      T* ws = sized(mem(), dec_ws, ops->rnn_workspace_size(d));
      ops->rnn_forward(d, w.data(), decoder_input(), tgt_lengths.data(), nullptr, nullptr, y,
                       nullptr, nullptr, ws);
      const std::size_t rows = static_cast<std::size_t>(steps) * B;
      T* o = sized(mem(), out, rows * V);
      ops->linear_forward(y, param("decoder.out.weight"), param("decoder.out.bias"),
                          static_cast<int>(rows), static_cast<int>(H), V, o);
      std::vector<T> host(rows * V);
      mem().download(host.data(), o, host.size() * sizeof(T));
      return host;
    }

    // Teacher forcing at inference: the state starts as the encoder's final state and is
    // carried step to step (two state buffers, swapped: a step never writes what it reads).
    Tt = 1;
    const RnnDims d = dims(decoder_rnn_input_size(config), 1);
    auto w = rnn_weights("decoder.rnn");
    const std::size_t S = state_size();
    T* h[2] = {sized(mem(), dec_h0, 2 * S), nullptr};
    T* c[2] = {sized(mem(), dec_c0, 2 * S), nullptr};
    h[1] = h[0] + S;
    c[1] = c[0] + S;
    mem().copy(h[0], enc_h.data(), S * sizeof(T));
    if (is_lstm()) mem().copy(c[0], enc_c.data(), S * sizeof(T));
    std::int32_t* lengths = upload_as(mem(), ones, all_ones);
    T* ws = sized(mem(), dec_ws, ops->rnn_workspace_size(d));
    T* y = sized(mem(), dec_y, B * H);
    T* o = sized(mem(), out, static_cast<std::size_t>(B) * V);
    const bool tokens = config.output == OutputKind::tokens;
    std::int32_t* tok = sized(mem(), dec_tokens, B);
    T* x = sized(mem(), dec_x, static_cast<std::size_t>(B) * std::max(in, 1));
    std::vector<std::int32_t> ids(B, Vocabulary::start_id);
    std::vector<bool> done(B, false);
    if (tokens)
      mem().upload(tok, ids.data(), B * sizeof(std::int32_t));
    else
      mem().zero(x, static_cast<std::size_t>(B) * in * sizeof(T));
    if (has_attention()) begin_attention_steps(memory, src_lengths.data(), B);
    std::vector<T> result(static_cast<std::size_t>(steps) * B * V);
    int cur = 0;
    for (int t = 0; t < steps; ++t) {
      RnnInput<T> input{x, nullptr};
      if (tokens) {
        if (decoder_uses_embedding(config))
          ops->embedding_forward(param("decoder.embedding.weight"), tok, B,
                                 config.target_vocab_size, config.embedding_size, x);
        else
          input = {nullptr, tok};
      }
      if (config.input_feed) input = fed_step_input(input, B);
      ops->rnn_forward(d, w.data(), input, lengths, h[cur], is_lstm() ? c[cur] : nullptr, y,
                       h[1 - cur], is_lstm() ? c[1 - cur] : nullptr, ws);
      cur = 1 - cur;
      const T* head_input = has_attention() ? attend(y, B) : y;
      ops->linear_forward(head_input, param("decoder.out.weight"), param("decoder.out.bias"), B,
                          static_cast<int>(H), V, o);
      mem().download(result.data() + static_cast<std::size_t>(t) * B * V, o,
                     static_cast<std::size_t>(B) * V * sizeof(T));
      if (tokens) {
        std::int32_t* am = sized(mem(), argmax_out, B);
        ops->argmax(o, B, V, am);
        mem().download(ids.data(), am, B * sizeof(std::int32_t));
        bool all_done = true;
        for (int b = 0; b < B; ++b) {
          if (ids[b] == Vocabulary::end_id) done[b] = true;
          all_done = all_done && done[b];
        }
        if (stop_at_end && all_done) {
          result.resize(static_cast<std::size_t>(t + 1) * B * V);
          break;
        }
        mem().copy(tok, am, B * sizeof(std::int32_t));
      } else {
        mem().copy(x, o, static_cast<std::size_t>(B) * V * sizeof(T));
      }
    }
    return result;
  }

#include "model/step_decoding.inc"
};

template <typename T>
BasicSeq2Seq<T>::BasicSeq2Seq(const ModelConfig& config, std::uint64_t seed, BackendKind backend,
                              Precision precision)
    : impl_(std::make_unique<Impl>(config, backend, precision)) {
  impl_->seed = seed;
  impl_->initialise(seed);
}
template <typename T>
BasicSeq2Seq<T>::~BasicSeq2Seq() = default;
template <typename T>
BasicSeq2Seq<T>::BasicSeq2Seq(BasicSeq2Seq&&) noexcept = default;
template <typename T>
BasicSeq2Seq<T>& BasicSeq2Seq<T>::operator=(BasicSeq2Seq&&) noexcept = default;

template <typename T>
const ModelConfig& BasicSeq2Seq<T>::config() const {
  return impl_->config;
}
template <typename T>
BackendKind BasicSeq2Seq<T>::backend() const {
  return impl_->backend;
}
template <typename T>
const std::vector<ParameterInfo>& BasicSeq2Seq<T>::parameter_info() const {
  return impl_->layout;
}
template <typename T>
std::size_t BasicSeq2Seq<T>::parameter_count() const {
  return impl_->count();
}
template <typename T>
std::vector<T> BasicSeq2Seq<T>::parameters() const {
  return impl_->params.download();
}
template <typename T>
void BasicSeq2Seq<T>::set_parameters(const std::vector<T>& values) {
  require(values.size() == impl_->count(),
          "set_parameters: " + std::to_string(values.size()) + " values given, the model has " +
              std::to_string(impl_->count()));
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(static_cast<double>(values[i])))
      throw Error("set_parameters: " + impl_->tensor_at(i) + " is " +
                  std::to_string(static_cast<double>(values[i])) + " (parameters must be finite)");
  impl_->params.upload(values);
}
template <typename T>
std::vector<T> BasicSeq2Seq<T>::gradients() const {
  return impl_->grads.download();
}
template <typename T>
void BasicSeq2Seq<T>::set_dropout_seed(std::uint64_t seed) {
  impl_->seed = seed;
}
template <typename T>
void BasicSeq2Seq<T>::fix_dropout_masks(std::uint64_t mask_seed) {
  impl_->masks_fixed = true;
  impl_->fixed_mask_seed = mask_seed;
}

template <typename T>
double BasicSeq2Seq<T>::loss(const Batch& batch) {
  const FlushDenormals flush;
  impl_->prepare(batch, true);
  impl_->forward(false);
  return impl_->loss_value();
}
template <typename T>
StepResult BasicSeq2Seq<T>::evaluate(const Batch& batch) {
  const FlushDenormals flush;
  return impl_->evaluate(batch);
}
template <typename T>
StepResult BasicSeq2Seq<T>::forward_backward(const Batch& batch) {
  const FlushDenormals flush;
  return impl_->forward_backward(batch);
}
template <typename T>
void BasicSeq2Seq<T>::set_optimizer(const OptimizerConfig& optimizer) {
  impl_->set_optimizer(optimizer);
}
template <typename T>
bool BasicSeq2Seq<T>::has_optimizer() const {
  return impl_->has_optimizer;
}
template <typename T>
const OptimizerConfig& BasicSeq2Seq<T>::optimizer() const {
  return impl_->optimizer;
}
template <typename T>
std::int64_t BasicSeq2Seq<T>::optimizer_step() const {
  return impl_->step;
}
template <typename T>
StepResult BasicSeq2Seq<T>::train_step(const Batch& batch) {
  const FlushDenormals flush;
  return impl_->train_step(batch);
}
template <typename T>
StepResult BasicSeq2Seq<T>::train_step(const Batch& batch, const Communicator& comm) {
  const FlushDenormals flush;
  return impl_->train_step(batch, comm);
}

template <typename T>
std::vector<std::pair<std::string, std::vector<T>>> BasicSeq2Seq<T>::optimizer_state() const {
  std::vector<std::pair<std::string, std::vector<T>>> state;
  if (!impl_->has_optimizer) return state;
  if (impl_->optimizer.kind == OptimizerKind::adam) {
    state.emplace_back("optimizer.m", impl_->moment1.download());
    state.emplace_back("optimizer.v", impl_->moment2.download());
  } else if (impl_->optimizer.momentum > 0) {
    state.emplace_back("optimizer.velocity", impl_->moment1.download());
  }
  return state;
}

template <typename T>
void BasicSeq2Seq<T>::set_optimizer_state(
    std::int64_t step, const std::vector<std::pair<std::string, std::vector<T>>>& state) {
  require(impl_->has_optimizer, "set_optimizer_state: no optimizer was set");
  require(step >= 0, "set_optimizer_state: step is " + std::to_string(step) + " (allowed: 0 or more)");
  const auto expected = optimizer_state();
  require(state.size() == expected.size(),
          "set_optimizer_state: " + std::to_string(state.size()) + " tensors given, the " +
              to_string(impl_->optimizer.kind) + " optimizer has " +
              std::to_string(expected.size()));
  for (std::size_t i = 0; i < state.size(); ++i) {
    require(state[i].first == expected[i].first,
            "set_optimizer_state: tensor '" + state[i].first + "' given where '" +
                expected[i].first + "' was expected");
    require(state[i].second.size() == impl_->count(),
            "set_optimizer_state: '" + state[i].first + "' has " +
                std::to_string(state[i].second.size()) + " values (expected " +
                std::to_string(impl_->count()) + ")");
  }
  for (std::size_t i = 0; i < state.size(); ++i)
    (i == 0 ? impl_->moment1 : impl_->moment2).upload(state[i].second);
  impl_->step = step;
}

template <typename T>
std::vector<std::vector<std::int32_t>> BasicSeq2Seq<T>::predict_tokens(const Batch& batch,
                                                                       int max_length) {
  const FlushDenormals flush;
  require(impl_->config.output == OutputKind::tokens,
          "predict_tokens: this model outputs features (use predict_features)");
  if (max_length == 0) max_length = impl_->config.max_target_length;
  require(max_length >= 1, "predict_tokens: max_length is " + std::to_string(max_length) +
                               " (allowed: 1 or more, or 0 for the model's limit)");
  if (impl_->config.mode == DecoderMode::repeat)
    max_length = std::min(max_length, impl_->config.max_target_length);
  impl_->prepare(batch, false);
  impl_->encoder_forward(impl_->has_attention());
  const std::vector<T> logits = impl_->decode(max_length, true);
  const int B = impl_->B, V = impl_->config.target_vocab_size;
  const int steps = static_cast<int>(logits.size() / (static_cast<std::size_t>(B) * V));
  std::vector<std::vector<std::int32_t>> result(B);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < steps; ++t) {
      const T* row = logits.data() + (static_cast<std::size_t>(t) * B + b) * V;
      const auto id = static_cast<std::int32_t>(std::max_element(row, row + V) - row);
      if (id == Vocabulary::end_id) break;
      result[b].push_back(id);
    }
  return result;
}

template <typename T>
std::vector<std::vector<double>> BasicSeq2Seq<T>::predict_features(const Batch& batch,
                                                                   int steps) {
  const FlushDenormals flush;
  require(impl_->config.output == OutputKind::features,
          "predict_features: this model outputs tokens (use predict_tokens)");
  require(steps >= 1, "predict_features: steps is " + std::to_string(steps) +
                          " (allowed: 1 or more)");
  if (impl_->config.mode == DecoderMode::repeat)
    require(steps <= impl_->config.max_target_length,
            "predict_features: steps " + std::to_string(steps) +
                " is more than the model's max_target_length " +
                std::to_string(impl_->config.max_target_length));
  impl_->prepare(batch, false);
  impl_->encoder_forward(impl_->has_attention());
  const std::vector<T> values = impl_->decode(steps, false);
  const int B = impl_->B, F = impl_->config.target_features;
  std::vector<std::vector<double>> result(B);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < steps; ++t)
      for (int f = 0; f < F; ++f)
        result[b].push_back(values[(static_cast<std::size_t>(t) * B + b) * F + f]);
  return result;
}

// ---- step-by-step decoding (host/model/step_decoder.h) --------------------------------------

template <typename T>
Ops<T>& BasicSeq2Seq<T>::step_ops() {
  return *impl_->ops;
}
template <typename T>
int BasicSeq2Seq<T>::step_start(const Batch& batch, int copies, int max_length) {
  const FlushDenormals flush;
  const ModelConfig& c = impl_->config;
  require(c.output == OutputKind::tokens,
          "step decoding: this model outputs features (decoding searches over tokens)");
  require(copies >= 1, "step decoding: copies is " + std::to_string(copies) + " (allowed: 1 or more)");
  if (max_length == 0) max_length = c.max_target_length;
  require(max_length >= 1, "step decoding: max_length is " + std::to_string(max_length) +
                               " (allowed: 1 or more, or 0 for the model's limit)");
  if (c.mode == DecoderMode::repeat) max_length = std::min(max_length, c.max_target_length);
  impl_->prepare(batch, false);
  impl_->step_start(copies, max_length, batch.source_lengths);
  return max_length;
}
template <typename T>
const T* BasicSeq2Seq<T>::step_forward(const std::vector<std::int32_t>& tokens) {
  const FlushDenormals flush;
  require(static_cast<int>(tokens.size()) == impl_->step_rows,
          "step decoding: " + std::to_string(tokens.size()) + " tokens for " +
              std::to_string(impl_->step_rows) + " rows");
  for (std::size_t r = 0; r < tokens.size(); ++r)
    if (tokens[r] < 0 || tokens[r] >= impl_->config.target_vocab_size)
      throw Error("step decoding: token " + std::to_string(tokens[r]) + " of row " +
                  std::to_string(r) + " is outside the target vocabulary (allowed: 0 to " +
                  std::to_string(impl_->config.target_vocab_size - 1) + ")");
  return impl_->step_forward(tokens);
}
template <typename T>
const T* BasicSeq2Seq<T>::step_logits() const {
  return impl_->step_logits.data();
}
template <typename T>
void BasicSeq2Seq<T>::step_reorder(const std::vector<std::int32_t>& parents) {
  impl_->step_reorder(parents);
}
template <typename T>
std::vector<T> BasicSeq2Seq<T>::step_attention() {
  return impl_->step_attention();
}

template class BasicSeq2Seq<float>;
template class BasicSeq2Seq<double>;

}  // namespace s2s
