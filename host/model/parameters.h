// Sizes derived from a ModelConfig, shared by the model, checkpoints and tests.
#pragma once

#include <string>
#include <vector>

#include "s2s/config.h"

namespace s2s {

// Width of the encoder's layer-0 input: embedding size, source vocabulary (one-hot) or features.
int encoder_input_size(const ModelConfig& config);
// Width of the decoder's layer-0 input: H in repeat mode; in teacher forcing the previous
// target as embedding, one-hot or features.
int decoder_input_size(const ModelConfig& config);
// Width of the decoder RNN's layer-0 input (weight_ih_l0's columns): decoder_input_size, plus
// H fed-back attentional columns with input feeding.
int decoder_rnn_input_size(const ModelConfig& config);
// Whether the decoder has its own embedding table (teacher forcing over tokens with embedding
// inputs); otherwise token decoder inputs are one-hot.
bool decoder_uses_embedding(const ModelConfig& config);
// Width D of the encoder's outputs that attention reads: H, or 2H when bidirectional.
int encoder_output_size(const ModelConfig& config);
// A linear bridge (docs/CHECKPOINT.md): the states it maps ("h", and "c" for an LSTM teacher-
// forcing decoder), the first layer it maps (0, or the top layer for a repeat decoder, which
// reads nothing else), and the name prefix of its index-th map, the one of layer
// first + index: decoder.bridge_<state>.<index> (a torch.nn.ModuleList of torch.nn.Linear).
std::vector<std::string> bridge_states(const ModelConfig& config);
int bridge_first_layer(const ModelConfig& config);
std::string bridge_prefix(const std::string& state, int index);
// Width of the output head: target vocabulary or target features.
int output_size(const ModelConfig& config);

}  // namespace s2s
