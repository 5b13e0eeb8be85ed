// Beam search over the step decoder: K rows per source, each a live hypothesis (its tokens and
// the sum of its log-probabilities). Every step ranks all K x V continuations of a source on the
// backend (beam_candidates) and walks the best 2K in order: an end token among the first K
// finishes a hypothesis, the best K others go on (2K candidates always hold K that are not an
// end token, since each beam has one). At the last step the first K candidates finish, ended
// or not. Finished hypotheses are ranked by score / length^alpha, the length counting the end
// token. A source stops once its best candidate of a step has been an end token and n_best
// hypotheses have finished (as OpenNMT-py does). Stopping at K finished hypotheses instead (as
// fairseq does) let poor hypotheses that ended early fill the K before the right answer could
// finish: on pq-100 (answers of ~100 tokens) beam 5 matched 0% where greedy matched 100%.
//
// Only the first K candidates may finish (as fairseq does), so that a finish ranks with the
// beam's own choices: with K = 1 this is exactly greedy decoding's path. beam_search itself
// sends beam_size 1 to greedy_decode, whose argmax reads the head's raw outputs: ranking the
// log-probabilities instead can tie two outputs that differ in the last bit (the log-softmax
// and the running sum round), and greedy output must not change.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "cpu/flush_denormals.h"
#include "decode/decode_common.h"
#include "s2s/buffer.h"
#include "s2s/vocab.h"

