// The whole Seq2Seq model: loss gradients w.r.t. every parameter by central differences in
// float64, for every cell, both decoder modes, token and real-valued inputs and outputs; and
// the model's bookkeeping (layout, optimizer state, float/double agreement, predictions).
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

struct ModelCase {
  std::string name;
  CellType cell;
  DecoderMode mode;
  InputKind input;
  OutputKind output;
  int layers;
};

std::string case_name(const testing::TestParamInfo<ModelCase>& info) { return info.param.name; }

ModelConfig small_config(const ModelCase& c) {
  ModelConfig config;
  config.cell = c.cell;
  config.mode = c.mode;
  config.input = c.input;
  config.output = c.output;
  config.layers = c.layers;
  config.hidden_size = 3;
  config.source_vocab_size = 6;
  config.source_features = 2;
  config.embedding_size = 2;
  config.target_vocab_size = 5;
  config.target_features = 2;
  config.max_target_length = 4;
  return config;
}

// Three sequences of different lengths (one of length 1) on each side, random contents.
Batch random_batch(const ModelConfig& config, Rng& rng) {
  Batch batch;
  const std::vector<int> source_lengths{4, 1, 3}, target_lengths{3, 2, 1};
  if (config.input == InputKind::features) {
    std::vector<std::vector<double>> sources;
    for (int n : source_lengths)
      sources.push_back(test::random_vector(static_cast<std::size_t>(n) * config.source_features,
                                            rng));
    set_source_features(batch, sources, config.source_features);
  } else {
    std::vector<std::vector<std::int32_t>> sources;
    for (int n : source_lengths) {
      std::vector<std::int32_t> s;
      for (int i = 0; i < n; ++i)
        s.push_back(Vocabulary::special_count +
                    static_cast<int>(rng.below(config.source_vocab_size - 3)));
      sources.push_back(s);
    }
    set_source_tokens(batch, sources);
  }
  if (config.output == OutputKind::features) {
    std::vector<std::vector<double>> targets;
    for (int n : target_lengths)
      targets.push_back(test::random_vector(static_cast<std::size_t>(n) * config.target_features,
                                            rng));
    set_target_features(batch, targets, config.target_features);
  } else {
    std::vector<std::vector<std::int32_t>> targets;
    for (int n : target_lengths) {
      std::vector<std::int32_t> t;
      for (int i = 0; i < n - 1; ++i)  // the end token makes it n
        t.push_back(Vocabulary::special_count +
                    static_cast<int>(rng.below(config.target_vocab_size - 3)));
      targets.push_back(t);
    }
    set_target_tokens(batch, targets);
  }
  return batch;
}

class ModelGradient : public testing::TestWithParam<ModelCase> {};

