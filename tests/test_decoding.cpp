// Decoding: the beam_candidates op against a selection by hand (ties, dead beams, NaN); beam
// search against an exhaustive search scored by the model's own loss; beam size 1 against
// greedy predict_tokens; n-best order and scores; sampling's reproducibility, top-k 1 against
// greedy, and its draw frequencies against softmax(logits / temperature); option errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "expect_error.h"
#include "s2s/backend.h"
#include "s2s/decoding.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace s2s {
namespace {

// Scores summed step by step (decoding) and by the teacher-forced loss (exhaustive search)
// differ by float64 rounding only.
constexpr double kScoreTolerance = 1e-9;
// The same scores summed in float over at most 8 steps of log-probabilities near -1.
constexpr double kFloatScoreTolerance = 1e-4;
// Draw frequencies are checked to this many binomial standard deviations.
constexpr double kFrequencySigmas = 5.0;

// ---- beam_candidates ---------------------------------------------------------------------

template <typename T>
class BeamCandidatesCpu : public testing::Test {};
using Precisions = testing::Types<float, double>;
TYPED_TEST_SUITE(BeamCandidatesCpu, Precisions);

// The contract by selection: repeatedly take the best remaining candidate (higher score, then
// lower id), NaN below everything.
template <typename T>
void select_by_hand(const std::vector<T>& log_probs, const std::vector<T>& beam_scores, int batch,
                    int beams, int vocab, int count, std::vector<T>& scores,
                    std::vector<std::int32_t>& ids) {
  scores.clear();
  ids.clear();
  for (int b = 0; b < batch; ++b) {
    std::vector<bool> taken(static_cast<std::size_t>(beams) * vocab, false);
    for (int i = 0; i < count; ++i) {
      int best = -1;
      T best_score = 0;
      for (int id = 0; id < beams * vocab; ++id) {
        if (taken[id]) continue;
        const int row = b * beams + id / vocab;
        const T s = beam_scores[row] + log_probs[static_cast<std::size_t>(row) * vocab + id % vocab];
        const bool better = best < 0 || (std::isnan(best_score) && !std::isnan(s)) ||
                            (!std::isnan(s) && !std::isnan(best_score) && s > best_score);
        if (better) {
          best = id;
          best_score = s;
        }
      }
      taken[best] = true;
      scores.push_back(best_score);
      ids.push_back(best);
    }
  }
}

TYPED_TEST(BeamCandidatesCpu, MatchesSelectionWithTiesAndDeadBeams) {
  using T = TypeParam;
  auto ops = make_ops<T>(BackendKind::cpu);
  Rng rng(5);
  const int batch = 3, beams = 4, vocab = 5;
  for (int count : {1, 3, 2 * beams, beams * vocab}) {
    // Values from a small set of exactly representable numbers: many ties.
    std::vector<T> log_probs(static_cast<std::size_t>(batch) * beams * vocab);
    for (auto& v : log_probs) v = static_cast<T>(-0.25 * static_cast<double>(rng.below(6)));
    std::vector<T> beam_scores(static_cast<std::size_t>(batch) * beams);
    for (auto& v : beam_scores) v = static_cast<T>(-0.5 * static_cast<double>(rng.below(3)));
    beam_scores[1] = -std::numeric_limits<T>::infinity();  // a dead beam of source 0
    beam_scores[6] = -std::numeric_limits<T>::infinity();  // and of source 1
    std::vector<T> scores(static_cast<std::size_t>(batch) * count);
    std::vector<std::int32_t> ids(scores.size());
    ops->beam_candidates(log_probs.data(), beam_scores.data(), batch, beams, vocab, count,
                         scores.data(), ids.data());
    std::vector<T> want_scores;
    std::vector<std::int32_t> want_ids;
    select_by_hand(log_probs, beam_scores, batch, beams, vocab, count, want_scores, want_ids);
    EXPECT_EQ(ids, want_ids) << "count " << count;
    EXPECT_EQ(scores, want_scores) << "count " << count;
  }
}

TYPED_TEST(BeamCandidatesCpu, NanRanksBelowEveryNumber) {
  using T = TypeParam;
  auto ops = make_ops<T>(BackendKind::cpu);
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<T> log_probs{nan, -1, -std::numeric_limits<T>::infinity(), nan, -2, -0.5};
  const std::vector<T> beam_scores{0, 0};
  std::vector<T> scores(6);
  std::vector<std::int32_t> ids(6);
  ops->beam_candidates(log_probs.data(), beam_scores.data(), 1, 2, 3, 6, scores.data(),
                       ids.data());
  EXPECT_EQ(ids, (std::vector<std::int32_t>{5, 1, 4, 2, 0, 3}));
}

// ---- models --------------------------------------------------------------------------------

struct ModelCase {
  std::string name;
  CellType cell;
  DecoderMode mode;
  InputKind input;
  int layers;
  AttentionKind attention = AttentionKind::none;
  bool input_feed = false;
  bool bidirectional = false;
};
std::string case_name(const testing::TestParamInfo<ModelCase>& info) { return info.param.name; }
void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.name; }

