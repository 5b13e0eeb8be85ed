// One training step of the whole model (encoder, teacher-forced decoder, head, loss, backward,
// Adam) at H128 and batch 128, on short (T=50) and pq's longest (T=2,001) sequences: the
// long-sequence CPU path of issue 11. Reports time per step, examples/s and GFLOP/s, so the
// long rate can be read against the short one.
//
// FLOPs counted are the recurrent and head GEMMs of both RNNs (one-hot inputs are gathers, the
// pointwise cell math is small next to them): per RNN and step, forward 2*B*G*H*H, backward
// twice that; the head 2*B*H*V forward, twice that backward. Run it alone on the machine, with
// OPENBLAS_NUM_THREADS set to the thread count under test.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "s2s/batch.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace {

constexpr int kHidden = 128;
constexpr int kBatch = 128;
constexpr int kVocab = s2s::Vocabulary::special_count + 2;  // pq: '-' and 'p' / 'q'

// A batch of pq-like questions of `steps` source and target characters.
s2s::Batch pq_batch(int steps) {
  const std::int32_t dash = s2s::Vocabulary::special_count;
  std::vector<std::vector<std::int32_t>> sources(kBatch), targets(kBatch);
  for (int b = 0; b < kBatch; ++b) {
    sources[b].assign(static_cast<std::size_t>(steps), dash);
    sources[b][static_cast<std::size_t>(1 + b % (steps - 1))] = dash + 1;  // the 'p'
    targets[b].assign(static_cast<std::size_t>(steps - 1), dash);
    targets[b].insert(targets[b].begin(), dash + 1);  // the 'q'
  }
  return s2s::make_token_batch(sources, targets);
}

void BM_seq2seq_train_step(benchmark::State& state) {
  const int steps = static_cast<int>(state.range(0));
  s2s::ModelConfig config;
  config.hidden_size = kHidden;
  config.mode = s2s::DecoderMode::teacher_forcing;
  config.input = s2s::InputKind::one_hot;
  config.source_vocab_size = kVocab;
  config.target_vocab_size = kVocab;
  config.max_target_length = steps + 1;
  s2s::Seq2Seq model(config, 1);
  model.set_optimizer({});
  const s2s::Batch batch = pq_batch(steps);
  model.train_step(batch);  // buffers sized, pages touched: the steady state is what counts
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step(batch).loss);

  const double g = 4, h = kHidden, b = kBatch, t = steps, v = kVocab;
  const double rnn = 3 * 2 * b * g * h * h * t;  // forward + backward, per RNN
  const double head = 3 * 2 * b * h * v * (t + 1);
  state.counters["GFLOP"] = benchmark::Counter((2 * rnn + head) * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["examples"] =
      benchmark::Counter(kBatch, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_seq2seq_train_step)
    ->ArgName("T")
    ->Arg(50)
    ->Arg(2001)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
