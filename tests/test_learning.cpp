// The model learns the seeds' tasks on the CPU: accuracy is asserted, never time.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/tasks.h"

namespace s2s {
namespace {

// Fraction of examples order[begin, end) whose greedy prediction equals the target exactly.
double exact_match(Seq2Seq& model, const TokenDataset& data, const std::vector<std::size_t>& order,
                   std::size_t begin, std::size_t end) {
  std::size_t right = 0;
  for (std::size_t i = begin; i < end; i += 256) {
    const std::size_t stop = std::min(end, i + 256);
    const Batch batch = make_batch(data, order, i, stop);
    const auto predicted = model.predict_tokens(batch);
    for (std::size_t k = 0; k < predicted.size(); ++k)
      right += predicted[k] == data.targets[order[i + k]];
  }
  return static_cast<double>(right) / static_cast<double>(end - begin);
}

// Trains on order[0, train_end) for `epochs`, shuffling every epoch with a fixed seed.
void fit(Seq2Seq& model, const TokenDataset& data, std::vector<std::size_t> order,
         std::size_t train_end, int batch_size, int epochs) {
  std::vector<std::size_t> train(order.begin(), order.begin() + train_end);
  Rng rng(1234);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (std::size_t i = train.size(); i > 1; --i) std::swap(train[i - 1], train[rng.below(i)]);
    for (std::size_t i = 0; i < train.size(); i += batch_size)
      model.train_step(make_batch(data, train, i, std::min(train.size(), i + batch_size)));
  }
}

TEST(Learning, DigitsToWordsReachesFullExactMatch) {
  // Seed 000: one-hot characters, LSTM 32, teacher forcing, Adam, batch 2, 300 epochs.
  const TokenDataset data = encode_pairs(generate_task("digits-words", {}));
  ModelConfig config;
  config.cell = CellType::lstm;
  config.hidden_size = 32;
  config.input = InputKind::one_hot;
  config.source_vocab_size = data.source_vocab.size();
  config.target_vocab_size = data.target_vocab.size();
  config.mode = DecoderMode::teacher_forcing;
  config.max_target_length = 10;
  Seq2Seq model(config, 7);
  model.set_optimizer({});
  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  fit(model, data, order, order.size(), 2, 300);
  EXPECT_EQ(exact_match(model, data, order, 0, order.size()), 1.0);
}

TEST(Learning, TwoDigitAdditionInRepeatMode) {
  // Seed 001's model on 2-digit sums (Keras' table: 5,000 examples): one-hot reversed
  // queries, LSTM 128 -> repeat -> LSTM 128 -> softmax, Adam, batch 32; 90/10 split.
  // Asserted: at least 95% exact match on the held-out 10% after a fixed number of epochs.
  constexpr double kRequiredValidationExactMatch = 0.95;
  constexpr int kEpochs = 40;
  TaskOptions options;
  options.digits = 2;
  options.reverse = true;
  options.size = 5000;
  const TokenDataset data = encode_pairs(generate_task("addition", options));
  ModelConfig config;
  config.cell = CellType::lstm;
  config.hidden_size = 128;
  config.input = InputKind::one_hot;
  config.source_vocab_size = data.source_vocab.size();
  config.target_vocab_size = data.target_vocab.size();
  config.mode = DecoderMode::repeat;
  config.max_target_length = 4;  // 3 answer characters and the end token
  Seq2Seq model(config, 3);
  model.set_optimizer({});
  std::vector<std::size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t split = data.size() * 9 / 10;
  fit(model, data, order, split, 32, kEpochs);
  const double accuracy = exact_match(model, data, order, split, data.size());
  std::printf("2-digit addition, repeat mode: validation exact match %.4f after %d epochs\n",
              accuracy, kEpochs);
  EXPECT_GE(accuracy, kRequiredValidationExactMatch);
}

}  // namespace
}  // namespace s2s
