// The Seq2Seq model with attention: loss gradients w.r.t. every parameter by central differences
// in float64 for each attention kind, with and without input feeding, every cell, token and
// real-valued inputs and outputs, stacked layers, ragged source lengths; the mask (a padded
// sequence's loss is its loss alone); greedy decoding agreeing with the teacher-forced pass;
// the tensors' names and shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "s2s/error.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace s2s {
namespace {

using test::expect_gradients_near;
using test::numeric_gradient;

// The same model on the same sequence, alone or padded inside a batch: the masked softmax
// makes them equal up to the order of a few float64 roundings.
constexpr double kPaddingInvarianceTolerance = 1e-12;
// A teacher-forced pass fed the model's own greedy outputs reproduces them: float64 rounding.
constexpr double kSelfConsistencyTolerance = 1e-20;

struct AttentionCase {
  std::string name;
  AttentionKind attention;
  bool input_feed;
  CellType cell;
  InputKind input;
  OutputKind output;
  int layers;
};

std::string case_name(const testing::TestParamInfo<AttentionCase>& info) {
  return info.param.name;
}

ModelConfig small_config(const AttentionCase& c) {
  ModelConfig config;
  config.cell = c.cell;
  config.input = c.input;
  config.output = c.output;
  config.layers = c.layers;
  config.attention = c.attention;
  config.input_feed = c.input_feed;
  config.hidden_size = 3;
  config.source_vocab_size = 6;
  config.source_features = 2;
  config.embedding_size = 2;
  config.target_vocab_size = 5;
  config.target_features = 2;
  config.max_target_length = 4;
  return config;
}

std::vector<std::int32_t> random_tokens(int n, int vocab, Rng& rng) {
  std::vector<std::int32_t> s;
  for (int i = 0; i < n; ++i)
    s.push_back(Vocabulary::special_count + static_cast<int>(rng.below(vocab - 3)));
  return s;
}

// Sources of lengths 4, 1 and 3 (ragged: attention must mask), targets of 3, 2 and 1.
Batch random_batch(const ModelConfig& config, Rng& rng) {
  Batch batch;
  const std::vector<int> source_lengths{4, 1, 3}, target_lengths{3, 2, 1};
  if (config.input == InputKind::features) {
    std::vector<std::vector<double>> sources;
    for (int n : source_lengths)
      sources.push_back(
          test::random_vector(static_cast<std::size_t>(n) * config.source_features, rng));
    set_source_features(batch, sources, config.source_features);
  } else {
    std::vector<std::vector<std::int32_t>> sources;
    for (int n : source_lengths)
      sources.push_back(random_tokens(n, config.source_vocab_size, rng));
    set_source_tokens(batch, sources);
  }
  if (config.output == OutputKind::features) {
    std::vector<std::vector<double>> targets;
    for (int n : target_lengths)
      targets.push_back(
          test::random_vector(static_cast<std::size_t>(n) * config.target_features, rng));
    set_target_features(batch, targets, config.target_features);
  } else {
    std::vector<std::vector<std::int32_t>> targets;
    for (int n : target_lengths)
      targets.push_back(random_tokens(n - 1, config.target_vocab_size, rng));  // + end token
    set_target_tokens(batch, targets);
  }
  return batch;
}

class AttentionModelGradient : public testing::TestWithParam<AttentionCase> {};

TEST_P(AttentionModelGradient, EveryParameterMatchesCentralDifferences) {
  const ModelConfig config = small_config(GetParam());
  Rng rng(23);
  BasicSeq2Seq<double> model(config, 7);
  const Batch batch = random_batch(config, rng);

  const StepResult result = model.forward_backward(batch);
  ASSERT_TRUE(std::isfinite(result.loss));
  EXPECT_NEAR(result.loss, model.loss(batch), 1e-12);
  const std::vector<double> analytic = model.gradients();

  std::vector<double> params = model.parameters();
  const auto loss = [&] {
    model.set_parameters(params);
    return model.loss(batch);
  };
  const std::vector<double> numeric = numeric_gradient(loss, params.data(), params.size());
  bool has_attention_tensor = config.attention == AttentionKind::dot;
  for (const auto& p : model.parameter_info()) {
    const std::vector<double> a(analytic.begin() + p.offset,
                                analytic.begin() + p.offset + p.size());
    const std::vector<double> n(numeric.begin() + p.offset, numeric.begin() + p.offset + p.size());
    expect_gradients_near(a, n, p.name);
    double magnitude = 0;
    for (double v : n) magnitude += std::abs(v);
    EXPECT_GT(magnitude, 1e-8) << p.name << " does not affect the loss";
    if (p.name.rfind("decoder.attention.", 0) == 0 && p.name != "decoder.attention.linear_out.weight")
      has_attention_tensor = true;
  }
  EXPECT_TRUE(has_attention_tensor) << "the score's own tensors are missing from the layout";
}

std::vector<AttentionCase> attention_cases() {
  std::vector<AttentionCase> cases;
  const std::pair<AttentionKind, const char*> kinds[] = {{AttentionKind::dot, "dot"},
                                                         {AttentionKind::general, "general"},
                                                         {AttentionKind::additive, "additive"}};
  struct Shape {
    const char* name;
    InputKind input;
    OutputKind output;
  };
  const Shape shapes[] = {{"embedding_tokens", InputKind::embedding, OutputKind::tokens},
                          {"onehot_tokens", InputKind::one_hot, OutputKind::tokens},
                          {"features_features", InputKind::features, OutputKind::features}};
  for (const auto& [kind, kind_name] : kinds)
    for (bool feed : {false, true}) {
      const std::string prefix = std::string(kind_name) + (feed ? "_feed" : "");
      // LSTM: every input shape, one and two layers.
      for (const auto& s : shapes)
        for (int layers : {1, 2})
          cases.push_back({prefix + "_lstm_" + s.name + "_l" + std::to_string(layers), kind,
                           feed, CellType::lstm, s.input, s.output, layers});
      // GRU and tanh RNN: two layers, one-hot tokens.
      cases.push_back({prefix + "_gru_onehot_tokens_l2", kind, feed, CellType::gru,
                       InputKind::one_hot, OutputKind::tokens, 2});
      cases.push_back({prefix + "_rnn_embedding_tokens_l2", kind, feed, CellType::rnn,
                       InputKind::embedding, OutputKind::tokens, 2});
    }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllKinds, AttentionModelGradient, testing::ValuesIn(attention_cases()),
                         case_name);

// The mask: a short sequence padded inside a batch with a longer one has exactly the loss it
// has alone (unmasked, its padded positions would take softmax weight).
TEST(AttentionModel, PaddedSourcePositionsDoNotChangeTheLoss) {
  for (AttentionKind kind : {AttentionKind::dot, AttentionKind::general, AttentionKind::additive})
    for (bool feed : {false, true}) {
      ModelConfig config = small_config({"", kind, feed, CellType::lstm, InputKind::one_hot,
                                         OutputKind::tokens, 1});
      BasicSeq2Seq<double> model(config, 3);
      const std::vector<std::int32_t> short_source{3, 4}, long_source{5, 3, 4, 4, 5};
      const std::vector<std::int32_t> target{4, 3};
      const Batch alone = make_token_batch({short_source}, {target});
      const Batch padded = make_token_batch({short_source, long_source}, {target, target});
      const Batch long_alone = make_token_batch({long_source}, {target});
      // The batch's loss is the mean over its 6 real target tokens, 3 per sequence.
      const double expected = (model.loss(alone) + model.loss(long_alone)) / 2;
      EXPECT_NEAR(model.loss(padded), expected, kPaddingInvarianceTolerance)
          << to_string(kind) << (feed ? " with input feeding" : "");
    }
}

// Greedy decoding runs attention one step at a time; fed its own outputs as targets, the
// teacher-forced pass (all steps at once, or step by step with input feeding) must reproduce
// them exactly: the decoder and the training pass compute the same function.
TEST(AttentionModel, GreedyDecodingAgreesWithTheTeacherForcedPass) {
  for (AttentionKind kind : {AttentionKind::dot, AttentionKind::general, AttentionKind::additive})
    for (bool feed : {false, true}) {
      const std::string what = to_string(kind) + (feed ? " with input feeding" : "");
      ModelConfig config = small_config({"", kind, feed, CellType::gru, InputKind::features,
                                         OutputKind::features, 2});
      BasicSeq2Seq<double> model(config, 11);
      Rng rng(5);
      Batch batch = random_batch(config, rng);
      const int steps = 3;
      const auto predicted = model.predict_features(batch, steps);
      set_target_features(batch, predicted, config.target_features);
      EXPECT_LT(model.loss(batch), kSelfConsistencyTolerance) << what;

      ModelConfig token_config = small_config({"", kind, feed, CellType::lstm,
                                               InputKind::embedding, OutputKind::tokens, 1});
      token_config.target_vocab_size = 9;
      BasicSeq2Seq<double> token_model(token_config, 13);
      Batch sources = make_token_batch({{3, 4, 5}, {5}, {4, 4}}, {});
      const auto ids = token_model.predict_tokens(sources, 6);
      Batch check = make_token_batch({{3, 4, 5}, {5}, {4, 4}}, ids);
      const StepResult r = token_model.evaluate(check);
      // Every predicted token is the teacher-forced argmax, and so is the end token where one
      // was predicted within the limit (past the limit the appended end may be missed).
      std::int64_t unended = 0;
      for (const auto& p : ids) unended += p.size() >= 6 ? 1 : 0;
      EXPECT_GE(r.correct, r.total - unended) << what;
      EXPECT_GT(r.total, unended) << what;
    }
}

TEST(AttentionModel, TensorsUseTheDocumentedNamesAndShapes) {
  ModelConfig config;
  config.hidden_size = 4;
  config.embedding_size = 3;
  config.input = InputKind::embedding;
  config.source_vocab_size = 7;
  config.target_vocab_size = 6;
  auto shape_of = [](const ModelConfig& c, const std::string& name) {
    for (const auto& p : parameter_layout(c))
      if (p.name == name) return p.shape;
    return Shape{};
  };
  config.attention = AttentionKind::dot;
  EXPECT_EQ(shape_of(config, "decoder.attention.linear_out.weight"), (Shape{4, 8}));
  EXPECT_EQ(shape_of(config, "decoder.rnn.weight_ih_l0"), (Shape{16, 3}));
  config.input_feed = true;
  EXPECT_EQ(shape_of(config, "decoder.rnn.weight_ih_l0"), (Shape{16, 7}));
  config.attention = AttentionKind::general;
  EXPECT_EQ(shape_of(config, "decoder.attention.linear_in.weight"), (Shape{4, 4}));
  config.attention = AttentionKind::additive;
  config.input = InputKind::one_hot;
  EXPECT_EQ(shape_of(config, "decoder.rnn.weight_ih_l0"), (Shape{16, 6 + 4}));
  EXPECT_EQ(shape_of(config, "decoder.attention.linear_query.weight"), (Shape{4, 4}));
  EXPECT_EQ(shape_of(config, "decoder.attention.linear_query.bias"), (Shape{4}));
  EXPECT_EQ(shape_of(config, "decoder.attention.linear_context.weight"), (Shape{4, 4}));
  EXPECT_EQ(shape_of(config, "decoder.attention.v.weight"), (Shape{1, 4}));
  EXPECT_EQ(shape_of(config, "decoder.attention.linear_in.weight"), Shape{});
  config.attention = AttentionKind::none;
  config.input_feed = false;
  for (const auto& p : parameter_layout(config))
    EXPECT_EQ(p.name.find("attention"), std::string::npos) << p.name;
}

}  // namespace
}  // namespace s2s
