// The README's 20-line example, compiled with the project so it stays true.
#include <s2s/s2s.h>
#include <cstdio>

int main() {
  s2s::TaskOptions options;
  options.digits = 2;
  options.reverse = true;
  options.size = 5000;
  const s2s::TokenDataset data = s2s::encode_pairs(s2s::generate_task("addition", options));
  s2s::ModelConfig config;  // LSTM, hidden 128, one layer
  config.input = s2s::InputKind::one_hot;
  config.mode = s2s::DecoderMode::repeat;  // Keras' RepeatVector model (seed 001)
  config.source_vocab_size = data.source_vocab.size();
  config.target_vocab_size = data.target_vocab.size();
  config.max_target_length = 4;
  s2s::Seq2Seq model(config, /*seed=*/1, s2s::BackendKind::automatic);
  model.set_optimizer({});  // Adam with Keras' defaults
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int epoch = 0; epoch < 40; ++epoch)
    for (std::size_t i = 0; i + 32 <= order.size(); i += 32)
      model.train_step(s2s::make_batch(data, order, i, i + 32));
  const auto predicted = model.predict_tokens(s2s::make_batch(data, order, 0, 3));
  for (const auto& ids : predicted) std::printf("%s\n", data.target_vocab.decode(ids).c_str());
}
