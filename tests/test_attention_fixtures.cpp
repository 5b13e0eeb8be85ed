// Whole models with attention against PyTorch: tests/fixtures/make_attention_fixtures.py
// built each model from docs/CHECKPOINT.md's equations with torch.nn in float64 and recorded its
// loss, every parameter's gradient and greedy decodings; BasicSeq2Seq<double> given the same
// weights must reproduce them (dot, general, additive, each with and without input feeding;
// LSTM and GRU, one-hot and embedding inputs, two layers, ragged source lengths).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "s2s/batch.h"
#include "s2s/seq2seq.h"

namespace s2s {
namespace {

using nlohmann::json;

// The same float64 computation in a different order of operations (PyTorch's kernels against
// CBLAS and s2s's loops): agreement to a few hundred ulps of values of order 1.
constexpr double kLossTolerance = 1e-12;
constexpr double kGradAtol = 1e-11;
constexpr double kGradRtol = 1e-9;

json load(const std::string& name) {
  const std::string path = std::string(S2S_FIXTURE_DIR) + "/" + name + ".json";
  std::ifstream file(path);
  if (!file)
    throw std::runtime_error("cannot open " + path +
                             " (regenerate with python3 tests/fixtures/make_attention_fixtures.py)");
  return json::parse(file);
}

ModelConfig config_of(const json& c) {
  ModelConfig config;
  config.cell = parse_cell(c.at("cell").get<std::string>());
  config.hidden_size = c.at("hidden_size").get<int>();
  config.layers = c.at("layers").get<int>();
  config.input = parse_input_kind(c.at("input").get<std::string>());
  config.embedding_size = c.at("embedding_size").get<int>();
  config.source_vocab_size = c.at("source_vocab_size").get<int>();
  config.target_vocab_size = c.at("target_vocab_size").get<int>();
  config.max_target_length = c.at("max_target_length").get<int>();
  config.attention = parse_attention(c.at("attention").get<std::string>());
  config.input_feed = c.at("input_feed").get<bool>();
  return config;
}

using Ids = std::vector<std::vector<std::int32_t>>;

class AttentionFixture : public testing::TestWithParam<std::string> {};

TEST_P(AttentionFixture, LossGradientsAndGreedyOutputsMatchPyTorch) {
  const json f = load(GetParam());
  const ModelConfig config = config_of(f.at("config"));
  BasicSeq2Seq<double> model(config, 1);

  // The fixture's weights, by name, into the flat buffer; every tensor must be there.
  std::vector<double> params(model.parameter_count());
  const json& named = f.at("parameters");
  ASSERT_EQ(named.size(), model.parameter_info().size());
  for (const auto& p : model.parameter_info()) {
    ASSERT_TRUE(named.contains(p.name)) << p.name << " is not in the fixture";
    const auto values = named.at(p.name).get<std::vector<double>>();
    ASSERT_EQ(values.size(), p.size()) << p.name;
    std::copy(values.begin(), values.end(), params.begin() + p.offset);
  }
  model.set_parameters(params);

  const Batch batch =
      make_token_batch(f.at("sources").get<Ids>(), f.at("targets").get<Ids>());
  const StepResult r = model.forward_backward(batch);
  EXPECT_NEAR(r.loss, f.at("loss").get<double>(), kLossTolerance);
  const std::vector<double> grads = model.gradients();
  for (const auto& p : model.parameter_info()) {
    const auto expected = f.at("grads").at(p.name).get<std::vector<double>>();
    int failures = 0;
    for (std::size_t i = 0; i < p.size() && failures < 3; ++i) {
      const double got = grads[p.offset + i];
      if (!(std::abs(got - expected[i]) <= kGradAtol + kGradRtol * std::abs(expected[i]))) {
        ++failures;
        ADD_FAILURE() << p.name << "[" << i << "]: s2s " << got << ", PyTorch " << expected[i];
      }
    }
  }

  const Ids sources = f.at("greedy_sources").get<Ids>();
  const Ids expected = f.at("greedy").get<Ids>();
  EXPECT_EQ(model.predict_tokens(make_token_batch(sources, {})), expected);
}

INSTANTIATE_TEST_SUITE_P(Attention, AttentionFixture,
                         testing::Values("attention_dot", "attention_dot_feed",
                                         "attention_general", "attention_general_feed",
                                         "attention_additive", "attention_additive_feed"));

}  // namespace
}  // namespace s2s