TEST_P(ModelGradient, EveryParameterMatchesCentralDifferences) {
  const ModelConfig config = small_config(GetParam());
  Rng rng(17);
  BasicSeq2Seq<double> model(config, 5);
  const Batch batch = random_batch(config, rng);

  const StepResult result = model.forward_backward(batch);
  EXPECT_TRUE(std::isfinite(result.loss));
  EXPECT_NEAR(result.loss, model.loss(batch), 1e-12);
  const std::vector<double> analytic = model.gradients();

  std::vector<double> params = model.parameters();
  const auto loss = [&] {
    model.set_parameters(params);
    return model.loss(batch);
  };
  const std::vector<double> numeric = numeric_gradient(loss, params.data(), params.size());
  for (const auto& p : model.parameter_info()) {
    const std::vector<double> a(analytic.begin() + p.offset,
                                analytic.begin() + p.offset + p.size());
    const std::vector<double> n(numeric.begin() + p.offset, numeric.begin() + p.offset + p.size());
    expect_gradients_near(a, n, p.name);
    // A tensor whose gradient is zero everywhere would pass any comparison: make sure each one
    // takes part in the loss.
    double magnitude = 0;
    for (double v : n) magnitude += std::abs(v);
    EXPECT_GT(magnitude, 1e-8) << p.name << " does not affect the loss";
  }
}

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> cases;
  const std::pair<CellType, const char*> cells[] = {
      {CellType::lstm, "lstm"}, {CellType::gru, "gru"}, {CellType::rnn, "rnn"}};
  struct Shape {
    const char* name;
    DecoderMode mode;
    InputKind input;
    OutputKind output;
  };
  const Shape shapes[] = {
      {"tf_embedding_tokens", DecoderMode::teacher_forcing, InputKind::embedding,
       OutputKind::tokens},
      {"tf_onehot_tokens", DecoderMode::teacher_forcing, InputKind::one_hot, OutputKind::tokens},
      {"tf_features_features", DecoderMode::teacher_forcing, InputKind::features,
       OutputKind::features},
      {"tf_features_tokens", DecoderMode::teacher_forcing, InputKind::features,
       OutputKind::tokens},
      {"repeat_onehot_tokens", DecoderMode::repeat, InputKind::one_hot, OutputKind::tokens},
      {"repeat_embedding_tokens", DecoderMode::repeat, InputKind::embedding, OutputKind::tokens},
      {"repeat_features_features", DecoderMode::repeat, InputKind::features,
       OutputKind::features},
      {"repeat_features_tokens", DecoderMode::repeat, InputKind::features, OutputKind::tokens},
  };
  for (const auto& [cell, cell_name] : cells)
    for (const auto& s : shapes)
      for (int layers : {1, 2})
        cases.push_back({std::string(cell_name) + "_" + s.name + "_l" + std::to_string(layers),
                         cell, s.mode, s.input, s.output, layers});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllShapes, ModelGradient, testing::ValuesIn(model_cases()), case_name);

