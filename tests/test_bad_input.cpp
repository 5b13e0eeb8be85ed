// Bad input reaches the user as an s2s::Error that says what was wrong and what is allowed,
// and leaves the model as it was.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "expect_error.h"
#include "s2s/backend.h"
#include "s2s/config.h"
#include "s2s/optimizer.h"
#include "s2s/seq2seq.h"

namespace s2s {
namespace {

ModelConfig token_config() {
  ModelConfig c;
  c.hidden_size = 4;
  c.input = InputKind::one_hot;
  c.source_vocab_size = 6;
  c.target_vocab_size = 5;
  c.max_target_length = 5;
  return c;
}

TEST(BadConfig, ZeroOrNegativeSizesAreNamedWithTheAllowedRange) {
  ModelConfig c = token_config();
  c.hidden_size = 0;
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "hidden_size is 0", "allowed: 1");
  c = token_config();
  c.layers = -2;
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "layers is -2");
  c = token_config();
  c.input = InputKind::embedding;
  c.embedding_size = 0;
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "embedding_size is 0");
  c = token_config();
  c.target_vocab_size = 2;
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "target_vocab_size is 2", "allowed: 3");
  c = token_config();
  c.input = InputKind::features;
  c.source_features = -1;
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "source_features is -1");
  c = token_config();
  c.max_target_length = 0;
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "max_target_length is 0");
}

TEST(BadConfig, UnknownNamesListWhatIsAllowed) {
  EXPECT_ERROR_WITH(parse_cell("transformer"), "'transformer'", "lstm, gru, rnn");
  EXPECT_ERROR_WITH(parse_decoder_mode("beam"), "'beam'", "teacher_forcing", "repeat");
  EXPECT_ERROR_WITH(parse_input_kind("bytes"), "'bytes'", "one_hot");
  EXPECT_ERROR_WITH(parse_optimizer("rmsprop"), "'rmsprop'", "adam, sgd");
  EXPECT_ERROR_WITH(parse_backend("tpu"), "'tpu'", "cpu, cuda, auto");
  EXPECT_ERROR_WITH(parse_decoder_mode("attention"), "'attention'", "teacher_forcing, repeat");
  EXPECT_ERROR_WITH(parse_attention("luong"), "'luong'", "none, dot, general, additive");
  EXPECT_ERROR_WITH(parse_bridge("concat"), "'concat'", "sum, linear");
  ModelConfig c = token_config();
  c.cell = static_cast<CellType>(7);
  EXPECT_ERROR_WITH(Seq2Seq(c, 1), "cell type");
}

TEST(BadConfig, AttentionBidirectionalAndDropoutCombinations) {
  ModelConfig c = token_config();
  c.mode = DecoderMode::repeat;
  c.attention = AttentionKind::general;
  EXPECT_ERROR_WITH(c.validate(), "attention 'general'", "teacher_forcing");
  c = token_config();
  c.input_feed = true;
  EXPECT_ERROR_WITH(c.validate(), "input feeding", "needs attention");
  c = token_config();
  c.attention = AttentionKind::dot;
  c.bidirectional = true;
  EXPECT_ERROR_WITH(c.validate(), "dot attention", "general or additive");
  c = token_config();
  c.attention = AttentionKind::general;
  c.input_feed = true;
  c.dropout = 0.2;
  c.layers = 2;
  EXPECT_ERROR_WITH(c.validate(), "dropout between the decoder's layers", "input feeding");
  c.layers = 1;
  EXPECT_NO_THROW(c.validate());
  for (double p : {-0.1, 1.0, 1.5, std::nan("")}) {
    c = token_config();
    c.dropout = p;
    EXPECT_ERROR_WITH(c.validate(), "dropout", "up to, not including, 1");
  }
}

TEST(BadConfig, OptimizerValuesOutOfRange) {
  Seq2Seq model(token_config(), 1);
  OptimizerConfig o;
  o.learning_rate = -0.1;
  EXPECT_ERROR_WITH(model.set_optimizer(o), "learning_rate is -0.1");
  o = {};
  o.beta2 = 1.0;
  EXPECT_ERROR_WITH(model.set_optimizer(o), "beta2 is 1");
  o = {};
  o.clip_norm = std::nan("");
  EXPECT_ERROR_WITH(model.set_optimizer(o), "clip_norm is nan");
  Batch b = make_token_batch({{3}}, {{3}});
  EXPECT_ERROR_WITH(model.train_step(b), "no optimizer");
}

TEST(BadBatch, LengthsOfZeroOrBeyondTheLongest) {
  Seq2Seq model(token_config(), 1);
  Batch b = make_token_batch({{3, 4}, {5}}, {{3}, {4}});
  Batch zero = b;
  zero.source_lengths[1] = 0;
  EXPECT_ERROR_WITH(model.loss(zero), "source_lengths[1] is 0", "allowed: 1 to");
  Batch long_target = b;
  long_target.target_lengths[0] = 9;
  EXPECT_ERROR_WITH(model.loss(long_target), "target_lengths[0] is 9", "target_length 2");
  Batch no_steps = b;
  no_steps.source_length = 0;
  EXPECT_ERROR_WITH(model.loss(no_steps), "source_length is 0");
}

