// The Trainer: seed 001's early stopping rule, the seeded validation split, exact resume through
// a checkpoint file, sane metrics and callbacks, and seed 002's progression data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "expect_error.h"
#include "s2s/checkpoint.h"
#include "s2s/sequences.h"
#include "s2s/tasks.h"
#include "s2s/trainer.h"

namespace s2s {
namespace {

// A fresh empty folder for this test's files, removed at the end.
class TempFolder {
 public:
  TempFolder() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("s2s_test_trainer_") + info->name() + "_" +
             std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

SequenceData addition_data(int size) {
  TaskOptions options;
  options.digits = 2;
  options.reverse = true;
  options.size = size;
  return sequence_data(encode_pairs(generate_task("addition", options)));
}

ModelConfig config_for(const SequenceData& data, DecoderMode mode, int hidden = 16) {
  ModelConfig c;
  c.cell = CellType::lstm;
  c.hidden_size = hidden;
  c.mode = mode;
  if (data.feature_sources()) {
    c.input = InputKind::features;
    c.source_features = data.source_features;
  } else {
    c.input = InputKind::one_hot;
    c.source_vocab_size = data.source_vocab.size();
  }
  c.target_vocab_size = data.target_vocab.size();
  c.max_target_length = data.max_target_length() + 1;
  return c;
}

TEST(EarlyStopping, ComparesWithThePreviousEpochAsSeed001Does) {
  EarlyStopping rule;
  rule.patience = 2;
  rule.min_delta = 0.01;
  EXPECT_FALSE(rule.observe(1.0));   // the first epoch always improves
  EXPECT_EQ(rule.waited, 0);
  EXPECT_FALSE(rule.observe(0.95));  // improved by 0.05 >= 0.01
  EXPECT_EQ(rule.waited, 0);
  EXPECT_FALSE(rule.observe(0.945));  // by 0.005 < 0.01: patience 1/2
  EXPECT_EQ(rule.waited, 1);
  EXPECT_FALSE(rule.observe(0.90));  // by 0.045 on the previous epoch: reset
  EXPECT_EQ(rule.waited, 0);
  EXPECT_FALSE(rule.observe(0.91));  // worse: 1/2
  EXPECT_TRUE(rule.observe(0.905));  // better than the previous by 0.005 only: 2/2, stop
  EXPECT_EQ(rule.waited, 2);
}

TEST(EarlyStopping, ExactlyMinDeltaCountsAsImprovementAndPatienceZeroNeverStops) {
  EarlyStopping rule;
  rule.patience = 1;
  rule.min_delta = 0.5;
  rule.observe(2.0);
  EXPECT_FALSE(rule.observe(1.5));  // 2.0 - 1.5 == min_delta: improved (seed: `< min_delta` fails)
  EarlyStopping never;  // patience 0
  never.min_delta = 0.1;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(never.observe(1.0));
  EXPECT_EQ(never.waited, 9);
}

TEST(ValidationSplit, SameSeedSameSplitAndTheLastTenthIsHeldOut) {
  const SequenceData data = addition_data(503);
  const ValidationSplit a = split_validation(data, 0.1, 42);
  const ValidationSplit b = split_validation(data, 0.1, 42);
  const ValidationSplit c = split_validation(data, 0.1, 43);
  EXPECT_EQ(a.valid.size(), 50u);  // floor(503 * 0.1), as the seed's len(x) // 10
  EXPECT_EQ(a.train.size(), 453u);
  EXPECT_EQ(a.train.source_tokens, b.train.source_tokens);
  EXPECT_EQ(a.valid.targets, b.valid.targets);
  EXPECT_NE(a.valid.source_tokens, c.valid.source_tokens);
  // Disjoint and complete: every question once.
  std::set<std::vector<std::int32_t>> all;
  for (const auto& s : a.train.source_tokens) all.insert(s);
  for (const auto& s : a.valid.source_tokens) all.insert(s);
  EXPECT_EQ(all.size(), data.size());
  EXPECT_EQ(a.train.source_vocab.symbols(), data.source_vocab.symbols());
}

TEST(ValidationSplit, RefusesSplitsThatLeaveASideEmpty) {
  const SequenceData data = addition_data(9);
  EXPECT_ERROR_WITH(split_validation(data, 0.1, 1), "leaves no validation example", "9");
  EXPECT_ERROR_WITH(split_validation(data, 1.0, 1), "allowed: 0 <= split < 1");
  EXPECT_EQ(split_validation(data, 0.0, 1).valid.size(), 0u);
}

TEST(Trainer, MetricsAndCallbacksAreSane) {
  const ValidationSplit split = split_validation(addition_data(300), 0.1, 5);
  Seq2Seq model(config_for(split.train, DecoderMode::repeat), 11);
  OptimizerConfig optimizer;
  optimizer.decay = 0.01;
  model.set_optimizer(optimizer);
  TrainerOptions options;
  options.epochs = 2;
  options.batch_size = 64;
  options.train_exact_match = true;
  Trainer trainer(model, split.train, split.valid, options);
  int steps_seen = 0, epochs_seen = 0;
  trainer.on_step([&](const StepProgress& p) {
    ++steps_seen;
    EXPECT_EQ(p.steps, 5);  // ceil(270 / 64)
    EXPECT_GE(p.step, 1);
    EXPECT_LE(p.step, p.steps);
    EXPECT_TRUE(std::isfinite(p.loss));
  });
  trainer.on_epoch([&](const EpochMetrics&) { ++epochs_seen; });
  const auto history = trainer.fit();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(steps_seen, 10);
  EXPECT_EQ(epochs_seen, 2);
  for (const EpochMetrics& m : history) {
    EXPECT_GT(m.loss, 0);
    EXPECT_TRUE(std::isfinite(m.loss));
    EXPECT_GE(m.accuracy, 0);
    EXPECT_LE(m.accuracy, 1);
    EXPECT_GE(m.exact_match, 0);  // computed: asked for
    EXPECT_LE(m.exact_match, 1);
    EXPECT_GT(m.val_loss, 0);
    EXPECT_GE(m.val_accuracy, 0);
    EXPECT_LE(m.val_accuracy, 1);
    EXPECT_GE(m.val_exact_match, 0);
    EXPECT_LE(m.val_exact_match, 1);
    EXPECT_GT(m.seconds, 0);
    EXPECT_GT(m.examples_per_second, 0);
    EXPECT_DOUBLE_EQ(m.learning_rate, optimizer.rate_at(m.steps - 1));
  }
  EXPECT_EQ(history[0].epoch, 1);
  EXPECT_EQ(history[1].steps, 10);
  EXPECT_LT(history[1].loss, history[0].loss);  // it learns something in two epochs
  // The epoch's loss is what evaluate() reports for the same model on validation data.
  const EvalResult v = evaluate(model, split.valid, 256, true);
  EXPECT_NEAR(v.loss, history[1].val_loss, 1e-9);
  EXPECT_EQ(trainer.state().epoch, 2);
  EXPECT_EQ(trainer.state().step, 10);
}

TEST(Trainer, WithoutValidationTheValidationMetricsAreNaN) {
  const SequenceData data = addition_data(100);
  Seq2Seq model(config_for(data, DecoderMode::repeat), 3);
  model.set_optimizer({});
  TrainerOptions options;
  options.epochs = 1;
  Trainer trainer(model, data, SequenceData{}, options);
  const auto history = trainer.fit();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(std::isnan(history[0].val_loss));
  EXPECT_TRUE(std::isnan(history[0].exact_match));  // not asked for
  EXPECT_TRUE(std::isinf(trainer.state().best_valid_loss));
}

TEST(Trainer, EarlyStoppingEndsTheRun) {
  const ValidationSplit split = split_validation(addition_data(200), 0.1, 5);
  Seq2Seq model(config_for(split.train, DecoderMode::repeat), 3);
  model.set_optimizer({});
  TrainerOptions options;
  options.epochs = 10;
  options.patience = 1;
  options.min_delta = 100.0;  // no epoch after the first can improve by that much
  Trainer trainer(model, split.train, split.valid, options);
  const auto history = trainer.fit();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[0].improved);
  EXPECT_FALSE(history[1].improved);
  EXPECT_TRUE(history[1].stop);
  EXPECT_TRUE(trainer.stopped_early());
  EXPECT_EQ(trainer.state().epochs_without_improvement, 1);
}

TEST(Trainer, RejectsDataThatDoesNotFitTheModel) {
  const SequenceData data = addition_data(50);
  ModelConfig config = config_for(data, DecoderMode::repeat);
  config.target_vocab_size += 1;
  Seq2Seq model(config, 1);
  model.set_optimizer({});
  EXPECT_ERROR_WITH(Trainer(model, data, SequenceData{}, TrainerOptions{}),
                    "target vocabulary has", "target_vocab_size is");
  ModelConfig short_config = config_for(data, DecoderMode::teacher_forcing);
  short_config.max_target_length = 2;
  Seq2Seq short_model(short_config, 1);
  EXPECT_ERROR_WITH(Trainer(short_model, data, SequenceData{}, TrainerOptions{}),
                    "max_target_length is 2");
  TrainerOptions bad;
  bad.batch_size = 0;
  Seq2Seq ok(config_for(data, DecoderMode::repeat), 1);
  EXPECT_ERROR_WITH(Trainer(ok, data, SequenceData{}, bad), "batch_size is 0");
}

// Trains `epochs` epochs straight, or `first` epochs, a checkpoint file, a fresh model and
// trainer from it, and the rest: the parameters and optimizer state must be bit-identical.
void expect_exact_resume(DecoderMode mode, OptimizerKind kind) {
  TempFolder folder;
  const ValidationSplit split = split_validation(addition_data(240), 0.1, 9);
  OptimizerConfig optimizer;
  optimizer.kind = kind;
  optimizer.learning_rate = kind == OptimizerKind::adam ? 1e-3 : 0.05;
  optimizer.momentum = kind == OptimizerKind::sgd ? 0.9 : 0.0;
  optimizer.decay = 0.001;
  optimizer.clip_norm = 1.0;
  TrainerOptions options;
  options.batch_size = 32;
  options.shuffle_seed = 77;
  options.patience = 5;
  options.min_delta = 0.001;
  options.data_json = R"({"note":"test"})";

  Seq2Seq straight(config_for(split.train, mode), 21);
  straight.set_optimizer(optimizer);
  options.epochs = 2;
  Trainer a(straight, split.train, split.valid, options);
  a.fit();

  const std::string path = folder.file("model.safetensors");
  Seq2Seq first(config_for(split.train, mode), 21);
  first.set_optimizer(optimizer);
  options.epochs = 1;
  options.checkpoint_path = path;
  options.best_checkpoint_path = best_checkpoint_path(path);
  Trainer b(first, split.train, split.valid, options);
  b.fit();
  ASSERT_TRUE(std::filesystem::exists(path));
  ASSERT_TRUE(std::filesystem::exists(folder.file("model.best.safetensors")));

  const CheckpointData checkpoint = load_checkpoint(path);
  EXPECT_EQ(checkpoint.training.epoch, 1);
  Seq2Seq resumed = model_from_checkpoint(checkpoint);
  options.epochs = 2;
  Trainer c(resumed, split.train, split.valid, options);
  c.restore(checkpoint.training);
  const auto history = c.fit();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].epoch, 2);

