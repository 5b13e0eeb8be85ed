// Greedy decoding through the step decoder: the argmax of the head's outputs at every step, the
// same choice (the same op on the same numbers) as BasicSeq2Seq::predict_tokens, plus each
// output's score and, for models with attention, its attention weights.
#include <cstdint>
#include <vector>

#include "cpu/flush_denormals.h"
#include "decode/decode_common.h"
#include "s2s/buffer.h"
#include "s2s/vocab.h"

namespace s2s {

template <typename T>
std::vector<Hypothesis> greedy_decode(BasicSeq2Seq<T>& model, const Batch& batch,
                                      const DecodeOptions& options) {
  decode::check_request(model, options);
  const FlushDenormals flush;
  StepDecoder<T> decoder(model);
  const int limit = decoder.start(batch, 1, options.max_length);
  const int B = decoder.rows(), V = decoder.vocab();
  Buffer<std::int32_t> choice(decoder.memory(), static_cast<std::size_t>(B));
  std::vector<std::int32_t> tokens(B, Vocabulary::start_id), ids(B);
  std::vector<T> log_probs(static_cast<std::size_t>(B) * V);
  std::vector<Hypothesis> out(B);
  std::vector<bool> done(B, false);
  for (int t = 0; t < limit; ++t) {
    const T* lp = decoder.step(tokens);
    decoder.ops().argmax(decoder.logits(), B, V, choice.data());
    decoder.memory().download(ids.data(), choice.data(), ids.size() * sizeof(std::int32_t));
    decoder.memory().download(log_probs.data(), lp, log_probs.size() * sizeof(T));
    auto attention = decode::attention_rows(decoder, batch, 1, options.attention);
    bool all_done = true;
    for (int b = 0; b < B; ++b) {
      if (done[b]) continue;
      Hypothesis& h = out[b];
      h.score += static_cast<double>(log_probs[static_cast<std::size_t>(b) * V + ids[b]]);
      ++h.length;
      if (options.attention) h.attention.push_back(std::move(attention[b]));
      if (ids[b] == Vocabulary::end_id) {
        h.ended = true;
        done[b] = true;
      } else {
        h.tokens.push_back(ids[b]);
        all_done = false;
      }
    }
    if (all_done) break;
    tokens = ids;
  }
  for (auto& h : out)
    h.normalized_score = decode::normalized_score(h.score, h.length, options.length_penalty);
  return out;
}

template std::vector<Hypothesis> greedy_decode(BasicSeq2Seq<float>&, const Batch&,
                                               const DecodeOptions&);
template std::vector<Hypothesis> greedy_decode(BasicSeq2Seq<double>&, const Batch&,
                                               const DecodeOptions&);

}  // namespace s2s
