// Trains a tiny sequence-to-sequence model through s2s's public API only: copy random digit
// strings. Exits with status 1 unless the held-out loss falls below kRequiredFraction of its
// starting value, so it doubles as a check that an installed s2s works.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "s2s/batch.h"
#include "s2s/communicator.h"
#include "s2s/config.h"
#include "s2s/decoding.h"
#include "s2s/error.h"
#include "s2s/optimizer.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace {

constexpr int kDigits = 10;                                      // symbols '0'..'9'
constexpr int kVocabSize = s2s::Vocabulary::special_count + kDigits;
constexpr int kMaxLength = 5;
constexpr int kBatchSize = 32;
constexpr int kSteps = 600;
constexpr double kRequiredFraction = 0.25;  // final held-out loss must be below 25% of the first

std::vector<std::int32_t> random_digits(s2s::Rng& rng) {
  std::vector<std::int32_t> ids(1 + rng.below(kMaxLength));
  for (auto& id : ids) id = s2s::Vocabulary::special_count + static_cast<int>(rng.below(kDigits));
  return ids;
}

// A batch of the copy task: the target is the source.
s2s::Batch copy_batch(s2s::Rng& rng, int size) {
  std::vector<std::vector<std::int32_t>> sources;
  for (int i = 0; i < size; ++i) sources.push_back(random_digits(rng));
  return s2s::make_token_batch(sources, sources);
}

std::string text(const std::vector<std::int32_t>& ids) {
  std::string s;
  for (std::int32_t id : ids)
    s += id >= s2s::Vocabulary::special_count
             ? static_cast<char>('0' + id - s2s::Vocabulary::special_count)
             : '?';
  return s;
}

int run() {
  s2s::ModelConfig config;
  config.cell = s2s::CellType::lstm;
  config.hidden_size = 32;
  config.layers = 1;
  config.mode = s2s::DecoderMode::teacher_forcing;
  config.input = s2s::InputKind::one_hot;
  config.source_vocab_size = kVocabSize;
  config.output = s2s::OutputKind::tokens;
  config.target_vocab_size = kVocabSize;
  config.max_target_length = kMaxLength + 1;  // the end token too

  s2s::Seq2Seq model(config, /*seed=*/1234);
  s2s::OptimizerConfig optimizer;
  optimizer.kind = s2s::OptimizerKind::adam;
  optimizer.learning_rate = 1e-2;
  model.set_optimizer(optimizer);
  std::printf("copy task: LSTM, hidden %d, %zu parameters, %d steps of %d sequences\n",
              config.hidden_size, model.parameter_count(), kSteps, kBatchSize);

  // One process here; under mpirun every rank would train this model together (each rank
  // passing its shard of the batch), the gradients averaged over the ranks.
  const auto ranks = s2s::make_world_communicator();
  std::printf("communicator: %s (s2s built with MPI: %s)\n", ranks->description().c_str(),
              s2s::mpi_built() ? "yes" : "no");

  s2s::Rng rng(42);
  s2s::Batch held_out = copy_batch(rng, 256);
  const double first_loss = model.loss(held_out);
  std::printf("step %4d  held-out loss %.4f\n", 0, first_loss);
  for (int step = 1; step <= kSteps; ++step) {
    const s2s::StepResult result = model.train_step(copy_batch(rng, kBatchSize), *ranks);
    if (step % 100 == 0)
      std::printf("step %4d  train loss %.4f  held-out loss %.4f\n", step, result.loss,
                  model.loss(held_out));
  }
  const double final_loss = model.loss(held_out);

  std::vector<std::vector<std::int32_t>> examples;
  for (int i = 0; i < 5; ++i) examples.push_back(random_digits(rng));
  const auto predictions = model.predict_tokens(s2s::make_token_batch(examples, {}));
  for (std::size_t i = 0; i < examples.size(); ++i)
    std::printf("  %-6s -> %-6s %s\n", text(examples[i]).c_str(), text(predictions[i]).c_str(),
                predictions[i] == examples[i] ? "ok" : "");

  // Beam search (include/s2s/decoding.h): the two best outputs of 3 beams, with their scores.
  s2s::DecodeOptions beam;
  beam.beam_size = 3;
  beam.n_best = 2;
  const auto found = s2s::beam_search(model, s2s::make_token_batch({examples[0]}, {}), beam);
  for (const auto& h : found[0])
    std::printf("  beam: %-6s -> %-6s log-probability %.4f\n", text(examples[0]).c_str(),
                text(h.tokens).c_str(), h.score);

  const bool learned = final_loss < kRequiredFraction * first_loss;
  std::printf("held-out loss %.4f -> %.4f (%.0f%% of the first; required below %.0f%%): %s\n",
              first_loss, final_loss, 100.0 * final_loss / first_loss, 100.0 * kRequiredFraction,
              learned ? "learned" : "DID NOT LEARN");
  return learned ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const s2s::Error& error) {
    std::fprintf(stderr, "s2s error: %s\n", error.what());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
  }
  return 2;
}