const std::vector<ModelCase> kModelCases{
    {"lstm_embedding_1", CellType::lstm, DecoderMode::teacher_forcing, InputKind::embedding, 1},
    {"gru_onehot_2", CellType::gru, DecoderMode::teacher_forcing, InputKind::one_hot, 2},
    {"tanh_embedding_2", CellType::rnn, DecoderMode::teacher_forcing, InputKind::embedding, 2},
    {"lstm_repeat_1", CellType::lstm, DecoderMode::repeat, InputKind::one_hot, 1},
    // Attention: the step decoder binds it to the beam's expanded encoder outputs, and with
    // input feeding the fed h~ rows follow the beam's reordering.
    {"lstm_general_feed_bidirectional", CellType::lstm, DecoderMode::teacher_forcing,
     InputKind::embedding, 1, AttentionKind::general, true, true},
    {"gru_additive_onehot_2", CellType::gru, DecoderMode::teacher_forcing, InputKind::one_hot, 2,
     AttentionKind::additive},
    {"tanh_dot_feed_onehot_1", CellType::rnn, DecoderMode::teacher_forcing, InputKind::one_hot,
     1, AttentionKind::dot, true},
};

// target_vocab_size 5: the three special tokens and two symbols.
ModelConfig tiny_config(const ModelCase& c, int max_length) {
  ModelConfig config;
  config.cell = c.cell;
  config.mode = c.mode;
  config.input = c.input;
  config.output = OutputKind::tokens;
  config.layers = c.layers;
  config.hidden_size = 4;
  config.embedding_size = 3;
  config.source_vocab_size = 6;
  config.target_vocab_size = 5;
  config.max_target_length = max_length;
  config.attention = c.attention;
  config.input_feed = c.input_feed;
  config.bidirectional = c.bidirectional;
  return config;
}

// A random model with its parameters scaled up, so that its next-token distributions are
// peaked and differ between sequences (searches then disagree with greedy decoding).
template <typename T>
BasicSeq2Seq<T> peaked_model(const ModelConfig& config, std::uint64_t seed, double scale) {
  BasicSeq2Seq<T> model(config, seed);
  std::vector<T> p = model.parameters();
  for (auto& v : p) v = static_cast<T>(v * scale);
  model.set_parameters(p);
  return model;
}

std::vector<std::vector<std::int32_t>> random_sources(int count, Rng& rng) {
  std::vector<std::vector<std::int32_t>> sources;
  for (int i = 0; i < count; ++i) {
    std::vector<std::int32_t> s(1 + rng.below(4));
    for (auto& id : s) id = Vocabulary::special_count + static_cast<int>(rng.below(3));
    sources.push_back(s);
  }
  return sources;
}

// The model's log-probability of target (steps exactly as given: the end token is in it when
// the sequence ended), from the teacher-forced loss: mean NLL x steps.
template <typename T>
double sequence_score(BasicSeq2Seq<T>& model, const std::vector<std::int32_t>& source,
                      const std::vector<std::int32_t>& target) {
  Batch batch = make_token_batch({source}, {});
  batch.target_length = static_cast<int>(target.size());
  batch.target_tokens = target;
  batch.target_lengths = {static_cast<std::int32_t>(target.size())};
  return -model.loss(batch) * static_cast<double>(target.size());
}

struct Scored {
  std::vector<std::int32_t> tokens;
  bool ended;
  double score, normalized;
};

// Every output of at most max_length steps over the vocabulary: ended ones (tokens then the
// end token) and those cut at max_length (max_length tokens, no end token), each scored by the
// model, best normalised score first.
template <typename T>
std::vector<Scored> exhaustive_search(BasicSeq2Seq<T>& model, const std::vector<std::int32_t>& source,
                                      int max_length, double alpha) {
  const int V = model.config().target_vocab_size;
  std::vector<Scored> all;
  std::vector<std::vector<std::int32_t>> prefixes{{}};
  for (int n = 0; n <= max_length; ++n) {
    std::vector<std::vector<std::int32_t>> longer;
    for (const auto& p : prefixes) {
      std::vector<std::int32_t> target = p;
      if (n < max_length) {
        target.push_back(Vocabulary::end_id);
        const double s = sequence_score(model, source, target);
        all.push_back({p, true, s, s / std::pow(n + 1.0, alpha)});
        for (int v = 0; v < V; ++v) {
          if (v == Vocabulary::end_id) continue;
          longer.push_back(p);
          longer.back().push_back(v);
        }
      } else {
        const double s = sequence_score(model, source, target);
        all.push_back({p, false, s, s / std::pow(static_cast<double>(n), alpha)});
      }
    }
    prefixes = std::move(longer);
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Scored& a, const Scored& b) { return a.normalized > b.normalized; });
  return all;
}