namespace s2s {

namespace {

// A live hypothesis: one decoder row.
struct Live {
  bool alive = false;
  double score = 0;  // as the backend summed it (type T), widened
  std::vector<std::int32_t> tokens;
  std::vector<std::vector<double>> attention;
};

}  // namespace

namespace detail {

template <typename T>
std::vector<std::vector<Hypothesis>> beam_search_steps(BasicSeq2Seq<T>& model, const Batch& batch,
                                                       const DecodeOptions& options) {
  decode::check_request(model, options);
  const FlushDenormals flush;
  const int K = options.beam_size;
  StepDecoder<T> decoder(model);
  const int limit = decoder.start(batch, K, options.max_length);
  const int B = batch.batch_size, N = decoder.rows(), V = decoder.vocab();
  const int count = std::min(2 * K, K * V);
  Memory& memory = decoder.memory();
  Buffer<T> beam_scores(memory, static_cast<std::size_t>(N));
  Buffer<T> candidate_scores(memory, static_cast<std::size_t>(B) * count);
  Buffer<std::int32_t> candidate_ids(memory, static_cast<std::size_t>(B) * count);
  std::vector<T> scores_host(N), cand_scores(static_cast<std::size_t>(B) * count);
  std::vector<std::int32_t> cand_ids(static_cast<std::size_t>(B) * count);

  std::vector<Live> live(N);
  for (int b = 0; b < B; ++b) live[static_cast<std::size_t>(b) * K].alive = true;
  std::vector<std::vector<Hypothesis>> finished(B);
  std::vector<bool> done(B, false), top_ended(B, false);
  std::vector<std::int32_t> tokens(N), parents(N);

  for (int t = 0; t < limit; ++t) {
    const bool last = t + 1 == limit;
    for (int r = 0; r < N; ++r) {
      tokens[r] = live[r].alive && !live[r].tokens.empty() ? live[r].tokens.back()
                                                           : Vocabulary::start_id;
      scores_host[r] = live[r].alive ? static_cast<T>(live[r].score)
                                     : -std::numeric_limits<T>::infinity();
    }
    memory.upload(beam_scores.data(), scores_host.data(), scores_host.size() * sizeof(T));
    const T* log_probs = decoder.step(tokens);
    auto attention = decode::attention_rows(decoder, batch, K, options.attention);
    decoder.ops().beam_candidates(log_probs, beam_scores.data(), B, K, V, count,
                                  candidate_scores.data(), candidate_ids.data());
    memory.download(cand_scores.data(), candidate_scores.data(), cand_scores.size() * sizeof(T));
    memory.download(cand_ids.data(), candidate_ids.data(), cand_ids.size() * sizeof(std::int32_t));

    std::vector<Live> next(N);
    for (int r = 0; r < N; ++r) parents[r] = r;
    bool any_alive = false;
    for (int b = 0; b < B; ++b) {
      if (done[b]) continue;
      int filled = 0;
      for (int i = 0; i < count; ++i) {
        const double s = static_cast<double>(cand_scores[static_cast<std::size_t>(b) * count + i]);
        // Sorted, with -inf (a dead beam, an impossible token) and NaN last: nothing follows.
        if (!(s > -std::numeric_limits<double>::infinity())) break;
        const std::int32_t id = cand_ids[static_cast<std::size_t>(b) * count + i];
        const int parent = b * K + id / V;
        const std::int32_t v = id % V;
        const Live& from = live[parent];
        if (v == Vocabulary::end_id || last) {
          if (i == 0) top_ended[b] = true;
          if (i < K) {
            Hypothesis h;
            h.tokens = std::vector<std::int32_t>(from.tokens);
            h.ended = v == Vocabulary::end_id;
            if (!h.ended) h.tokens.push_back(v);
            h.length = t + 1;
            h.score = s;
            h.normalized_score = decode::normalized_score(s, h.length, options.length_penalty);
            if (options.attention) {
              h.attention = from.attention;
              h.attention.push_back(attention[parent]);
            }
            finished[b].push_back(std::move(h));
          }
        } else if (filled < K) {
          Live& to = next[static_cast<std::size_t>(b) * K + filled];
          to.alive = true;
          to.score = s;
          to.tokens = std::vector<std::int32_t>(from.tokens);
          to.tokens.push_back(v);
          if (options.attention) {
            to.attention = from.attention;
            to.attention.push_back(attention[parent]);
          }
          parents[b * K + filled] = parent;
          ++filled;
        }
        if (i + 1 >= K && (filled == K || last)) break;
      }
      if ((top_ended[b] && static_cast<int>(finished[b].size()) >= options.n_best) ||
          filled == 0) {
        done[b] = true;
        for (int k = 0; k < K; ++k) next[static_cast<std::size_t>(b) * K + k].alive = false;
      } else {
        any_alive = true;
      }
    }
    live = std::move(next);
    if (!any_alive) break;
    decoder.reorder(parents);
  }

  for (auto& list : finished) {
    std::stable_sort(list.begin(), list.end(), [](const Hypothesis& a, const Hypothesis& b) {
      return a.normalized_score > b.normalized_score;
    });
    if (static_cast<int>(list.size()) > options.n_best) list.resize(options.n_best);
  }
  return finished;
}

template std::vector<std::vector<Hypothesis>> beam_search_steps(BasicSeq2Seq<float>&,
                                                                const Batch&,
                                                                const DecodeOptions&);
template std::vector<std::vector<Hypothesis>> beam_search_steps(BasicSeq2Seq<double>&,
                                                                const Batch&,
                                                                const DecodeOptions&);
}  // namespace detail

template <typename T>
std::vector<std::vector<Hypothesis>> beam_search(BasicSeq2Seq<T>& model, const Batch& batch,
                                                 const DecodeOptions& options) {
  options.validate();
  if (options.beam_size > 1) return detail::beam_search_steps(model, batch, options);
  std::vector<std::vector<Hypothesis>> out;
  for (auto& h : greedy_decode(model, batch, options)) out.push_back({std::move(h)});
  return out;
}

template std::vector<std::vector<Hypothesis>> beam_search(BasicSeq2Seq<float>&, const Batch&,
                                                          const DecodeOptions&);
template std::vector<std::vector<Hypothesis>> beam_search(BasicSeq2Seq<double>&, const Batch&,
                                                          const DecodeOptions&);

}  // namespace s2s
