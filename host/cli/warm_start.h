// `s2s train --init MODEL`: start from a compatible checkpoint's weights with a fresh optimizer.
#pragma once

#include <string>

#include "s2s/checkpoint.h"
#include "s2s/config.h"
#include "s2s/vocab.h"

namespace s2s::cli {

// Compatible means the same parameter tensors with the same meaning: the same cell, hidden
// size, layers, decoder mode, input kind (and embedding size, source features), output kind and
// the same source and target vocabularies, symbol by symbol. max_target_length may differ (it
// sizes no parameter): a pq model from 300 dashes accepts the longer sequences of 1,000. Throws
// Error naming `flag path`, the first field that differs, and both values.
void check_compatible(const CheckpointData& from, const ModelConfig& config,
                      const Vocabulary& source_vocab, const Vocabulary& target_vocab,
                      const std::string& what);

}  // namespace s2s::cli