class BeamSearch : public testing::TestWithParam<ModelCase> {};

TEST_P(BeamSearch, MatchesExhaustiveSearchWhenTheBeamHoldsEverything) {
  // With K at least the number of continuations at every step (4^2 live prefixes x 5 tokens at
  // the last of 3 steps), beam search prunes nothing: its n best must be the exhaustive n best.
  const int max_length = 3, beam = 80, n_best = 6;
  const ModelConfig config = tiny_config(GetParam(), max_length);
  Rng rng(21);
  int differs_from_greedy = 0;
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    BasicSeq2Seq<double> model = peaked_model<double>(config, seed, 3.0);
    const auto sources = random_sources(2, rng);
    const Batch batch = make_token_batch(sources, {});
    for (double alpha : {0.0, 0.8}) {
      DecodeOptions options;
      options.beam_size = beam;
      options.n_best = n_best;
      options.length_penalty = alpha;
      const auto found = beam_search(model, batch, options);
      const auto greedy = model.predict_tokens(batch);
      ASSERT_EQ(found.size(), sources.size());
      for (std::size_t b = 0; b < sources.size(); ++b) {
        const auto truth = exhaustive_search(model, sources[b], max_length, alpha);
        ASSERT_EQ(found[b].size(), static_cast<std::size_t>(n_best));
        for (int i = 0; i < n_best; ++i) {
          const Hypothesis& h = found[b][i];
          SCOPED_TRACE("seed " + std::to_string(seed) + " alpha " + std::to_string(alpha) +
                       " source " + std::to_string(b) + " rank " + std::to_string(i));
          EXPECT_EQ(h.tokens, truth[i].tokens);
          EXPECT_EQ(h.ended, truth[i].ended);
          EXPECT_EQ(h.length, static_cast<int>(truth[i].tokens.size()) + (truth[i].ended ? 1 : 0));
          EXPECT_NEAR(h.score, truth[i].score, kScoreTolerance);
          EXPECT_NEAR(h.normalized_score, truth[i].normalized, kScoreTolerance);
        }
        differs_from_greedy += found[b][0].tokens != greedy[b];
      }
    }
  }
  // Otherwise the comparison could pass with a search that only follows the argmax.
  if (GetParam().mode == DecoderMode::teacher_forcing) {
    EXPECT_GT(differs_from_greedy, 0);
  }
}

TEST_P(BeamSearch, BeamSizeOneIsGreedyPrediction) {
  const ModelCase c = GetParam();
  Rng rng(33);
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const ModelConfig config = tiny_config(c, 8);
    BasicSeq2Seq<float> model = peaked_model<float>(config, seed, seed % 2 ? 1.0 : 2.5);
    const Batch batch = make_token_batch(random_sources(5, rng), {});
    const auto greedy = model.predict_tokens(batch);
    DecodeOptions options;
    const auto through_api = beam_search(model, batch, options);
    const auto through_steps = detail::beam_search_steps(model, batch, options);
    const auto one_by_one = greedy_decode(model, batch, options);
    for (std::size_t b = 0; b < greedy.size(); ++b) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " source " + std::to_string(b));
      ASSERT_EQ(through_api[b].size(), 1u);
      EXPECT_EQ(through_api[b][0].tokens, greedy[b]);
      ASSERT_EQ(through_steps[b].size(), 1u);
      EXPECT_EQ(through_steps[b][0].tokens, greedy[b]);
      EXPECT_EQ(one_by_one[b].tokens, greedy[b]);
      // Summed in float on the backend by the beam, in double on the host by greedy decoding.
      EXPECT_NEAR(through_steps[b][0].score, through_api[b][0].score, kFloatScoreTolerance);
    }
  }
}

