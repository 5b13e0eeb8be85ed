// What the decoders in host/decode/ share: the length-normalised score, the start checks, and
// the attention rows of one step cut to each source's length.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "model/step_decoder.h"
#include "s2s/decoding.h"
#include "s2s/error.h"

namespace s2s::decode {

// score / length^alpha; alpha 0 leaves the score exactly as it is.
inline double normalized_score(double score, int length, double alpha) {
  return alpha == 0 ? score : score / std::pow(static_cast<double>(length), alpha);
}

// Checks the options and that the model can give what they ask.
template <typename T>
void check_request(const BasicSeq2Seq<T>& model, const DecodeOptions& options) {
  options.validate();
  require(model.config().output == OutputKind::tokens,
          "decoding: this model outputs features (decoding chooses tokens)");
  require(!options.attention || model.config().attention != AttentionKind::none,
          "decoding: this model has no attention, so there are no attention weights to keep "
          "(train it with --attention dot|general|additive)");
}

// The last step's attention weights, row r cut to its source's length (source r / copies);
// empty rows when not wanted.
template <typename T>
std::vector<std::vector<double>> attention_rows(StepDecoder<T>& decoder, const Batch& batch,
                                                int copies, bool wanted) {
  std::vector<std::vector<double>> rows(decoder.rows());
  if (!wanted) return rows;
  const std::vector<T> weights = decoder.attention();
  const std::size_t width = static_cast<std::size_t>(batch.source_length);
  require(weights.size() == rows.size() * width,
          "decoding: the model gave " + std::to_string(weights.size()) +
              " attention weights for " + std::to_string(rows.size()) + " rows of " +
              std::to_string(width) + " source positions");
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int length = batch.source_lengths[r / copies];
    rows[r].assign(weights.begin() + r * width, weights.begin() + r * width + length);
  }
  return rows;
}

}  // namespace s2s::decode
