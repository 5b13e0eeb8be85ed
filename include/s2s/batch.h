// A padded, time-major batch of source and target sequences with per-sequence lengths.
#pragma once

#include <cstdint>
#include <vector>

namespace s2s {

// Sources are token ids [Ts, B] or features [Ts, B, F]; targets are what the decoder must emit,
// token ids [Tt, B] (end token included) or features [Tt, B, Fo]. Index (t * B + b) (* F + f).
// Positions at or beyond a sequence's length are padding: their values are never read.
struct Batch {
  int batch_size = 0;  // B

  int source_length = 0;                     // Ts
  std::vector<std::int32_t> source_tokens;   // [Ts, B] (token inputs)
  std::vector<double> source_features;       // [Ts, B, F] (feature inputs)
  std::vector<std::int32_t> source_lengths;  // [B], each in [1, Ts]

  int target_length = 0;                     // Tt
  std::vector<std::int32_t> target_tokens;   // [Tt, B] (token outputs)
  std::vector<double> target_features;       // [Tt, B, Fo] (feature outputs)
  std::vector<std::int32_t> target_lengths;  // [B], each in [1, Tt]
};

// Fill one side of a batch. Each sets batch_size (all sides must agree: Error otherwise), the
// side's length (the longest sequence) and lengths, and pads. Throws Error for an empty list, an
// empty sequence, or a flattened size that is not a multiple of the feature count.
void set_source_tokens(Batch& batch, const std::vector<std::vector<std::int32_t>>& sources);
// sources[b] is [Ts_b, features] flattened.
void set_source_features(Batch& batch, const std::vector<std::vector<double>>& sources,
                         int features);
// Appends the end token to every target.
void set_target_tokens(Batch& batch, const std::vector<std::vector<std::int32_t>>& targets);
// targets[b] is [Tt_b, features] flattened.
void set_target_features(Batch& batch, const std::vector<std::vector<double>>& targets,
                         int features);

// Token sources and token targets (targets may be empty: a batch to predict from).
Batch make_token_batch(const std::vector<std::vector<std::int32_t>>& sources,
                       const std::vector<std::vector<std::int32_t>>& targets);

}  // namespace s2s