TEST_P(BeamSearch, NBestAreDistinctOrderedAndScoredByTheModel) {
  const ModelConfig config = tiny_config(GetParam(), 6);
  BasicSeq2Seq<double> model = peaked_model<double>(config, 9, 2.0);
  Rng rng(4);
  const auto sources = random_sources(3, rng);
  DecodeOptions options;
  options.beam_size = 5;
  options.n_best = 4;
  options.length_penalty = 0.6;
  const auto found = beam_search(model, make_token_batch(sources, {}), options);
  for (std::size_t b = 0; b < sources.size(); ++b) {
    ASSERT_EQ(found[b].size(), 4u);
    for (std::size_t i = 0; i < found[b].size(); ++i) {
      const Hypothesis& h = found[b][i];
      std::vector<std::int32_t> steps = h.tokens;
      if (h.ended) steps.push_back(Vocabulary::end_id);
      EXPECT_EQ(h.length, static_cast<int>(steps.size()));
      EXPECT_NEAR(h.score, sequence_score(model, sources[b], steps), kScoreTolerance);
      EXPECT_NEAR(h.normalized_score, h.score / std::pow(h.length, 0.6), kScoreTolerance);
      if (i > 0) {
        EXPECT_GE(found[b][i - 1].normalized_score, h.normalized_score);
        for (std::size_t j = 0; j < i; ++j)
          EXPECT_FALSE(found[b][j].tokens == h.tokens && found[b][j].ended == h.ended);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, BeamSearch, testing::ValuesIn(kModelCases), case_name);

// ---- sampling --------------------------------------------------------------------------------

TEST(Sampling, ReproducibleForASeedAndIndependentOfBatching) {
  const ModelConfig config = tiny_config(kModelCases[0], 10);
  Seq2Seq model(config, 3);
  Rng rng(8);
  const auto sources = random_sources(6, rng);
  DecodeOptions options;
  options.seed = 42;
  options.temperature = 1.5;
  const auto first = sample_decode(model, make_token_batch(sources, {}), options);
  const auto again = sample_decode(model, make_token_batch(sources, {}), options);
  for (std::size_t b = 0; b < sources.size(); ++b) {
    EXPECT_EQ(first[b].tokens, again[b].tokens);
    // The same source alone, told its index, draws the same.
    const auto alone = sample_decode(model, make_token_batch({sources[b]}, {}), options, b);
    EXPECT_EQ(alone[0].tokens, first[b].tokens);
    EXPECT_EQ(alone[0].score, first[b].score);
  }
  options.seed = 43;
  const auto other = sample_decode(model, make_token_batch(sources, {}), options);
  int differ = 0;
  for (std::size_t b = 0; b < sources.size(); ++b) differ += other[b].tokens != first[b].tokens;
  EXPECT_GT(differ, 0);
}

TEST(Sampling, TopKOneIsGreedy) {
  for (const ModelCase& c : kModelCases) {
    const ModelConfig config = tiny_config(c, 8);
    Seq2Seq model(config, 17);
    Rng rng(2);
    const Batch batch = make_token_batch(random_sources(6, rng), {});
    DecodeOptions options;
    options.top_k = 1;
    options.temperature = 3.0;
    const auto sampled = sample_decode(model, batch, options);
    const auto greedy = model.predict_tokens(batch);
    for (std::size_t b = 0; b < greedy.size(); ++b)
      EXPECT_EQ(sampled[b].tokens, greedy[b]) << c.name << " source " << b;
  }
}

// One step's draws over many sources (each its own stream) against softmax(log p / T) over
// the top_k most likely tokens.
TEST(Sampling, FirstTokenFrequenciesFollowTemperatureAndTopK) {
  const ModelConfig config = tiny_config(kModelCases[0], 1);
  BasicSeq2Seq<double> model = peaked_model<double>(config, 5, 2.0);
  const std::vector<std::int32_t> source{3, 4, 5};
  const int V = config.target_vocab_size, draws = 6000;
  std::vector<double> log_p(V);
  for (int v = 0; v < V; ++v) log_p[v] = sequence_score(model, source, {v});
  const Batch batch = make_token_batch(std::vector<std::vector<std::int32_t>>(draws, source), {});
  std::vector<double> spread;  // the largest probability at each temperature
  for (double temperature : {0.5, 2.0}) {
    for (int top_k : {0, 2}) {
      std::vector<int> order(V);
      for (int v = 0; v < V; ++v) order[v] = v;
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return log_p[a] > log_p[b]; });
      std::vector<double> p(V, 0.0);
      double total = 0;
      for (int i = 0; i < (top_k ? top_k : V); ++i) total += p[order[i]] = std::exp(log_p[order[i]] / temperature);
      for (auto& x : p) x /= total;
      DecodeOptions options;
      options.temperature = temperature;
      options.top_k = top_k;
      options.seed = 11;
      const auto sampled = sample_decode(model, batch, options);
      std::vector<int> seen(V, 0);
      for (const auto& h : sampled) ++seen[h.ended ? Vocabulary::end_id : h.tokens.at(0)];
      for (int v = 0; v < V; ++v) {
        const double f = static_cast<double>(seen[v]) / draws;
        const double sigma = std::sqrt(p[v] * (1 - p[v]) / draws);
        if (p[v] == 0)
          EXPECT_EQ(seen[v], 0) << "token " << v << " is outside the top " << top_k;
        else
          EXPECT_NEAR(f, p[v], kFrequencySigmas * sigma + 1e-12)
              << "token " << v << " temperature " << temperature << " top-k " << top_k;
      }
      if (top_k == 0) spread.push_back(*std::max_element(p.begin(), p.end()));
    }
  }
  // The comparison means something only if the temperatures give different distributions.
  EXPECT_GT(spread[0] - spread[1], 0.05);
}

// ---- options -------------------------------------------------------------------------------

TEST(DecodeOptions, BadValuesSayWhatIsAllowed) {
  const auto with = [](auto change) {
    DecodeOptions o;
    change(o);
    return o;
  };
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.beam_size = 0; }).validate(), "beam size is 0",
                    "allowed: 1 to");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.beam_size = kMaxBeamSize + 1; }).validate(),
                    "beam size");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.beam_size = 3; o.n_best = 4; }).validate(),
                    "n-best is 4 with beam size 3", "allowed: 1 to the beam size");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.n_best = 0; }).validate(), "n-best is 0");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.temperature = 0; }).validate(),
                    "temperature is 0", "greater than 0");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.temperature = std::nan(""); }).validate(),
                    "temperature is nan");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.top_k = -1; }).validate(), "top-k is -1");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.length_penalty = -0.5; }).validate(),
                    "length penalty is -0.5", "0 or more");
  EXPECT_ERROR_WITH(with([](DecodeOptions& o) { o.max_length = -1; }).validate(),
                    "max_length is -1");
  EXPECT_NO_THROW(with([](DecodeOptions& o) { o.beam_size = 3; o.n_best = 3; }).validate());
}