TEST(Model, LayoutUsesPyTorchNamesAndShapes) {
  ModelConfig config;
  config.cell = CellType::gru;
  config.layers = 2;
  config.hidden_size = 8;
  config.input = InputKind::embedding;
  config.embedding_size = 5;
  config.source_vocab_size = 13;
  config.target_vocab_size = 11;
  const auto layout = parameter_layout(config);
  std::vector<std::string> names;
  for (const auto& p : layout) names.push_back(p.name);
  const std::vector<std::string> expected{
      "encoder.embedding.weight", "encoder.rnn.weight_ih_l0", "encoder.rnn.weight_hh_l0",
      "encoder.rnn.bias_ih_l0",   "encoder.rnn.bias_hh_l0",   "encoder.rnn.weight_ih_l1",
      "encoder.rnn.weight_hh_l1", "encoder.rnn.bias_ih_l1",   "encoder.rnn.bias_hh_l1",
      "decoder.embedding.weight", "decoder.rnn.weight_ih_l0", "decoder.rnn.weight_hh_l0",
      "decoder.rnn.bias_ih_l0",   "decoder.rnn.bias_hh_l0",   "decoder.rnn.weight_ih_l1",
      "decoder.rnn.weight_hh_l1", "decoder.rnn.bias_ih_l1",   "decoder.rnn.bias_hh_l1",
      "decoder.out.weight",       "decoder.out.bias"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(layout[0].shape, (Shape{13, 5}));
  EXPECT_EQ(layout[1].shape, (Shape{24, 5}));
  EXPECT_EQ(layout[2].shape, (Shape{24, 8}));
  EXPECT_EQ(layout[5].shape, (Shape{24, 8}));
  EXPECT_EQ(layout[18].shape, (Shape{11, 8}));
  EXPECT_EQ(layout[19].shape, (Shape{11}));
  // The buffer is tiled exactly, in order.
  std::size_t offset = 0;
  for (const auto& p : layout) {
    EXPECT_EQ(p.offset, offset) << p.name;
    offset += p.size();
  }
}

TEST(Model, RepeatModeOneHotHasNoEmbeddingAndTakesHiddenInput) {
  ModelConfig config;
  config.mode = DecoderMode::repeat;
  config.input = InputKind::one_hot;
  config.hidden_size = 7;
  config.source_vocab_size = 12;
  config.target_vocab_size = 9;
  const auto layout = parameter_layout(config);
  ASSERT_EQ(layout.size(), 10u);
  EXPECT_EQ(layout[0].name, "encoder.rnn.weight_ih_l0");
  EXPECT_EQ(layout[0].shape, (Shape{28, 12}));
  EXPECT_EQ(layout[4].name, "decoder.rnn.weight_ih_l0");
  EXPECT_EQ(layout[4].shape, (Shape{28, 7}));
}

TEST(Model, SameSeedSameParametersAndPyTorchInitialisationBounds) {
  ModelConfig config = small_config({"", CellType::lstm, DecoderMode::teacher_forcing,
                                     InputKind::embedding, OutputKind::tokens, 1});
  config.hidden_size = 16;
  Seq2Seq a(config, 42), b(config, 42), c(config, 43);
  EXPECT_EQ(a.parameters(), b.parameters());
  EXPECT_NE(a.parameters(), c.parameters());
  const auto values = a.parameters();
  const double bound = 1.0 / std::sqrt(16.0);
  for (const auto& p : a.parameter_info()) {
    if (p.name.find("embedding") != std::string::npos) continue;
    for (std::size_t i = p.offset; i < p.offset + p.size(); ++i)
      ASSERT_LE(std::abs(values[i]), bound) << p.name;
  }
}

TEST(Model, FloatAndDoubleAgree) {
  constexpr double kFloatVsDoubleTol = 1e-5;
  const ModelConfig config = small_config({"", CellType::lstm, DecoderMode::teacher_forcing,
                                           InputKind::embedding, OutputKind::tokens, 2});
  Rng rng(3);
  const Batch batch = random_batch(config, rng);
  BasicSeq2Seq<double> d(config, 9);
  Seq2Seq f(config, 9);
  const auto rd = d.forward_backward(batch);
  const auto rf = f.forward_backward(batch);
  EXPECT_NEAR(rd.loss, rf.loss, kFloatVsDoubleTol * (1 + std::abs(rd.loss)));
  const auto gd = d.gradients();
  const auto gf = f.gradients();
  ASSERT_EQ(gd.size(), gf.size());
  for (std::size_t i = 0; i < gd.size(); ++i)
    ASSERT_NEAR(gd[i], gf[i], kFloatVsDoubleTol * (1 + std::abs(gd[i]))) << i;
}

TEST(Model, TrainStepMatchesAdamOnTheGradients) {
  // One Adam step from zero moments moves each parameter by lr * g / (|g| + eps') where
  // eps' = eps / sqrt(1 - beta2): check the model applies exactly the optimizer it was given.
  const ModelConfig config = small_config({"", CellType::gru, DecoderMode::repeat,
                                           InputKind::one_hot, OutputKind::tokens, 1});
  Rng rng(4);
  const Batch batch = random_batch(config, rng);
  BasicSeq2Seq<double> model(config, 1);
  OptimizerConfig adam;
  adam.learning_rate = 0.01;
  model.set_optimizer(adam);
  const auto before = model.parameters();
  const auto step = model.train_step(batch);
  const auto grads = model.gradients();
  const auto after = model.parameters();
  EXPECT_EQ(model.optimizer_step(), 1);
  EXPECT_GT(step.gradient_norm, 0);
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double g = grads[i];
    const double m = 0.1 * g, v = 0.001 * g * g;
    const double lr_t = 0.01 * std::sqrt(1 - 0.999) / (1 - 0.9);
    const double expected = before[i] - lr_t * m / (std::sqrt(v) + 1e-7);
    ASSERT_NEAR(after[i], expected, 1e-12) << i;
  }
}

TEST(Model, ClippingLimitsTheUpdate) {
  const ModelConfig config = small_config({"", CellType::rnn, DecoderMode::teacher_forcing,
                                           InputKind::one_hot, OutputKind::tokens, 1});
  Rng rng(5);
  const Batch batch = random_batch(config, rng);
  BasicSeq2Seq<double> model(config, 2);
  OptimizerConfig sgd;
  sgd.kind = OptimizerKind::sgd;
  sgd.learning_rate = 1.0;
  sgd.clip_norm = 1e-3;
  model.set_optimizer(sgd);
  const auto before = model.parameters();
  const auto result = model.train_step(batch);
  ASSERT_GT(result.gradient_norm, sgd.clip_norm);
  const auto after = model.parameters();
  double moved = 0;
  for (std::size_t i = 0; i < before.size(); ++i) moved += std::pow(after[i] - before[i], 2);
  EXPECT_NEAR(std::sqrt(moved), sgd.clip_norm, 1e-12);
}

