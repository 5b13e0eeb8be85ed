// Random ragged batches for whole-model tests (tests/test_bidirectional.cpp,
// tests/test_dropout.cpp): token or feature sequences of the given lengths.
#pragma once

#include <cstdint>
#include <vector>

#include "gradcheck.h"
#include "s2s/batch.h"
#include "s2s/config.h"
#include "s2s/random.h"
#include "s2s/vocab.h"

namespace s2s::test {

// Sources of source_lengths and targets of target_lengths (an end token included), random
// contents that fit config (ids past the special tokens, features in [-1, 1]).
inline Batch random_ragged_batch(const ModelConfig& config, Rng& rng,
                                 const std::vector<int>& source_lengths,
                                 const std::vector<int>& target_lengths) {
  Batch batch;
  if (config.input == InputKind::features) {
    std::vector<std::vector<double>> sources;
    for (int n : source_lengths)
      sources.push_back(random_vector(static_cast<std::size_t>(n) * config.source_features, rng));
    set_source_features(batch, sources, config.source_features);
  } else {
    std::vector<std::vector<std::int32_t>> sources;
    for (int n : source_lengths) {
      std::vector<std::int32_t> s;
      for (int i = 0; i < n; ++i)
        s.push_back(Vocabulary::special_count +
                    static_cast<int>(rng.below(config.source_vocab_size - Vocabulary::special_count)));
      sources.push_back(s);
    }
    set_source_tokens(batch, sources);
  }
  if (config.output == OutputKind::features) {
    std::vector<std::vector<double>> targets;
    for (int n : target_lengths)
      targets.push_back(random_vector(static_cast<std::size_t>(n) * config.target_features, rng));
    set_target_features(batch, targets, config.target_features);
  } else {
    std::vector<std::vector<std::int32_t>> targets;
    for (int n : target_lengths) {
      std::vector<std::int32_t> t;
      for (int i = 0; i < n - 1; ++i)  // the end token makes it n
        t.push_back(Vocabulary::special_count +
                    static_cast<int>(rng.below(config.target_vocab_size - Vocabulary::special_count)));
      targets.push_back(t);
    }
    set_target_tokens(batch, targets);
  }
  return batch;
}

}  // namespace s2s::test
