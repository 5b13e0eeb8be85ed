// Decoding a token model's outputs: greedy, beam search (length-normalised, n-best) and seeded
// sampling (temperature, top-k). docs/DECODING.md describes them; host/decode/ implements them
// over the model's step-by-step decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "s2s/batch.h"
#include "s2s/seq2seq.h"

namespace s2s {

// Largest beam: a batch decodes batch_size x beam_size rows at once, and each step ranks
// 2 x beam_size candidates per source, which the CUDA kernel selects in one block (at most 1,024).
constexpr int kMaxBeamSize = 512;

// One decoded output.
struct Hypothesis {
  std::vector<std::int32_t> tokens;  // ids, without the end token
  bool ended = false;                // ended with the end token (else stopped at max_length)
  int length = 0;                    // decoder steps: tokens, plus 1 for the end token if ended
  double score = 0;                  // sum of the model's log-probabilities of those steps
  double normalized_score = 0;       // score / length^length_penalty (what beam search ranks)
  // With DecodeOptions::attention and a model with attention: one row per step (length rows),
  // each the weights over the source's positions (its own length, padding cut off).
  std::vector<std::vector<double>> attention;
};

struct DecodeOptions {
  int max_length = 0;            // most steps (0: the model's max_target_length)
  bool attention = false;        // keep each step's attention weights (models with attention)
  // Beam search: beams per source (1: greedy, exactly), outputs kept per source (<= beam_size),
  // and alpha in score / length^alpha (>= 0; 1, the default, ranks by the mean log-probability
  // per step as fairseq's lenpen does; 0: the raw sum, which favours short outputs).
  int beam_size = 1;
  int n_best = 1;
  double length_penalty = 1;
  // Sampling: softmax(logits / temperature) (> 0), restricted to the top_k most likely tokens
  // (0: all); each source's draws come from Rng(seed, its index), so they do not depend on
  // batching.
  double temperature = 1;
  int top_k = 0;
  std::uint64_t seed = 0;

  // Throws Error naming the field, its value and what is allowed.
  void validate() const;
};

// Greedy decoding (the argmax at every step, as predict_tokens), one hypothesis per source,
// with its score; normalized_score uses length_penalty.
template <typename T>
std::vector<Hypothesis> greedy_decode(BasicSeq2Seq<T>& model, const Batch& batch,
                                      const DecodeOptions& options);

// Beam search: per source, the n_best hypotheses in descending normalized_score (ties: the one
// finished first). beam_size 1 is greedy_decode.
template <typename T>
std::vector<std::vector<Hypothesis>> beam_search(BasicSeq2Seq<T>& model, const Batch& batch,
                                                 const DecodeOptions& options);

// Sampling: one hypothesis per source; source b draws from Rng seeded by (seed, first_index + b),
// so a source's sample depends on its index in the whole input, not on the batch it is in.
template <typename T>
std::vector<Hypothesis> sample_decode(BasicSeq2Seq<T>& model, const Batch& batch,
                                      const DecodeOptions& options, std::size_t first_index = 0);

namespace detail {
// The beam search itself, also for beam_size 1 (tests compare it with greedy decoding).
template <typename T>
std::vector<std::vector<Hypothesis>> beam_search_steps(BasicSeq2Seq<T>& model, const Batch& batch,
                                                       const DecodeOptions& options);
}  // namespace detail

}  // namespace s2s
