// Dropout (inverted, between stacked layers and before the head, training only): off at
// evaluation, on in training, reproducible for a seed, the expected keep fraction and scale,
// and float64 gradient checks with fixed masks (BasicSeq2Seq::fix_dropout_masks).
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "model/dropout_masks.h"
#include "model_gradcheck.h"
#include "random_batch.h"
#include "s2s/seq2seq.h"

namespace s2s {
namespace {

ModelConfig dropout_config(CellType cell, int layers, bool bidirectional, DecoderMode mode,
                           double p) {
  ModelConfig config;
  config.cell = cell;
  config.layers = layers;
  config.bidirectional = bidirectional;
  config.mode = mode;
  config.input = mode == DecoderMode::repeat ? InputKind::one_hot : InputKind::embedding;
  config.hidden_size = 4;
  config.source_vocab_size = 7;
  config.embedding_size = 3;
  config.target_vocab_size = 6;
  config.max_target_length = 5;
  config.dropout = p;
  return config;
}

Batch sample_batch(const ModelConfig& config, std::uint64_t seed = 3) {
  Rng rng(seed);
  return test::random_ragged_batch(config, rng, {5, 2, 4}, {4, 3, 2});
}

// Standard deviations of a binomial count allowed before a keep fraction counts as wrong
// (a false alarm about once in 1.7 million runs, and the seed is fixed anyway).
constexpr double kKeepFractionSigmas = 5.0;

TEST(Dropout, MasksKeepTheExpectedFractionScaledByOneOverKeep) {
  for (double p : {0.1, 0.5, 0.9}) {
    const std::size_t n = 200000;
    const std::vector<double> mask = dropout_mask_values<double>(dropout_seed(7, 0), p, n);
    std::size_t kept = 0;
    for (double m : mask) {
      if (m != 0) {
        ++kept;
        EXPECT_DOUBLE_EQ(m, 1 / (1 - p));
      }
    }
    const double sigma = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(kept), n * (1 - p), kKeepFractionSigmas * sigma) << "p " << p;
  }
}

TEST(Dropout, MaskSeedsDifferBetweenStepsAndSeeds) {
  EXPECT_NE(dropout_seed(1, 0), dropout_seed(1, 1));
  EXPECT_NE(dropout_seed(1, 0), dropout_seed(2, 0));
  EXPECT_NE(dropout_mask_values<float>(dropout_seed(1, 0), 0.5, 64),
            dropout_mask_values<float>(dropout_seed(1, 1), 0.5, 64));
}

// Every combination the model runs differently: plain stack with head dropout only (1 layer),
// layer by layer (2 layers), bidirectional, repeat decoder.
struct Variant {
  CellType cell;
  int layers;
  bool bidirectional;
  DecoderMode mode;
};
const Variant kVariants[] = {
    {CellType::lstm, 1, false, DecoderMode::teacher_forcing},
    {CellType::lstm, 2, false, DecoderMode::teacher_forcing},
    {CellType::gru, 2, true, DecoderMode::teacher_forcing},
    {CellType::rnn, 2, false, DecoderMode::repeat},
    {CellType::lstm, 2, true, DecoderMode::repeat},
};

TEST(Dropout, OffAtEvaluationLossAndPrediction) {
  for (const Variant& v : kVariants) {
    BasicSeq2Seq<double> with(dropout_config(v.cell, v.layers, v.bidirectional, v.mode, 0.5), 8);
    BasicSeq2Seq<double> without(dropout_config(v.cell, v.layers, v.bidirectional, v.mode, 0),
                                 8);
    ASSERT_EQ(with.parameters(), without.parameters());
    const Batch batch = sample_batch(with.config());
    // A training pass first: its masks must not stay behind for the evaluation.
    with.forward_backward(batch);
    EXPECT_EQ(with.loss(batch), without.loss(batch));
    const StepResult a = with.evaluate(batch), b = without.evaluate(batch);
    EXPECT_EQ(a.loss, b.loss);
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(with.predict_tokens(batch, 5), without.predict_tokens(batch, 5));
  }
}

TEST(Dropout, OnInTraining) {
  for (const Variant& v : kVariants) {
    BasicSeq2Seq<double> with(dropout_config(v.cell, v.layers, v.bidirectional, v.mode, 0.5), 8);
    BasicSeq2Seq<double> without(dropout_config(v.cell, v.layers, v.bidirectional, v.mode, 0),
                                 8);
    const Batch batch = sample_batch(with.config());
    const StepResult a = with.forward_backward(batch), b = without.forward_backward(batch);
    EXPECT_NE(a.loss, b.loss);
    EXPECT_NE(with.gradients(), without.gradients());
    // The training loss differs from the evaluation loss of the same weights.
    EXPECT_NE(a.loss, with.loss(batch));
  }
}

TEST(Dropout, SameSeedSameTrainingNewMasksEachStep) {
  const ModelConfig config =
      dropout_config(CellType::lstm, 2, true, DecoderMode::teacher_forcing, 0.3);
  const Batch batch = sample_batch(config);
  auto train = [&](std::uint64_t seed) {
    BasicSeq2Seq<float> model(config, seed);
    model.set_optimizer({});
    std::vector<double> losses;
    for (int step = 0; step < 4; ++step) losses.push_back(model.train_step(batch).loss);
    return std::make_pair(losses, model.parameters());
  };
  const auto first = train(5), again = train(5);
  EXPECT_EQ(first.first, again.first);
  EXPECT_EQ(first.second, again.second);

  // Without an update the step does not advance: the same masks, the same loss; after an
  // update the next step draws new masks.
  BasicSeq2Seq<double> model(config, 5);
  EXPECT_EQ(model.forward_backward(batch).loss, model.forward_backward(batch).loss);
  BasicSeq2Seq<double> stepped(config, 5);
  OptimizerConfig sgd;
  sgd.kind = OptimizerKind::sgd;
  sgd.learning_rate = 1e-12;  // parameters all but unchanged: the loss changes by the masks
  stepped.set_optimizer(sgd);
  const double step0 = stepped.train_step(batch).loss;
  const double step1 = stepped.train_step(batch).loss;
  EXPECT_GT(std::abs(step0 - step1), 1e-6);
}

// Central differences need the same function at every evaluation: with fixed masks, loss() and
// forward_backward() apply the same masks, so the check covers the masked backward paths (between
// layers, both directions, and before the head).
struct FixedMaskCase {
  std::string name;
  Variant variant;
};

void PrintTo(const FixedMaskCase& c, std::ostream* os) { *os << c.name; }

class DropoutGradient : public testing::TestWithParam<FixedMaskCase> {};

TEST_P(DropoutGradient, FixedMasksMatchCentralDifferences) {
  const Variant& v = GetParam().variant;
  const ModelConfig config = dropout_config(v.cell, v.layers, v.bidirectional, v.mode, 0.4);
  BasicSeq2Seq<double> model(config, 6);
  const Batch batch = sample_batch(config);
  const double unmasked = model.loss(batch);
  model.fix_dropout_masks(11);
  // The masks take part: otherwise the check below would be the plain model's.
  EXPECT_GT(std::abs(model.loss(batch) - unmasked), 1e-6);
  test::expect_model_gradients_match(model, batch);
}

std::vector<FixedMaskCase> fixed_mask_cases() {
  std::vector<FixedMaskCase> cases;
  const std::pair<CellType, const char*> cells[] = {
      {CellType::lstm, "lstm"}, {CellType::gru, "gru"}, {CellType::rnn, "rnn"}};
  for (const auto& [cell, name] : cells)
    for (int layers : {1, 2})
      for (bool bidirectional : {false, true})
        for (DecoderMode mode : {DecoderMode::teacher_forcing, DecoderMode::repeat})
          cases.push_back({std::string(name) + "_l" + std::to_string(layers) +
                               (bidirectional ? "_bidirectional" : "") + "_" + to_string(mode),
                           {cell, layers, bidirectional, mode}});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllShapes, DropoutGradient, testing::ValuesIn(fixed_mask_cases()),
                         [](const testing::TestParamInfo<FixedMaskCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace s2s
