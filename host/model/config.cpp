// Names of the config enums and ModelConfig::validate.
#include <string>

#include "s2s/config.h"
#include "s2s/error.h"
#include "s2s/limits.h"

namespace s2s {

int gate_count(CellType cell) {
  switch (cell) {
    case CellType::lstm: return 4;
    case CellType::gru: return 3;
    case CellType::rnn: return 1;
  }
  throw Error("gate_count: unknown cell type");
}

std::string to_string(CellType cell) {
  switch (cell) {
    case CellType::lstm: return "lstm";
    case CellType::gru: return "gru";
    case CellType::rnn: return "rnn";
  }
  return "?";
}
std::string to_string(InputKind kind) {
  switch (kind) {
    case InputKind::embedding: return "embedding";
    case InputKind::one_hot: return "one_hot";
    case InputKind::features: return "features";
  }
  return "?";
}
std::string to_string(OutputKind kind) {
  switch (kind) {
    case OutputKind::tokens: return "tokens";
    case OutputKind::features: return "features";
  }
  return "?";
}
std::string to_string(DecoderMode mode) {
  switch (mode) {
    case DecoderMode::teacher_forcing: return "teacher_forcing";
    case DecoderMode::repeat: return "repeat";
  }
  return "?";
}
std::string to_string(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::none: return "none";
    case AttentionKind::dot: return "dot";
    case AttentionKind::general: return "general";
    case AttentionKind::additive: return "additive";
  }
  return "?";
}
std::string to_string(BridgeKind kind) {
  switch (kind) {
    case BridgeKind::sum: return "sum";
    case BridgeKind::linear: return "linear";
  }
  return "?";
}

namespace {
// Finds name among the enum's values by their to_string names, or throws listing them.
template <typename Enum, std::size_t N>
Enum parse_enum(const std::string& what, const std::string& name, const Enum (&values)[N]) {
  std::string allowed;
  for (Enum v : values) {
    if (to_string(v) == name) return v;
    allowed += (allowed.empty() ? "" : ", ") + to_string(v);
  }
  throw Error("unknown " + what + " '" + name + "' (allowed: " + allowed + ")");
}
}  // namespace

CellType parse_cell(const std::string& name) {
  static const CellType values[] = {CellType::lstm, CellType::gru, CellType::rnn};
  return parse_enum("cell type", name, values);
}
InputKind parse_input_kind(const std::string& name) {
  static const InputKind values[] = {InputKind::embedding, InputKind::one_hot,
                                     InputKind::features};
  return parse_enum("input kind", name, values);
}
OutputKind parse_output_kind(const std::string& name) {
  static const OutputKind values[] = {OutputKind::tokens, OutputKind::features};
  return parse_enum("output kind", name, values);
}
DecoderMode parse_decoder_mode(const std::string& name) {
  static const DecoderMode values[] = {DecoderMode::teacher_forcing, DecoderMode::repeat};
  return parse_enum("decoder mode", name, values);
}
AttentionKind parse_attention(const std::string& name) {
  static const AttentionKind values[] = {AttentionKind::none, AttentionKind::dot,
                                         AttentionKind::general, AttentionKind::additive};
  return parse_enum("attention kind", name, values);
}
BridgeKind parse_bridge(const std::string& name) {
  static const BridgeKind values[] = {BridgeKind::sum, BridgeKind::linear};
  return parse_enum("bridge", name, values);
}

namespace {
void require_range(const char* field, long long value, long long low, long long high) {
  if (value < low || value > high)
    throw Error(std::string("model config: ") + field + " is " + std::to_string(value) +
                " (allowed: " + std::to_string(low) + " to " + std::to_string(high) + ")");
}
}  // namespace

void ModelConfig::validate() const {
  // Upper bounds keep every size product inside int and a model inside memory; they are far
  // beyond what these networks are used at (s2s/limits.h lists them with the readers' limits).
  constexpr int kMaxSize = limits::kMaxHiddenSize;
  if (cell != CellType::lstm && cell != CellType::gru && cell != CellType::rnn)
    throw Error("model config: unknown cell type (allowed: lstm, gru, rnn)");
  require_range("hidden_size", hidden_size, 1, kMaxSize);
  require_range("layers", layers, 1, limits::kMaxLayers);
  if (mode != DecoderMode::teacher_forcing && mode != DecoderMode::repeat)
    throw Error("model config: unknown decoder mode (allowed: teacher_forcing, repeat)");
  if (input == InputKind::features) {
    require_range("source_features", source_features, 1, kMaxSize);
  } else if (input == InputKind::embedding || input == InputKind::one_hot) {
    require_range("source_vocab_size", source_vocab_size, 1, limits::kMaxVocabularySize);
  } else {
    throw Error("model config: unknown input kind (allowed: embedding, one_hot, features)");
  }
  const bool token_input_uses_embedding = input == InputKind::embedding;
  if (token_input_uses_embedding) require_range("embedding_size", embedding_size, 1, kMaxSize);
  if (output == OutputKind::tokens) {
    // Ids 0..2 are pad, start and end: a token vocabulary has at least those.
    require_range("target_vocab_size", target_vocab_size, 3, limits::kMaxVocabularySize);
  } else if (output == OutputKind::features) {
    require_range("target_features", target_features, 1, kMaxSize);
  } else {
    throw Error("model config: unknown output kind (allowed: tokens, features)");
  }
  require_range("max_target_length", max_target_length, 1, limits::kMaxSequenceLength);
  if (attention != AttentionKind::none && attention != AttentionKind::dot &&
      attention != AttentionKind::general && attention != AttentionKind::additive)
    throw Error("model config: unknown attention kind (allowed: none, dot, general, additive)");
  if (attention != AttentionKind::none && mode != DecoderMode::teacher_forcing)
    throw Error("model config: attention '" + to_string(attention) +
                "' needs the teacher_forcing decoder (the repeat decoder reads only the "
                "encoder's final state; allowed with repeat: attention none)");
  if (input_feed && attention == AttentionKind::none)
    throw Error("model config: input feeding feeds the attentional vector back, so it needs "
                "attention (allowed: input_feed with attention dot, general or additive)");
  if (attention == AttentionKind::dot && bidirectional)
    throw Error("model config: dot attention scores the decoder state [H] against encoder "
                "outputs of the same width, and a bidirectional encoder's are [2H] (allowed "
                "with bidirectional: attention general or additive)");
  if (bridge != BridgeKind::sum && bridge != BridgeKind::linear)
    throw Error("model config: unknown bridge (allowed: sum, linear)");
  // The input-feeding decoder runs its layers fused, one step at a time, so there is no place
  // for a mask between them (its encoder and the head still take dropout).
  if (input_feed && dropout > 0 && layers > 1)
    throw Error("model config: dropout between the decoder's layers is not available with input "
                "feeding (allowed: dropout with layers 1, or without input_feed)");
  // Written as a negation so that NaN is refused too.
  if (!(dropout >= 0 && dropout < 1))
    throw Error("model config: dropout is " + std::to_string(dropout) +
                " (allowed: a probability from 0 up to, not including, 1)");
}

}  // namespace s2s
