// Sampling through the step decoder: at every step each source draws its next token from
// softmax(logits / temperature), restricted to its top_k most likely tokens when top_k > 0, with
// its own Rng, so a draw depends on the seed and the source's index only (not on batching).
// The draw is made on the host in double from the head's raw outputs: top_k 1 then keeps the
// first maximum, greedy decoding's argmax, exactly. A hypothesis' score is the sum of the
// model's (untempered) log-probabilities, as beam search's.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "cpu/flush_denormals.h"
#include "decode/decode_common.h"
#include "s2s/random.h"
#include "s2s/vocab.h"

namespace s2s {

namespace {

// SplitMix64's finaliser: spreads (seed, index) over the engine's seed space so that nearby
// seeds and indices give unrelated streams.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Draws one id from row (length V) with the options' temperature and top-k.
template <typename T>
std::int32_t draw(const T* row, int V, const DecodeOptions& options, Rng& rng,
                  std::vector<int>& order, std::vector<double>& weight) {
  for (int v = 0; v < V; ++v)
    if (!std::isfinite(static_cast<double>(row[v]))) return -1;
  order.resize(V);
  std::iota(order.begin(), order.end(), 0);
  int kept = V;
  if (options.top_k > 0 && options.top_k < V) {
    kept = options.top_k;
    // Larger first, ties to the lower id (argmax's first maximum).
    std::partial_sort(order.begin(), order.begin() + kept, order.end(), [&](int a, int b) {
      return row[a] != row[b] ? row[a] > row[b] : a < b;
    });
    order.resize(kept);
    std::sort(order.begin(), order.end());
  }
  double top = -std::numeric_limits<double>::infinity();
  for (int v : order) top = std::max(top, static_cast<double>(row[v]));
  weight.assign(kept, 0.0);
  double total = 0;
  for (int i = 0; i < kept; ++i) {
    weight[i] = std::exp((static_cast<double>(row[order[i]]) - top) / options.temperature);
    total += weight[i];
  }
  if (!std::isfinite(total) || !(total > 0)) return -1;
  const double u = rng.uniform() * total;
  double sum = 0;
  for (int i = 0; i < kept; ++i) {
    sum += weight[i];
    if (u < sum) return order[i];
  }
  // u fell in the rounding gap at the top: the last token with weight.
  for (int i = kept - 1; i >= 0; --i)
    if (weight[i] > 0) return order[i];
  return order[kept - 1];
}

}  // namespace

template <typename T>
std::vector<Hypothesis> sample_decode(BasicSeq2Seq<T>& model, const Batch& batch,
                                      const DecodeOptions& options, std::size_t first_index) {
  decode::check_request(model, options);
  const FlushDenormals flush;
  StepDecoder<T> decoder(model);
  const int limit = decoder.start(batch, 1, options.max_length);
  const int B = decoder.rows(), V = decoder.vocab();
  std::vector<Rng> rngs;
  for (int b = 0; b < B; ++b)
    rngs.emplace_back(mix(options.seed ^ mix(static_cast<std::uint64_t>(first_index + b))));
  std::vector<std::int32_t> tokens(B, Vocabulary::start_id);
  std::vector<T> logits(static_cast<std::size_t>(B) * V), log_probs(logits.size());
  std::vector<Hypothesis> out(B);
  std::vector<bool> done(B, false);
  std::vector<int> order;
  std::vector<double> weight;
  for (int t = 0; t < limit; ++t) {
    const T* lp = decoder.step(tokens);
    decoder.memory().download(logits.data(), decoder.logits(), logits.size() * sizeof(T));
    decoder.memory().download(log_probs.data(), lp, log_probs.size() * sizeof(T));
    auto attention = decode::attention_rows(decoder, batch, 1, options.attention);
    bool all_done = true;
    for (int b = 0; b < B; ++b) {
      if (done[b]) continue;
      const std::size_t row = static_cast<std::size_t>(b) * V;
      const std::int32_t id = draw(logits.data() + row, V, options, rngs[b], order, weight);
      if (id < 0)
        throw Error("sampling: the model's outputs for source " +
                    std::to_string(first_index + b + 1) + " at step " + std::to_string(t + 1) +
                    " are not finite numbers");
      Hypothesis& h = out[b];
      h.score += static_cast<double>(log_probs[row + id]);
      ++h.length;
      if (options.attention) h.attention.push_back(std::move(attention[b]));
      tokens[b] = id;
      if (id == Vocabulary::end_id) {
        h.ended = true;
        done[b] = true;
      } else {
        h.tokens.push_back(id);
        all_done = false;
      }
    }
    if (all_done) break;
  }
  for (auto& h : out)
    h.normalized_score = decode::normalized_score(h.score, h.length, options.length_penalty);
  return out;
}

template std::vector<Hypothesis> sample_decode(BasicSeq2Seq<float>&, const Batch&,
                                               const DecodeOptions&, std::size_t);
template std::vector<Hypothesis> sample_decode(BasicSeq2Seq<double>&, const Batch&,
                                               const DecodeOptions&, std::size_t);

}  // namespace s2s