// Attention maps: each step's weights cover the source's real positions only and sum to 1, and
// beam size 1 keeps the same weights as greedy decoding.
TEST(DecodeAttention, WeightsPerStepAreDistributionsOverTheSource) {
  for (const ModelCase& c : kModelCases) {
    if (c.attention == AttentionKind::none) continue;
    SCOPED_TRACE(c.name);
    const ModelConfig config = tiny_config(c, 6);
    Seq2Seq model = peaked_model<float>(config, 11, 2.0);
    const Batch batch = make_token_batch({{3, 4, 5, 3}, {4}, {5, 5}}, {});
    DecodeOptions options;
    options.attention = true;
    const std::vector<Hypothesis> greedy = greedy_decode(model, batch, options);
    options.beam_size = 1;
    const auto beam = beam_search(model, batch, options);
    ASSERT_EQ(greedy.size(), 3u);
    for (int b = 0; b < 3; ++b) {
      const Hypothesis& g = greedy[b];
      ASSERT_EQ(static_cast<int>(g.attention.size()), g.length) << b;
      for (const auto& row : g.attention) {
        ASSERT_EQ(static_cast<int>(row.size()), batch.source_lengths[b]);
        double sum = 0;
        for (double w : row) {
          EXPECT_GE(w, 0.0);
          sum += w;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5);
      }
      ASSERT_EQ(beam[b].size(), 1u);
      EXPECT_EQ(beam[b][0].tokens, g.tokens);
      ASSERT_EQ(beam[b][0].attention.size(), g.attention.size());
      for (std::size_t t = 0; t < g.attention.size(); ++t)
        for (std::size_t s = 0; s < g.attention[t].size(); ++s)
          EXPECT_NEAR(beam[b][0].attention[t][s], g.attention[t][s], 1e-6) << t << "," << s;
    }
  }
}

TEST(DecodeOptions, AttentionWeightsNeedAModelWithAttention) {
  const ModelConfig config = tiny_config(kModelCases[0], 4);
  Seq2Seq model(config, 1);
  DecodeOptions options;
  options.attention = true;
  const Batch batch = make_token_batch({{3, 4}}, {});
  EXPECT_ERROR_WITH(greedy_decode(model, batch, options), "this model has no attention");
  options.beam_size = 2;
  EXPECT_ERROR_WITH(beam_search(model, batch, options), "this model has no attention");
  EXPECT_ERROR_WITH(sample_decode(model, batch, options), "this model has no attention");
}

}  // namespace
}  // namespace s2s