  EXPECT_EQ(straight.parameters(), resumed.parameters());
  EXPECT_EQ(straight.optimizer_step(), resumed.optimizer_step());
  EXPECT_EQ(straight.optimizer_state(), resumed.optimizer_state());
  const TrainingState sa = a.state(), sc = c.state();
  EXPECT_EQ(sa.rng_state, sc.rng_state);
  EXPECT_EQ(sa.best_valid_loss, sc.best_valid_loss);
  EXPECT_EQ(sa.epochs_without_improvement, sc.epochs_without_improvement);
  EXPECT_EQ(sa.data_json, sc.data_json);
}

TEST(TrainerResume, TwoEpochsEqualOnePlusResumePlusOneRepeatAdam) {
  expect_exact_resume(DecoderMode::repeat, OptimizerKind::adam);
}

TEST(TrainerResume, TwoEpochsEqualOnePlusResumePlusOneTeacherForcingSgd) {
  expect_exact_resume(DecoderMode::teacher_forcing, OptimizerKind::sgd);
}

TEST(TrainerResume, RefusesAStateThatDoesNotMatchTheModel) {
  const SequenceData data = addition_data(60);
  Seq2Seq model(config_for(data, DecoderMode::repeat), 1);
  model.set_optimizer({});
  Trainer trainer(model, data, SequenceData{}, TrainerOptions{});
  TrainingState state = trainer.state();
  state.step = 5;  // the model has made no update
  EXPECT_ERROR_WITH(trainer.restore(state), "5 optimizer steps");
  state = trainer.state();
  state.rng_state = "not an engine";
  EXPECT_ERROR_WITH(trainer.restore(state), "rng_state");
}

