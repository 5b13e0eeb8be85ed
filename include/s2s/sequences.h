// What the trainer learns from: token or real-valued source sequences paired with token targets,
// the validation split, and seed 002's `progression` task (real-valued inputs, class targets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "s2s/batch.h"
#include "s2s/tasks.h"
#include "s2s/vocab.h"

namespace s2s {

// Examples for a model with token outputs. Sources are either token ids (source_features == 0)
// or real-valued vectors of source_features values per step (source_features > 0).
struct SequenceData {
  Vocabulary source_vocab;  // token sources only (empty for feature sources)
  Vocabulary target_vocab;
  int source_features = 0;  // 0: token sources; F >= 1: feature sources

  std::vector<std::vector<std::int32_t>> source_tokens;  // token sources: ids per step
  std::vector<std::vector<double>> source_values;        // feature sources: [T_i, F] flattened
  // Token ids, without the end token; empty for data to predict from (no targets at all).
  std::vector<std::vector<std::int32_t>> targets;

  std::size_t size() const {
    return feature_sources() ? source_values.size() : source_tokens.size();
  }
  bool feature_sources() const { return source_features > 0; }
  // Steps of example i's source.
  int source_length(std::size_t i) const;
  // Longest source and target over all examples (0 when empty); targets without the end token.
  int max_source_length() const;
  int max_target_length() const;
  // Throws Error when sides disagree in size, a sequence is empty, or an id is outside its
  // vocabulary (naming the example).
  void validate() const;
};

// Token pairs as SequenceData (vocabularies and ids kept).
SequenceData sequence_data(const TokenDataset& tokens);

// The examples at `indices`, in that order, with the same vocabularies.
SequenceData select(const SequenceData& data, const std::vector<std::size_t>& indices);

// The batch of examples order[begin, end): sources (tokens or features) and targets (the end
// token appended; none when data has no targets). Throws Error for an empty or out-of-range
// slice.
Batch make_batch(const SequenceData& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end);

// Seed 001's split: one shuffle of the indices with Rng(seed), then the last
// floor(size * fraction) examples are validation, the rest training (both keep the shuffled
// order). fraction 0 gives no validation set. Throws Error for a fraction outside [0, 1) or a
// split that leaves either side empty (saying how many examples there are).
struct ValidationSplit {
  SequenceData train;
  SequenceData valid;
};
ValidationSplit split_validation(const SequenceData& data, double fraction, std::uint64_t seed);

// Seed 002's progression: sequences s_0, ..., s_length with s_{k+1} = multiplier * s_k mod
// modulus. Source: s_0 .. s_{length-1} as one real value s/modulus per step (normalised to
// [0, 1)); target: s_1 .. s_length as class tokens (number n is id Vocabulary::special_count+n).
struct ProgressionOptions {
  int modulus = 50;
  int multiplier = 3;
  int length = 10;        // steps per source and per target
  int size = 0;           // sequences; 0 = modulus (every start once, as the seed does)
  std::uint64_t seed = 1;  // which starts when size < modulus, and their order
};
// Sequence i starts at start i of a seeded permutation of 0..modulus-1 (repeated when size >
// modulus). Throws Error for options out of range (naming them and what is allowed).
SequenceData generate_progression(const ProgressionOptions& options);
// The target vocabulary of the progression task: `modulus` classes, number n -> id 3 + n. Its
// symbols are placeholders (private-use characters U+E000 + n); show numbers to users.
Vocabulary progression_vocab(int modulus);
// Number n of a progression target id (id - special_count), -1 for the special ids.
int progression_number(std::int32_t id);

// Real-valued pair files, what `s2s gen --task progression` writes (docs/CONVENTIONS.md, "Pair
// files"): a first line "#s2s-numbers modulus=M", then lines "a b c<TAB>x y z" of whole numbers
// 0..M-1 separated by spaces. Inputs become one feature per step, n/M; targets the classes of
// progression_vocab(M).
// The first line of such a file for modulus M.
std::string number_pairs_header(int modulus);
// True when first_line starts a real-valued pair file (text pair files are read otherwise).
bool holds_number_pairs(const std::string& first_line);
// Reads a real-valued pair file. Throws Error naming the source and line for a missing or bad
// header, a missing tab, a number outside 0..M-1 or not whole, an empty side, more than
// limits::kMaxSequenceLength numbers on a side, a line over limits::kMaxLineBytes, or no pairs.
SequenceData parse_number_pairs(std::istream& in, const std::string& source_name);

}  // namespace s2s
