// Seed 003 through the library: a vanilla-RNN encoder-decoder with real-valued inputs and
// targets, trained with mean squared error. The seed's data is one sequence of three 2-feature
// inputs and three 1-feature targets; here every example has that shape, drawn at random, and
// the target is learnable from the encoder's summary: y_t = (a_s + b_s) / 2 for the input steps
// s taken in reverse order (s = T-1-t), so the decoder must remember the whole input.
//
//   seed003_mse [--epochs N] [--hidden H] [--metrics run.jsonl]
//
// Prints the training and validation MSE per epoch; --metrics writes them as JSON lines that
// scripts/plot_metrics.py draws.
#include <s2s/s2s.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kSteps = 3;           // seed 003: three time steps
constexpr int kInputFeatures = 2;   // input_dim=2
constexpr int kOutputFeatures = 1;  // output_dim=1

struct Examples {
  std::vector<std::vector<double>> sources;  // [kSteps * kInputFeatures]
  std::vector<std::vector<double>> targets;  // [kSteps * kOutputFeatures]
};

Examples make_examples(std::size_t n, s2s::Rng& rng) {
  Examples e;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> x(kSteps * kInputFeatures), y(kSteps * kOutputFeatures);
    for (double& v : x) v = rng.uniform() * 2.0 - 1.0;  // in [-1, 1), as the seed's values
    for (int t = 0; t < kSteps; ++t) {
      const int s = kSteps - 1 - t;
      y[t] = 0.5 * (x[s * kInputFeatures] + x[s * kInputFeatures + 1]);
    }
    e.sources.push_back(std::move(x));
    e.targets.push_back(std::move(y));
  }
  return e;
}

s2s::Batch batch_of(const Examples& e, std::size_t begin, std::size_t end) {
  s2s::Batch batch;
  std::vector<std::vector<double>> x(e.sources.begin() + begin, e.sources.begin() + end);
  std::vector<std::vector<double>> y(e.targets.begin() + begin, e.targets.begin() + end);
  s2s::set_source_features(batch, x, kInputFeatures);
  s2s::set_target_features(batch, y, kOutputFeatures);
  return batch;
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 40, hidden = 32;
  std::string metrics;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--epochs") && has_value) {
      epochs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--hidden") && has_value) {
      hidden = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--metrics") && has_value) {
      metrics = argv[++i];
    } else {
      std::fprintf(stderr, "usage: seed003_mse [--epochs N] [--hidden H] [--metrics FILE]\n");
      return 2;
    }
  }

  s2s::Rng rng(3);
  const Examples train = make_examples(2000, rng);
  const Examples valid = make_examples(500, rng);

  s2s::ModelConfig config;
  config.cell = s2s::CellType::rnn;  // the seed's tanh RNN
  config.hidden_size = hidden;
  config.mode = s2s::DecoderMode::teacher_forcing;  // the seed feeds the targets to the decoder
  config.input = s2s::InputKind::features;
  config.source_features = kInputFeatures;
  config.output = s2s::OutputKind::features;
  config.target_features = kOutputFeatures;
  config.max_target_length = kSteps;
  s2s::Seq2Seq model(config, /*seed=*/1, s2s::BackendKind::cpu);
  s2s::OptimizerConfig optimizer;  // Adam
  optimizer.learning_rate = 0.003;
  model.set_optimizer(optimizer);

  std::FILE* out = metrics.empty() ? nullptr : std::fopen(metrics.c_str(), "w");
  if (!metrics.empty() && !out) {
    std::fprintf(stderr, "seed003_mse: cannot write %s\n", metrics.c_str());
    return 1;
  }
  const s2s::Batch valid_batch = batch_of(valid, 0, valid.sources.size());
  std::printf("epoch 0: val_mse %.6f\n", model.loss(valid_batch));
  constexpr std::size_t kBatch = 32;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    double sum = 0;
    int steps = 0;
    for (std::size_t i = 0; i + kBatch <= train.sources.size(); i += kBatch, ++steps)
      sum += model.train_step(batch_of(train, i, i + kBatch)).loss;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double val = model.loss(valid_batch);
    std::printf("epoch %d: mse %.6f val_mse %.6f (%.2fs)\n", epoch, sum / steps, val, seconds);
    if (out)
      std::fprintf(out, "{\"epoch\": %d, \"loss\": %.8f, \"val_loss\": %.8f, \"seconds\": %.4f}\n",
                   epoch, sum / steps, val, seconds);
  }
  if (out) std::fclose(out);
  return 0;
}
