// One training step of the whole model with each attention kind, with and without input
// feeding, against the same model without attention (H128, batch 64, source and target of 50
// tokens, one-hot): what attention costs on the CPU. Attention's own work is per sequence
// O(Tt * Ts * D) (dot, general: GEMMs) or O(Tt * Ts * H) tanh (additive: loops); input feeding
// also runs the decoder one step at a time. Run it alone on the machine.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "s2s/batch.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace {

constexpr int kHidden = 128;
constexpr int kBatch = 64;
constexpr int kSteps = 50;
constexpr int kSymbols = 10;
constexpr int kVocab = s2s::Vocabulary::special_count + kSymbols;

// Reverse-task-like batch: a digit string and its reversal.
s2s::Batch reverse_batch() {
  std::vector<std::vector<std::int32_t>> sources(kBatch), targets(kBatch);
  for (int b = 0; b < kBatch; ++b)
    for (int t = 0; t < kSteps; ++t)
      sources[b].push_back(s2s::Vocabulary::special_count + (b * 7 + t * 3) % kSymbols);
  for (int b = 0; b < kBatch; ++b) targets[b].assign(sources[b].rbegin(), sources[b].rend() - 1);
  return s2s::make_token_batch(sources, targets);
}

void BM_attention_train_step(benchmark::State& state) {
  s2s::ModelConfig config;
  config.hidden_size = kHidden;
  config.input = s2s::InputKind::one_hot;
  config.source_vocab_size = kVocab;
  config.target_vocab_size = kVocab;
  config.max_target_length = kSteps + 1;
  config.attention = static_cast<s2s::AttentionKind>(state.range(0));
  config.input_feed = state.range(1) != 0;
  s2s::Seq2Seq model(config, 1);
  model.set_optimizer({});
  const s2s::Batch batch = reverse_batch();
  model.train_step(batch);  // buffers sized: the steady state is what counts
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step(batch).loss);
  state.counters["examples"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(s2s::to_string(config.attention) + (config.input_feed ? "+feed" : ""));
}

// Args: AttentionKind (0 none, 1 dot, 2 general, 3 additive), input feeding.
BENCHMARK(BM_attention_train_step)
    ->ArgNames({"kind", "feed"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({3, 0})
    ->Args({1, 1})
    ->Args({3, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