TEST(BadBatch, TokenOutsideTheVocabularyIsLocated) {
  Seq2Seq model(token_config(), 1);
  Batch b = make_token_batch({{3, 4}, {5}}, {{3}, {4}});
  b.source_tokens[2] = 6;  // t=1, b=0; vocabulary has 6 ids
  EXPECT_ERROR_WITH(model.loss(b), "source token 6", "(t=1, b=0)", "allowed: 0 to 5");
  Batch t = make_token_batch({{3}}, {{7}});
  EXPECT_ERROR_WITH(model.loss(t), "target token 7", "allowed: 0 to 4");
  // A padded position is never read, whatever it holds.
  Batch padded = make_token_batch({{3, 4}, {5}}, {{3}, {4}});
  padded.source_tokens[3] = 1000;  // t=1, b=1: beyond sequence 1's length
  EXPECT_NO_THROW(model.loss(padded));
}

TEST(BadBatch, MismatchedShapes) {
  Seq2Seq model(token_config(), 1);
  Batch b = make_token_batch({{3, 4}, {5}}, {{3}, {4}});
  Batch short_tokens = b;
  short_tokens.source_tokens.pop_back();
  EXPECT_ERROR_WITH(model.loss(short_tokens), "source_tokens has 3 values", "expected");
  Batch lengths = b;
  lengths.target_lengths.push_back(1);
  EXPECT_ERROR_WITH(model.loss(lengths), "target_lengths has 3 entries", "batch of 2");
  ModelConfig fc = token_config();
  fc.input = InputKind::features;
  fc.source_features = 3;
  Seq2Seq features(fc, 1);
  Batch f;
  set_source_features(f, {{1, 2}, {3, 4}}, 2);  // 2 features where the model takes 3
  set_target_tokens(f, {{3}, {4}});
  EXPECT_ERROR_WITH(features.loss(f), "source_features has 4 values", "3 features");
  EXPECT_ERROR_WITH(model.predict_features(b, 3), "outputs tokens");
}

TEST(BadBatch, NaNInputIsLocatedBeforeAnythingRuns) {
  ModelConfig fc = token_config();
  fc.input = InputKind::features;
  fc.source_features = 2;
  Seq2Seq model(fc, 1);
  Batch f;
  set_source_features(f, {{1, 2, 3, std::nan("")}, {5, 6}}, 2);
  set_target_tokens(f, {{3}, {4}});
  EXPECT_ERROR_WITH(model.loss(f), "source_features is nan", "(t=1, b=0)", "feature 1");
}

TEST(BadBatch, PaddedFeatureRowsAreNeverRead) {
  // Whatever a padded row holds (NaN here), losses and gradients equal those of a clean batch.
  ModelConfig fc = token_config();
  fc.input = InputKind::features;
  fc.source_features = 2;
  Seq2Seq dirty_model(fc, 1), clean_model(fc, 1);
  Batch clean;
  set_source_features(clean, {{1, 2, 3, 4}, {5, 6}}, 2);
  set_target_tokens(clean, {{3}, {4}});
  Batch dirty = clean;
  dirty.source_features[6] = std::nan("");  // t=1, b=1: beyond sequence 1's length
  const StepResult a = clean_model.forward_backward(clean);
  const StepResult b = dirty_model.forward_backward(dirty);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(clean_model.gradients(), dirty_model.gradients());
}

TEST(BadParameters, NaNParameterIsNamed) {
  Seq2Seq model(token_config(), 1);
  auto p = model.parameters();
  const auto& info = model.parameter_info()[1];  // encoder.rnn.weight_hh_l0
  p[info.offset + 2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_ERROR_WITH(model.set_parameters(p), "encoder.rnn.weight_hh_l0[2]", "finite");
  p.pop_back();
  EXPECT_ERROR_WITH(model.set_parameters(p), "values given");
}

TEST(BadParameters, DivergingStepIsCaughtAtTheStepAndLeavesParametersIntact) {
  // A learning rate this large blows the recurrent weights up within a few steps; the step
  // whose gradients or loss are not finite must throw and leave the parameters as they were.
  ModelConfig c = token_config();
  c.cell = CellType::rnn;
  Seq2Seq model(c, 1);
  OptimizerConfig sgd;
  sgd.kind = OptimizerKind::sgd;
  sgd.learning_rate = 3e38;  // near float's largest: the next forward overflows
  model.set_optimizer(sgd);
  Batch b = make_token_batch({{3, 4, 5}, {5}}, {{3, 4}, {4}});
  int failed_at = 0;
  std::vector<float> before;
  for (int step = 1; step <= 20 && failed_at == 0; ++step) {
    before = model.parameters();
    try {
      model.train_step(b);
    } catch (const Error& e) {
      failed_at = step;
      const std::string message = e.what();
      EXPECT_NE(message.find("training step " + std::to_string(step)), std::string::npos)
          << message;
      EXPECT_NE(message.find("not finite"), std::string::npos) << message;
    }
  }
  ASSERT_GT(failed_at, 0) << "the step with non-finite values was not detected";
  EXPECT_EQ(model.parameters(), before);
  EXPECT_EQ(model.optimizer_step(), failed_at - 1);
}

TEST(BadBackend, CudaWithoutCudaSaysWhy) {
  if (cuda_built() && cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_ERROR_WITH(Seq2Seq(token_config(), 1, BackendKind::cuda), "CUDA", "cpu");
  EXPECT_ERROR_WITH((void)make_ops<double>(BackendKind::cuda), "CUDA");
  EXPECT_EQ(resolve_backend(BackendKind::automatic), BackendKind::cpu);
}

}  // namespace
}  // namespace s2s
