// Every limit the readers of s2s enforce on files a user hands them (checkpoints, pair files,
// JSON metadata), in one place so that the code and docs/CHECKPOINT.md ("Limits") agree. Each
// is far beyond what these models are used at; each exists so that a damaged or hostile file
// is refused with an s2s::Error before it can exhaust the stack, memory or time.
#pragma once

#include <cstdint>

namespace s2s::limits {

// ---- Files ----
// Largest checkpoint file read (bytes). A model at the config's own limits would be larger,
// but no machine that runs these networks trains one; 16 GiB holds an LSTM of hidden size
// 16384 with Adam state.
constexpr std::uint64_t kMaxCheckpointFileBytes = std::uint64_t{16} << 30;
// Largest pair file read (bytes): 1 GiB of input<TAB>target lines.
constexpr std::uint64_t kMaxPairFileBytes = std::uint64_t{1} << 30;
// Longest line of a pair file or of predict's stdin (bytes, the newline not counted).
constexpr std::uint64_t kMaxLineBytes = std::uint64_t{1} << 20;
// Largest modulus of a real-valued pair file (and of the progression task): its classes are
// shown as the private-use characters U+E000..U+F8FF, 6400 of them.
constexpr int kMaxNumberModulus = 6400;

// ---- safetensors framing ----
// Largest header (the JSON after the 8-byte length), the reference implementation's limit.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// Most tensors in one file (a checkpoint at 64 layers with Adam state has under 1,600).
constexpr std::uint64_t kMaxTensorCount = 65'536;
// Most dimensions of one tensor.
constexpr std::uint64_t kMaxTensorRank = 8;
// Largest single dimension of a tensor (the largest vocabulary size a config allows).
constexpr std::uint64_t kMaxTensorDimension = std::uint64_t{1} << 24;

// ---- JSON (the header and every metadata value) ----
// Deepest nesting of arrays and objects; s2s's own metadata nests 4 deep.
constexpr int kMaxJsonDepth = 64;

// ---- Model sizes (ModelConfig::validate) ----
constexpr int kMaxHiddenSize = 1 << 16;        // also embedding size and feature counts
constexpr int kMaxLayers = 64;
constexpr int kMaxVocabularySize = 1 << 24;    // token ids, the three specials included
// Longest sequence a checkpoint may declare: max_target_length, and the longest source and the
// padded input width recorded for predict. A decoder runs max_target_length steps and keeps
// their states, so this bounds what predict allocates per input.
constexpr int kMaxSequenceLength = 1 << 16;

}  // namespace s2s::limits
