// Model configuration: cell type, sizes, input and output kinds, decoder mode, and their names.
#pragma once

#include <cstdint>
#include <string>

namespace s2s {

// Recurrent cell, with the equations and gate order of torch.nn.LSTM (i, f, g, o),
// torch.nn.GRU (r, z, n; reset gate applied after the recurrent product) and torch.nn.RNN (tanh).
enum class CellType { lstm, gru, rnn };

// How a sequence enters the network.
enum class InputKind {
  embedding,  // token ids through a learned table [vocab, embedding_size]
  one_hot,    // token ids as one-hot vectors: a gather of weight_ih_l0 columns
  features,   // real-valued vectors [T, B, features]
};

// What the decoder emits.
enum class OutputKind {
  tokens,    // logits over the target vocabulary, softmax + cross-entropy
  features,  // real values through a linear head, mean squared error
};

// How the decoder is driven (DESIGN.md, "Decoder modes").
enum class DecoderMode {
  teacher_forcing,  // starts from the encoder's final state; input t is target t-1
  repeat,           // input at every step is the encoder's final hidden state; zero state
};

// Attention of a teacher-forcing decoder over the encoder's outputs (docs/CHECKPOINT.md has the
// equations and tensor names): Luong's dot and general scores, Bahdanau's additive score.
enum class AttentionKind { none, dot, general, additive };

// How a bidirectional encoder's two final states start the decoder, layer by layer: their sum,
// or a learned linear layer over their concatenation.
enum class BridgeKind { sum, linear };

// Number of gate blocks G in weight_ih [G*H, In]: 4 for LSTM, 3 for GRU, 1 for RNN.
int gate_count(CellType cell);

std::string to_string(CellType cell);
std::string to_string(InputKind kind);
std::string to_string(OutputKind kind);
std::string to_string(DecoderMode mode);
std::string to_string(AttentionKind kind);
std::string to_string(BridgeKind kind);

// Parse a name ("lstm", "gru", "rnn", ...); throws Error naming the value and the allowed ones.
CellType parse_cell(const std::string& name);
InputKind parse_input_kind(const std::string& name);
OutputKind parse_output_kind(const std::string& name);
DecoderMode parse_decoder_mode(const std::string& name);
AttentionKind parse_attention(const std::string& name);
BridgeKind parse_bridge(const std::string& name);

// Everything that fixes the shapes of a Seq2Seq model. Encoder and decoder share cell,
// hidden_size and layers (the decoder starts from the encoder's final states).
struct ModelConfig {
  CellType cell = CellType::lstm;
  int hidden_size = 128;
  int layers = 1;
  DecoderMode mode = DecoderMode::teacher_forcing;

  // Encoder input. For embedding and one_hot, source_vocab_size is the vocabulary size
  // (including the special tokens); for features, source_features is F.
  InputKind input = InputKind::one_hot;
  int source_vocab_size = 0;
  int source_features = 0;

  // Token inputs (encoder tokens, and decoder tokens in teacher forcing) go through an
  // embedding of this size when input == embedding; ignored otherwise.
  int embedding_size = 0;

  // Decoder output. For tokens, target_vocab_size counts every target token id (specials too);
  // for features, target_features is the width of each output vector.
  OutputKind output = OutputKind::tokens;
  int target_vocab_size = 0;
  int target_features = 0;

  // Longest target the decoder writes (repeat mode: the fixed output length, end token
  // included; teacher forcing: the default limit at inference).
  int max_target_length = 32;

  // Attention over the encoder's outputs (teacher_forcing only); with input_feed, the decoder's
  // layer-0 input at step t also holds the attentional vector of step t-1 (Luong et al. 2015).
  AttentionKind attention = AttentionKind::none;
  bool input_feed = false;

  // A bidirectional encoder (PyTorch's bidirectional=True, tensors named ..._reverse): its
  // outputs are [Ts, B, 2H] (forward and reverse directions concatenated), and the decoder
  // starts from its final states through `bridge`.
  bool bidirectional = false;
  // sum by default: ahead of linear on every seed measured (docs/CHECKPOINT.md).
  BridgeKind bridge = BridgeKind::sum;

  // Dropout probability in [0, 1) between stacked layers (as torch.nn.LSTM(dropout=p)) and on
  // the decoder's output before the head; training only.
  double dropout = 0;

  // Throws Error naming the first field that is out of range and what is allowed.
  void validate() const;
};

}  // namespace s2s
