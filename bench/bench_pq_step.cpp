// One training step of the pq-1000 workload (`s2s train --task pq --max-dashes 1000`: LSTM 128,
// one-hot, repeat decoder, Adam; 2,001-character queries and answers, all padded
// to those widths as seed 001 does) on the CPU, at local batch sizes 128 down to 1: the compute
// term of the data-parallel model in docs/SCALING.md (a rank with global batch B over N ranks
// computes B/N examples per step). Each iteration is one train_step on a fresh random batch.
//   OPENBLAS_NUM_THREADS=1 build/bench_pq_step
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/sequences.h"
#include "s2s/tasks.h"

namespace {

constexpr int kMaxDashes = 1000;
constexpr int kExamples = 512;  // a sample of the 500,500 questions; every one is 2,001 wide

const s2s::SequenceData& pq_data() {
  static const s2s::SequenceData data = [] {
    s2s::TaskOptions options;
    options.max_dashes = kMaxDashes;
    options.size = kExamples;
    return s2s::sequence_data(s2s::encode_pairs(s2s::generate_task("pq", options)));
  }();
  return data;
}

void BM_pq1000_train_step(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const s2s::SequenceData& data = pq_data();
  s2s::ModelConfig config;  // what `s2s train --task pq` builds
  config.cell = s2s::CellType::lstm;
  config.hidden_size = 128;
  config.mode = s2s::DecoderMode::repeat;
  config.input = s2s::InputKind::one_hot;
  config.source_vocab_size = data.source_vocab.size();
  config.target_vocab_size = data.target_vocab.size();
  config.max_target_length = data.max_target_length() + 1;
  s2s::Seq2Seq model(config, 1, s2s::BackendKind::cpu);
  model.set_optimizer({});
  s2s::Rng rng(7);
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (auto _ : state) {
    state.PauseTiming();
    for (std::size_t i = 0; i < batch; ++i)
      std::swap(order[i], order[i + rng.below(order.size() - i)]);
    const s2s::Batch b = s2s::make_batch(data, order, 0, batch);
    state.ResumeTiming();
    benchmark::DoNotOptimize(model.train_step(b).loss);
  }
  state.counters["parameters"] = static_cast<double>(model.parameter_count());
  state.counters["examples_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch),
                         benchmark::Counter::kIsRate);
}
// Few iterations: a step at batch 128 takes seconds.
BENCHMARK(BM_pq1000_train_step)
    ->Arg(128)->Arg(64)->Arg(32)->Arg(16)->Arg(8)->Arg(4)->Arg(2)->Arg(1)
    ->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
