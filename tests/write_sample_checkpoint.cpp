// Writes a small, trained checkpoint for scripts/check_checkpoint.py and the fuzzer's corpus.
// Usage: write_sample_checkpoint PATH [adam|sgd|none|features]
//   adam      embedding inputs, 2-layer LSTM, teacher forcing, Adam state (default)
//   sgd       one-hot inputs, GRU, teacher forcing, SGD with momentum (velocity state)
//   none      one-hot inputs, RNN, repeat mode, no optimizer
//   features  feature inputs and outputs, LSTM, teacher forcing, Adam
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "s2s/checkpoint.h"
#include "s2s/tasks.h"

namespace {

s2s::CheckpointData sample(const std::string& kind) {
  using namespace s2s;
  ModelConfig config;
  config.hidden_size = 3;
  config.max_target_length = 4;
  TrainingState training;
  training.epoch = 2;
  training.step = 2;
  training.best_valid_loss = 1.25;
  training.rng_state = "5489";
  training.data_json = R"({"file":"sample.tsv"})";

  if (kind == "features") {
    config.input = InputKind::features;
    config.source_features = 2;
    config.output = OutputKind::features;
    config.target_features = 1;
    Seq2Seq model(config, 11);
    model.set_optimizer({});
    Batch batch;
    set_source_features(batch, {{0.5, -1.0, 0.25, 2.0}, {1.0, 0.0}}, 2);
    set_target_features(batch, {{0.5, 1.5}, {-0.5}}, 1);
    for (int i = 0; i < 2; ++i) model.train_step(batch);
    return checkpoint_of(model, {}, {}, training);
  }

  // Non-ASCII symbols on purpose: the vocabularies are UTF-8 JSON in the metadata.
  const TokenDataset data = encode_pairs({{"aé", "éa"}, {"b€", "€b"}, {"ab", "ba"}});
  config.source_vocab_size = data.source_vocab.size();
  config.target_vocab_size = data.target_vocab.size();
  OptimizerConfig optimizer;
  bool has_optimizer = true;
  if (kind == "adam") {
    config.input = InputKind::embedding;
    config.embedding_size = 2;
    config.layers = 2;
  } else if (kind == "sgd") {
    config.cell = CellType::gru;
    optimizer.kind = OptimizerKind::sgd;
    optimizer.learning_rate = 0.1;
    optimizer.momentum = 0.9;
  } else if (kind == "none") {
    config.cell = CellType::rnn;
    config.mode = DecoderMode::repeat;
    has_optimizer = false;
  } else {
    throw Error("unknown sample kind '" + kind + "' (allowed: adam, sgd, none, features)");
  }
  Seq2Seq model(config, 11);
  if (has_optimizer) {
    model.set_optimizer(optimizer);
    const Batch batch = make_token_batch(data.sources, data.targets);
    for (int i = 0; i < 2; ++i) model.train_step(batch);
  } else {
    training = {};
  }
  return checkpoint_of(model, data.source_vocab, data.target_vocab, training);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s PATH [adam|sgd|none|features]\n", argv[0]);
    return 2;
  }
  try {
    s2s::save_checkpoint(argv[1], sample(argc == 3 ? argv[2] : "adam"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_sample_checkpoint: %s\n", e.what());
    return 1;
  }
  return 0;
}
