// The named tensors of a Seq2Seq model in flat-buffer order (PyTorch names and shapes).
#include <string>
#include <vector>

#include "model/attention.h"
#include "model/parameters.h"
#include "s2s/seq2seq.h"

namespace s2s {

int encoder_input_size(const ModelConfig& c) {
  switch (c.input) {
    case InputKind::embedding: return c.embedding_size;
    case InputKind::one_hot: return c.source_vocab_size;
    case InputKind::features: return c.source_features;
  }
  return 0;
}

bool decoder_uses_embedding(const ModelConfig& c) {
  return c.mode == DecoderMode::teacher_forcing && c.output == OutputKind::tokens &&
         c.input == InputKind::embedding;
}

int decoder_input_size(const ModelConfig& c) {
  if (c.mode == DecoderMode::repeat) return c.hidden_size;
  if (c.output == OutputKind::features) return c.target_features;
  return decoder_uses_embedding(c) ? c.embedding_size : c.target_vocab_size;
}

int decoder_rnn_input_size(const ModelConfig& c) {
  return decoder_input_size(c) + (c.input_feed ? c.hidden_size : 0);
}

int encoder_output_size(const ModelConfig& c) {
  return c.bidirectional ? 2 * c.hidden_size : c.hidden_size;
}

int output_size(const ModelConfig& c) {
  return c.output == OutputKind::tokens ? c.target_vocab_size : c.target_features;
}

std::vector<std::string> bridge_states(const ModelConfig& c) {
  if (c.cell == CellType::lstm && c.mode == DecoderMode::teacher_forcing) return {"h", "c"};
  return {"h"};
}

int bridge_first_layer(const ModelConfig& c) {
  return c.mode == DecoderMode::repeat ? c.layers - 1 : 0;
}

std::string bridge_prefix(const std::string& state, int index) {
  return "decoder.bridge_" + state + "." + std::to_string(index);
}

std::vector<ParameterInfo> parameter_layout(const ModelConfig& c) {
  c.validate();
  std::vector<ParameterInfo> layout;
  std::size_t offset = 0;
  auto add = [&](std::string name, Shape shape) {
    ParameterInfo info{std::move(name), std::move(shape), offset};
    offset += info.size();
    layout.push_back(std::move(info));
  };
  const std::int64_t gates = static_cast<std::int64_t>(gate_count(c.cell)) * c.hidden_size;
  // PyTorch's order and names: per layer, the forward direction, then the reverse one
  // (`_reverse`); layer k > 0 reads the previous layer's directions concatenated.
  auto add_rnn = [&](const std::string& prefix, int input_size, int directions) {
    for (int k = 0; k < c.layers; ++k)
      for (int direction = 0; direction < directions; ++direction) {
        const std::string l = std::to_string(k) + (direction == 1 ? "_reverse" : "");
        add(prefix + ".weight_ih_l" + l,
            {gates, k == 0 ? input_size : directions * c.hidden_size});
        add(prefix + ".weight_hh_l" + l, {gates, c.hidden_size});
        add(prefix + ".bias_ih_l" + l, {gates});
        add(prefix + ".bias_hh_l" + l, {gates});
      }
  };
  if (c.input == InputKind::embedding)
    add("encoder.embedding.weight", {c.source_vocab_size, c.embedding_size});
  add_rnn("encoder.rnn", encoder_input_size(c), c.bidirectional ? 2 : 1);
  if (decoder_uses_embedding(c))
    add("decoder.embedding.weight", {c.target_vocab_size, c.embedding_size});
  add_rnn("decoder.rnn", decoder_rnn_input_size(c), 1);
  if (c.bidirectional && c.bridge == BridgeKind::linear)
    for (const std::string& state : bridge_states(c))
      for (int i = 0; i < c.layers - bridge_first_layer(c); ++i) {
        const std::string name = bridge_prefix(state, i);
        add(name + ".weight", {c.hidden_size, 2 * c.hidden_size});
        add(name + ".bias", {c.hidden_size});
      }
  for (const AttentionTensor& t : attention_tensors(c))
    add(t.name, t.columns > 0 ? Shape{t.rows, t.columns} : Shape{t.rows});
  add("decoder.out.weight", {output_size(c), c.hidden_size});
  add("decoder.out.bias", {output_size(c)});
  return layout;
}

}  // namespace s2s
