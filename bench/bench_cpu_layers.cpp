// CPU cost of one recurrent layer, forward + backward over a whole sequence (the training step's
// inner loop), for LSTM, GRU and plain RNN at a few sizes; reports time and GFLOP/s.
//
// FLOPs counted are the GEMMs only (the pointwise cell math is O(T*B*G*H), small next to them):
//   forward:  input product T*B x G*H x In plus recurrent product T*B x G*H x H
//             = 2 * T * B * G * H * (In + H)
//   backward: the same products transposed for dx and dh (one each) plus the weight gradients
//             (one each): about twice the forward.
// So one iteration counts 3 * 2 * T * B * G * H * (In + H).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "s2s/backend.h"
#include "s2s/buffer.h"
#include "s2s/config.h"
#include "s2s/random.h"

namespace {

std::vector<float> random_values(s2s::Rng& rng, std::size_t n, double bound) {
  std::vector<float> values(n);
  for (float& v : values) v = static_cast<float>(rng.uniform(-bound, bound));
  return values;
}

// state.range: 0 = hidden size H (= input size), 1 = batch B, 2 = sequence length T.
void BM_rnn_layer_forward_backward(benchmark::State& state, s2s::CellType cell) {
  const int hidden = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const int steps = static_cast<int>(state.range(2));
  const int gates = s2s::gate_count(cell);
  const std::size_t gh = static_cast<std::size_t>(gates) * hidden;

  s2s::RnnDims dims;
  dims.cell = cell;
  dims.layers = 1;
  dims.input_size = hidden;
  dims.hidden_size = hidden;
  dims.seq_len = steps;
  dims.batch = batch;

  auto ops = s2s::make_cpu_ops<float>();
  s2s::Memory& memory = ops->memory();
  s2s::Rng rng(20240601);
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));  // PyTorch's init range
  const std::size_t sequence = static_cast<std::size_t>(steps) * batch * hidden;

  auto make = [&](std::size_t n, double range) {
    s2s::Buffer<float> buffer(memory, n);
    buffer.upload(random_values(rng, n, range));
    return buffer;
  };
  s2s::Buffer<float> weight_ih = make(gh * hidden, bound);
  s2s::Buffer<float> weight_hh = make(gh * hidden, bound);
  s2s::Buffer<float> bias_ih = make(gh, bound);
  s2s::Buffer<float> bias_hh = make(gh, bound);
  s2s::Buffer<float> x = make(sequence, 1.0);
  s2s::Buffer<float> dy = make(sequence, 1.0);
  s2s::Buffer<float> y(memory, sequence);
  s2s::Buffer<float> dx(memory, sequence);
  s2s::Buffer<float> dweight_ih(memory, gh * hidden);
  s2s::Buffer<float> dweight_hh(memory, gh * hidden);
  s2s::Buffer<float> dbias_ih(memory, gh);
  s2s::Buffer<float> dbias_hh(memory, gh);
  s2s::Buffer<float> workspace(memory, ops->rnn_workspace_size(dims));
  s2s::Buffer<std::int32_t> lengths(memory, batch);
  lengths.upload(std::vector<std::int32_t>(batch, steps));  // full-length sequences

  const s2s::RnnLayerWeights<float> weights{weight_ih.data(), weight_hh.data(), bias_ih.data(),
                                            bias_hh.data()};
  const s2s::RnnLayerGrads<float> grads{dweight_ih.data(), dweight_hh.data(), dbias_ih.data(),
                                        dbias_hh.data()};
  s2s::RnnInput<float> input;
  input.x = x.data();

  for (auto _ : state) {
    ops->rnn_forward(dims, &weights, input, lengths.data(), nullptr, nullptr, y.data(), nullptr,
                     nullptr, workspace.data());
    ops->rnn_backward(dims, &weights, input, lengths.data(), nullptr, nullptr, dy.data(),
                      nullptr, nullptr, dx.data(), nullptr, nullptr, &grads,
                      s2s::GradMode::overwrite, workspace.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }

  const double forward_flops = 2.0 * steps * batch * gates * hidden * (hidden + hidden);
  // Shown as "GFLOP=<n>/s": GFLOP per iteration, as a rate over the measured time.
  state.counters["GFLOP"] = benchmark::Counter(
      3.0 * forward_flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"H", "B", "T"})
      ->ArgsProduct({{128, 512}, {64, 128}, {8, 50}})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();  // BLAS may use several threads: wall time is what counts
}

BENCHMARK_CAPTURE(BM_rnn_layer_forward_backward, lstm, s2s::CellType::lstm)->Apply(sizes);
BENCHMARK_CAPTURE(BM_rnn_layer_forward_backward, gru, s2s::CellType::gru)->Apply(sizes);
BENCHMARK_CAPTURE(BM_rnn_layer_forward_backward, rnn, s2s::CellType::rnn)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