TEST(Model, OptimizerStateRoundTripsAndResumesExactly) {
  const ModelConfig config = small_config({"", CellType::lstm, DecoderMode::teacher_forcing,
                                           InputKind::embedding, OutputKind::tokens, 1});
  Rng rng(6);
  const Batch b1 = random_batch(config, rng), b2 = random_batch(config, rng);
  Seq2Seq straight(config, 3), resumed(config, 3);
  straight.set_optimizer({});
  resumed.set_optimizer({});
  straight.train_step(b1);
  straight.train_step(b2);
  resumed.train_step(b1);
  Seq2Seq copy(config, 99);
  copy.set_optimizer({});
  copy.set_parameters(resumed.parameters());
  copy.set_optimizer_state(resumed.optimizer_step(), resumed.optimizer_state());
  copy.train_step(b2);
  EXPECT_EQ(copy.parameters(), straight.parameters());
}

TEST(Model, PredictFollowsTheArgmaxOfTheTrainedPath) {
  // With teacher forcing, feeding the model's own greedy outputs as targets makes the
  // teacher-forced argmax equal those outputs: predictions and training agree.
  for (DecoderMode mode : {DecoderMode::teacher_forcing, DecoderMode::repeat}) {
    ModelConfig config = small_config({"", CellType::lstm, mode, InputKind::one_hot,
                                       OutputKind::tokens, 2});
    config.max_target_length = 6;
    Rng rng(7);
    Batch batch = random_batch(config, rng);
    Seq2Seq model(config, 11);
    const auto predicted = model.predict_tokens(batch, 5);
    ASSERT_EQ(predicted.size(), 3u);
    std::vector<std::vector<std::int32_t>> sources;
    for (int b = 0; b < batch.batch_size; ++b) {
      std::vector<std::int32_t> s;
      for (int t = 0; t < batch.source_lengths[b]; ++t)
        s.push_back(batch.source_tokens[t * batch.batch_size + b]);
      sources.push_back(s);
    }
    for (std::size_t b = 0; b < predicted.size(); ++b) {
      // Sequences that stopped before the limit end with the end token: check them.
      if (predicted[b].size() >= 5) continue;
      Batch one = make_token_batch({sources[b]}, {predicted[b]});
      const StepResult r = model.forward_backward(one);
      EXPECT_EQ(r.correct, r.total) << "sequence " << b << " mode " << to_string(mode);
    }
  }
}

TEST(Model, EvaluateCountsLikeForwardBackwardAndLeavesGradients) {
  const ModelConfig config = small_config({"", CellType::lstm, DecoderMode::teacher_forcing,
                                           InputKind::one_hot, OutputKind::tokens, 2});
  Rng rng(9);
  const Batch first = random_batch(config, rng), second = random_batch(config, rng);
  BasicSeq2Seq<double> model(config, 4);
  const StepResult trained = model.forward_backward(second);
  const auto gradients = model.gradients();
  model.forward_backward(first);
  const auto first_gradients = model.gradients();
  const StepResult evaluated = model.evaluate(second);
  EXPECT_EQ(evaluated.loss, trained.loss);
  EXPECT_EQ(evaluated.correct, trained.correct);
  EXPECT_EQ(evaluated.total, trained.total);
  EXPECT_EQ(model.gradients(), first_gradients);
  EXPECT_NE(first_gradients, gradients);
}

TEST(Model, PredictFeaturesHasTheAskedShape) {
  const ModelConfig config = small_config({"", CellType::gru, DecoderMode::teacher_forcing,
                                           InputKind::features, OutputKind::features, 1});
  Rng rng(8);
  const Batch batch = random_batch(config, rng);
  Seq2Seq model(config, 1);
  const auto out = model.predict_features(batch, 4);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& seq : out) EXPECT_EQ(seq.size(), 4u * config.target_features);
}

}  // namespace
}  // namespace s2s