TEST(BestCheckpointPath, SitsNextToTheCheckpoint) {
  EXPECT_EQ(best_checkpoint_path("out/model.safetensors"), "out/model.best.safetensors");
  EXPECT_EQ(best_checkpoint_path("model.bin"), "model.bin.best");
}

TEST(Progression, IsSeed002sTaskWithNormalisedInputsAndClassTargets) {
  const SequenceData data = generate_progression({});
  ASSERT_EQ(data.size(), 50u);
  EXPECT_EQ(data.source_features, 1);
  EXPECT_EQ(data.target_vocab.size(), 53);
  std::set<int> starts;
  for (std::size_t i = 0; i < data.size(); ++i) {
    ASSERT_EQ(data.source_values[i].size(), 10u);
    ASSERT_EQ(data.targets[i].size(), 10u);
    const int start = static_cast<int>(std::lround(data.source_values[i][0] * 50));
    starts.insert(start);
    int x = start;
    for (int k = 0; k < 10; ++k) {
      EXPECT_DOUBLE_EQ(data.source_values[i][k], x / 50.0);
      x = (3 * x) % 50;
      EXPECT_EQ(progression_number(data.targets[i][k]), x);
    }
  }
  EXPECT_EQ(starts.size(), 50u);  // every start once
  EXPECT_ERROR_WITH(generate_progression({1, 3, 10, 0, 1}), "modulus is 1");
}

TEST(Progression, TrainsWithFeatureInputsAndTokenOutputs) {
  const ValidationSplit split = split_validation(generate_progression({}), 0.1, 3);
  Seq2Seq model(config_for(split.train, DecoderMode::teacher_forcing, 32), 5);
  model.set_optimizer({});
  TrainerOptions options;
  options.epochs = 3;
  options.batch_size = 5;
  Trainer trainer(model, split.train, split.valid, options);
  const auto history = trainer.fit();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_LT(history[2].loss, history[0].loss);
  EXPECT_TRUE(std::isfinite(history[2].val_loss));
}

}  // namespace
}  // namespace s2s
