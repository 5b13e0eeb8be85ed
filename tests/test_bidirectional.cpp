// The bidirectional encoder and its bridge: PyTorch's tensor names and shapes, float64
// central-difference gradient checks of the whole model (every cell, 1 and 2 layers, ragged
// lengths, sum and linear bridge, token and feature inputs, both decoders), and the reverse
// direction's view of padded sequences.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "model_gradcheck.h"
#include "random_batch.h"
#include "s2s/seq2seq.h"

namespace s2s {
namespace {

struct BidirectionalCase {
  std::string name;
  CellType cell;
  DecoderMode mode;
  InputKind input;
  OutputKind output;
  int layers;
  BridgeKind bridge;
};

std::string case_name(const testing::TestParamInfo<BidirectionalCase>& info) {
  return info.param.name;
}

ModelConfig bidirectional_config(const BidirectionalCase& c) {
  ModelConfig config;
  config.cell = c.cell;
  config.mode = c.mode;
  config.input = c.input;
  config.output = c.output;
  config.layers = c.layers;
  config.bidirectional = true;
  config.bridge = c.bridge;
  config.hidden_size = 3;
  config.source_vocab_size = 6;
  config.source_features = 2;
  config.embedding_size = 2;
  config.target_vocab_size = 5;
  config.target_features = 2;
  config.max_target_length = 4;
  return config;
}

// Ragged on purpose: the reverse direction must start at each sequence's own last token.
const std::vector<int> kSourceLengths{4, 1, 3, 2};
const std::vector<int> kTargetLengths{3, 2, 1, 3};

void PrintTo(const BidirectionalCase& c, std::ostream* os) { *os << c.name; }

class BidirectionalGradient : public testing::TestWithParam<BidirectionalCase> {};

TEST_P(BidirectionalGradient, EveryParameterMatchesCentralDifferences) {
  const ModelConfig config = bidirectional_config(GetParam());
  Rng rng(23);
  BasicSeq2Seq<double> model(config, 9);
  const Batch batch = test::random_ragged_batch(config, rng, kSourceLengths, kTargetLengths);
  test::expect_model_gradients_match(model, batch);
}

std::vector<BidirectionalCase> bidirectional_cases() {
  std::vector<BidirectionalCase> cases;
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
      {"repeat_onehot_tokens", DecoderMode::repeat, InputKind::one_hot, OutputKind::tokens},
      {"repeat_features_tokens", DecoderMode::repeat, InputKind::features, OutputKind::tokens},
  };
  for (const auto& [cell, cell_name] : cells)
    for (const auto& s : shapes)
      for (int layers : {1, 2})
        for (BridgeKind bridge : {BridgeKind::sum, BridgeKind::linear})
          cases.push_back({std::string(cell_name) + "_" + s.name + "_l" +
                               std::to_string(layers) + "_" + to_string(bridge),
                           cell, s.mode, s.input, s.output, layers, bridge});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllShapes, BidirectionalGradient,
                         testing::ValuesIn(bidirectional_cases()), case_name);

std::map<std::string, Shape> shapes_of(const BasicSeq2Seq<double>& model) {
  std::map<std::string, Shape> shapes;
  for (const auto& p : model.parameter_info()) shapes[p.name] = p.shape;
  return shapes;
}

TEST(Bidirectional, EncoderTensorsUsePyTorchNamesAndShapes) {
  BidirectionalCase c{"", CellType::lstm, DecoderMode::teacher_forcing, InputKind::embedding,
                      OutputKind::tokens, 2, BridgeKind::linear};
  const ModelConfig config = bidirectional_config(c);
  const auto shapes = shapes_of(BasicSeq2Seq<double>(config, 1));
  const std::int64_t G = 4 * 3, H = 3;
  // Layer 0 reads the embedding, layer 1 both directions of layer 0: [G*H, 2H].
  EXPECT_EQ(shapes.at("encoder.rnn.weight_ih_l0"), (Shape{G, 2}));
  EXPECT_EQ(shapes.at("encoder.rnn.weight_ih_l0_reverse"), (Shape{G, 2}));
  EXPECT_EQ(shapes.at("encoder.rnn.weight_hh_l0_reverse"), (Shape{G, H}));
  EXPECT_EQ(shapes.at("encoder.rnn.bias_ih_l1_reverse"), (Shape{G}));
  EXPECT_EQ(shapes.at("encoder.rnn.weight_ih_l1"), (Shape{G, 2 * H}));
  EXPECT_EQ(shapes.at("encoder.rnn.weight_ih_l1_reverse"), (Shape{G, 2 * H}));
  // The decoder stays unidirectional: no _reverse tensors, layer 1 reads H.
  EXPECT_EQ(shapes.count("decoder.rnn.weight_ih_l0_reverse"), 0u);
  EXPECT_EQ(shapes.at("decoder.rnn.weight_ih_l1"), (Shape{G, H}));
  // A linear bridge per layer for h and c: [H, 2H] over [forward ; reverse].
  for (const char* state : {"h", "c"})
    for (int k = 0; k < 2; ++k) {
      const std::string name = std::string("decoder.bridge_") + state + "." + std::to_string(k);
      EXPECT_EQ(shapes.at(name + ".weight"), (Shape{H, 2 * H})) << name;
      EXPECT_EQ(shapes.at(name + ".bias"), (Shape{H})) << name;
    }
}

TEST(Bidirectional, SumBridgeHasNoTensorsAndRepeatLinearBridgeMapsTheTopLayerOnly) {
  BidirectionalCase c{"", CellType::lstm, DecoderMode::teacher_forcing, InputKind::one_hot,
                      OutputKind::tokens, 2, BridgeKind::sum};
  for (const auto& [name, shape] : shapes_of(BasicSeq2Seq<double>(bidirectional_config(c), 1)))
    EXPECT_EQ(name.find("bridge"), std::string::npos) << name;
  c.mode = DecoderMode::repeat;
  c.bridge = BridgeKind::linear;
  const auto shapes = shapes_of(BasicSeq2Seq<double>(bidirectional_config(c), 1));
  // The repeat decoder reads the top layer's h alone: one map, no cell-state map.
  EXPECT_EQ(shapes.count("decoder.bridge_h.0.weight"), 1u);
  EXPECT_EQ(shapes.count("decoder.bridge_h.1.weight"), 0u);
  EXPECT_EQ(shapes.count("decoder.bridge_c.0.weight"), 0u);
}

// The reverse direction reads each sequence from its own last real token: padding after a
// short sequence must not change that sequence's loss, however long the batch's other
// sequences are.
TEST(Bidirectional, PaddingDoesNotReachTheReverseDirection) {
  BidirectionalCase c{"", CellType::gru, DecoderMode::teacher_forcing, InputKind::one_hot,
                      OutputKind::tokens, 2, BridgeKind::linear};
  const ModelConfig config = bidirectional_config(c);
  BasicSeq2Seq<double> model(config, 4);
  Batch alone, padded;
  set_source_tokens(alone, {{3, 4, 5}});
  set_target_tokens(alone, {{4, 3}});
  set_source_tokens(padded, {{3, 4, 5}, {5, 5, 4, 3, 3, 4}});
  set_target_tokens(padded, {{4, 3}, {4, 3}});
  Batch other;
  set_source_tokens(other, {{5, 5, 4, 3, 3, 4}});
  set_target_tokens(other, {{4, 3}});
  // The mean over the batch's target tokens (3 each) is the mean of the two sequences' means.
  const double expected = (model.loss(alone) + model.loss(other)) / 2;
  EXPECT_NEAR(model.loss(padded), expected, 1e-12);
}

}  // namespace
}  // namespace s2s
