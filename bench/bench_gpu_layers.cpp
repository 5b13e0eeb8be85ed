// GPU cost of each layer op of the CUDA backend, and of a whole Seq2Seq training step, at the
// shapes (H, B, T) of bench/peers/torch_lstm.py: (128, 128, 8), (128, 128, 2001),
// (512, 64, 50), (1024, 256, 100); attention forward + backward (dot and additive) at a pq-like
// shape (B 32, Ts 201, Tq 101, H 128) and a short one; a beam-search step (log-softmax and
// beam_candidates, B 32, K 5). Built only with CUDA; run it on a GPU (it reports an error and
// exits otherwise).
//
// Timing: CUDA events recorded on the ops' own stream around each iteration (manual time, so
// the host's queueing does not count, and the device's work does); the training step, which
// waits for the device itself, is timed the same way with events on the legacy default stream,
// which orders with the backend's blocking stream. GFLOP/s counts the GEMMs only, as
// bench/bench_cpu_layers.cpp does: a recurrent layer's forward is 2 * T * B * G * H * (In + H)
// and forward + backward about three times that. The rate is computed here from the measured
// device time (Google Benchmark's own rates divide by host CPU time).
//
// JSON output (--benchmark_format=json) names runs "<op>/<cell>/H:<H>/B:<B>/T:<T>/manual_time";
// bench/peers/torch_lstm.py reads the lstm forward and forward_backward entries.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cuda/cuda_context.h"
#include "cuda/cuda_ops.h"
#include "s2s/backend.h"
#include "s2s/batch.h"
#include "s2s/buffer.h"
#include "s2s/config.h"
#include "s2s/optimizer.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace {

struct Shape {
  int hidden, batch, steps;
};
const Shape kShapes[] = {{128, 128, 8}, {128, 128, 2001}, {512, 64, 50}, {1024, 256, 100}};

std::vector<float> random_values(s2s::Rng& rng, std::size_t n, double bound) {
  std::vector<float> values(n);
  for (float& v : values) v = static_cast<float>(rng.uniform(-bound, bound));
  return values;
}

// One CudaOps for the whole run: contexts (and cuBLAS's setup) are not what is measured. Made
// on first use, released by main before the CUDA runtime shuts down.
std::unique_ptr<s2s::cuda::CudaOps>& gpu_holder() {
  static std::unique_ptr<s2s::cuda::CudaOps> ops;
  return ops;
}
s2s::cuda::CudaOps& gpu() {
  if (!gpu_holder()) gpu_holder() = std::make_unique<s2s::cuda::CudaOps>(0);
  return *gpu_holder();
}

s2s::Buffer<float> device_random(s2s::Rng& rng, std::size_t n, double bound) {
  s2s::Buffer<float> buffer(gpu().memory(), n);
  buffer.upload(random_values(rng, n, bound));
  return buffer;
}

// Runs `work` once to warm up (scratch growth, cuBLAS heuristics), then times each iteration
// with events on `stream`; reports GFLOP/s from the device time when flops > 0.
void time_on_stream(benchmark::State& state, cudaStream_t stream, double flops,
                    const std::function<void()>& work) {
  work();
  s2s::cuda::CudaEvent start, stop;
  double seconds = 0.0;
  for (auto _ : state) {
    start.record(stream);
    work();
    stop.record(stream);
    stop.synchronize();
    const double iteration = s2s::cuda::CudaEvent::elapsed_ms(start, stop) * 1e-3;
    state.SetIterationTime(iteration);
    seconds += iteration;
  }
  if (flops > 0 && seconds > 0)
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * static_cast<double>(state.iterations()) / seconds * 1e-9);
}

// One recurrent layer, In = H, full-length sequences, as in the peer's torch.nn.LSTM(H, H).
void BM_rnn(benchmark::State& state, s2s::CellType cell, Shape shape, bool backward) {
  const int H = shape.hidden, B = shape.batch, T = shape.steps;
  const std::size_t gh = static_cast<std::size_t>(s2s::gate_count(cell)) * H;
  const std::size_t sequence = static_cast<std::size_t>(T) * B * H;
  const s2s::RnnDims dims{cell, 1, H, H, T, B};
  s2s::Rng rng(20240601);
  const double bound = 1.0 / std::sqrt(static_cast<double>(H));
  s2s::Memory& memory = gpu().memory();
  s2s::Buffer<float> weight_ih = device_random(rng, gh * H, bound);
  s2s::Buffer<float> weight_hh = device_random(rng, gh * H, bound);
  s2s::Buffer<float> bias_ih = device_random(rng, gh, bound);
  s2s::Buffer<float> bias_hh = device_random(rng, gh, bound);
  s2s::Buffer<float> x = device_random(rng, sequence, 1.0);
  s2s::Buffer<float> dy = device_random(rng, sequence, 1.0);
  s2s::Buffer<float> y(memory, sequence), dx(memory, sequence);
  s2s::Buffer<float> dweight_ih(memory, gh * H), dweight_hh(memory, gh * H);
  s2s::Buffer<float> dbias_ih(memory, gh), dbias_hh(memory, gh);
  s2s::Buffer<float> workspace(memory, gpu().rnn_workspace_size(dims));
  s2s::Buffer<std::int32_t> lengths(memory, B);
  lengths.upload(std::vector<std::int32_t>(B, T));
  const s2s::RnnLayerWeights<float> weights{weight_ih.data(), weight_hh.data(), bias_ih.data(),
                                            bias_hh.data()};
  const s2s::RnnLayerGrads<float> grads{dweight_ih.data(), dweight_hh.data(), dbias_ih.data(),
                                        dbias_hh.data()};
  s2s::RnnInput<float> input;
  input.x = x.data();
  const double forward_flops = 2.0 * T * B * static_cast<double>(gh) * (H + H);
  time_on_stream(state, gpu().context().stream(), backward ? 3 * forward_flops : forward_flops,
                 [&] {
                   gpu().rnn_forward(dims, &weights, input, lengths.data(), nullptr, nullptr,
                                     y.data(), nullptr, nullptr, workspace.data());
                   if (backward)
                     gpu().rnn_backward(dims, &weights, input, lengths.data(), nullptr, nullptr,
                                        dy.data(), nullptr, nullptr, dx.data(), nullptr, nullptr,
                                        &grads, s2s::GradMode::overwrite, workspace.data());
                 });
}

// The output head: linear over all T*B rows (H -> H) forward and backward.
void BM_linear(benchmark::State& state, Shape shape) {
  const int H = shape.hidden, rows = shape.batch * shape.steps;
  s2s::Rng rng(7);
  s2s::Buffer<float> x = device_random(rng, static_cast<std::size_t>(rows) * H, 1.0);
  s2s::Buffer<float> w = device_random(rng, static_cast<std::size_t>(H) * H, 0.1);
  s2s::Buffer<float> b = device_random(rng, H, 0.1);
  s2s::Buffer<float> dy = device_random(rng, static_cast<std::size_t>(rows) * H, 1.0);
  s2s::Memory& memory = gpu().memory();
  s2s::Buffer<float> y(memory, static_cast<std::size_t>(rows) * H), dx(memory, y.size());
  s2s::Buffer<float> dw(memory, w.size()), db(memory, H);
  const double flops = 3 * 2.0 * rows * H * static_cast<double>(H);
  time_on_stream(state, gpu().context().stream(), flops, [&] {
    gpu().linear_forward(x.data(), w.data(), b.data(), rows, H, H, y.data());
    gpu().linear_backward(x.data(), w.data(), dy.data(), rows, H, H, dx.data(), dw.data(),
                          db.data(), s2s::GradMode::overwrite);
  });
}

// Softmax cross-entropy with its gradient over [T, B, V = H].
void BM_softmax_cross_entropy(benchmark::State& state, Shape shape) {
  const int V = shape.hidden, B = shape.batch, T = shape.steps;
  const std::size_t rows = static_cast<std::size_t>(T) * B;
  s2s::Rng rng(11);
  s2s::Buffer<float> logits = device_random(rng, rows * V, 3.0);
  s2s::Memory& memory = gpu().memory();
  s2s::Buffer<float> dlogits(memory, rows * V), loss(memory, 1);
  std::vector<std::int32_t> host_targets(rows);
  for (auto& t : host_targets) t = static_cast<std::int32_t>(rng.below(V));
  s2s::Buffer<std::int32_t> targets(memory, rows), lengths(memory, B);
  targets.upload(host_targets);
  lengths.upload(std::vector<std::int32_t>(B, T));
  time_on_stream(state, gpu().context().stream(), 0, [&] {
    gpu().softmax_cross_entropy(logits.data(), targets.data(), lengths.data(), T, B, V,
                                loss.data(), dlogits.data());
  });
}

// Embedding backward (sort + fixed-order sums) over T*B positions of a vocabulary of H tokens,
// embedding width H: many repeats, the case that matters for determinism.
void BM_embedding_backward(benchmark::State& state, Shape shape) {
  const int E = shape.hidden, V = shape.hidden, n = shape.batch * shape.steps;
  s2s::Rng rng(13);
  s2s::Buffer<float> dout = device_random(rng, static_cast<std::size_t>(n) * E, 1.0);
  std::vector<std::int32_t> host_tokens(n);
  for (auto& t : host_tokens) t = static_cast<std::int32_t>(rng.below(V));
  s2s::Buffer<std::int32_t> tokens(gpu().memory(), n);
  tokens.upload(host_tokens);
  s2s::Buffer<float> dtable(gpu().memory(), static_cast<std::size_t>(V) * E);
  time_on_stream(state, gpu().context().stream(), 0, [&] {
    gpu().embedding_backward(tokens.data(), dout.data(), n, V, E, dtable.data(),
                             s2s::GradMode::overwrite);
  });
}

// Global norm + Adam over the flat parameters of a one-layer LSTM encoder-decoder of size H.
void BM_norm_and_adam(benchmark::State& state, Shape shape) {
  const std::size_t H = static_cast<std::size_t>(shape.hidden);
  const std::size_t n = 2 * (4 * H * (2 * H) + 8 * H);
  s2s::Rng rng(17);
  s2s::Buffer<float> params = device_random(rng, n, 0.1), grads = device_random(rng, n, 0.1);
  s2s::Buffer<float> m(gpu().memory(), n), v(gpu().memory(), n), norm(gpu().memory(), 1);
  m.zero();
  v.zero();
  std::int64_t step = 0;
  time_on_stream(state, gpu().context().stream(), 0, [&] {
    gpu().global_norm(grads.data(), n, norm.data());
    gpu().clip_by_norm(grads.data(), n, norm.data(), 1e30f);
    gpu().adam_step(params.data(), grads.data(), m.data(), v.data(), n, 1e-3f, 0.9f, 0.999f,
                    1e-7f, ++step);
  });
}

// A whole training step of Seq2Seq on the CUDA backend: one-hot LSTM encoder over T steps,
// teacher-forced decoder over T steps, vocabularies of 32, Adam. The model waits for the device
// inside train_step (loss and norm downloads), so host time is part of what is measured.
void BM_train_step(benchmark::State& state, Shape shape) {
  s2s::ModelConfig config;
  config.cell = s2s::CellType::lstm;
  config.hidden_size = shape.hidden;
  config.layers = 1;
  config.input = s2s::InputKind::one_hot;
  config.mode = s2s::DecoderMode::teacher_forcing;
  config.source_vocab_size = 32;
  config.target_vocab_size = 32;
  config.max_target_length = shape.steps;
  s2s::Seq2Seq model(config, 1, s2s::BackendKind::cuda);
  model.set_optimizer({});
  s2s::Rng rng(19);
  std::vector<std::vector<std::int32_t>> sources(shape.batch), targets(shape.batch);
  for (auto& s : sources) {
    s.resize(shape.steps);
    for (auto& id : s) id = s2s::Vocabulary::special_count + static_cast<int>(rng.below(29));
  }
  for (auto& t : targets) {
    t.resize(shape.steps - 1);  // plus the end token: T steps
    for (auto& id : t) id = s2s::Vocabulary::special_count + static_cast<int>(rng.below(29));
  }
  const s2s::Batch batch = s2s::make_token_batch(sources, targets);
  const double H = shape.hidden, rows = static_cast<double>(shape.batch) * shape.steps;
  // Encoder and decoder LSTM layers (In = vocabulary, a gather: only the recurrent GEMMs count)
  // plus the head, each forward + backward.
  const double flops = 2 * 3 * (2.0 * rows * 4 * H * H) + 3 * 2.0 * rows * H * 32;
  time_on_stream(state, nullptr, flops, [&] { model.train_step(batch); });
}

// ---- attention and decoding (issue 13) --------------------------------------------------------

// Attention over a batch: B sequences, Tq decoder steps, Ts source positions, width D (= H).
struct AttentionShape {
  int batch, query_len, source_len, width;
};
// pq-like: 32 sequences of 201 source and 101 target positions at H = 128; and a short one.
const AttentionShape kAttentionShapes[] = {{32, 101, 201, 128}, {64, 20, 20, 256}};

std::string attention_shape_name(const AttentionShape& s) {
  return "/B:" + std::to_string(s.batch) + "/Tq:" + std::to_string(s.query_len) +
         "/Ts:" + std::to_string(s.source_len) + "/D:" + std::to_string(s.width);
}

// One attention layer's core, forward and backward, as the model runs it: scores (dot: batched
// GEMM; additive: the tanh kernel on already projected query and keys), masked softmax over
// ragged source lengths, context (batched GEMM), then the three backwards (overwrite).
// GFLOP/s counts the batched GEMMs only (2 forward, 4 backward, each 2 * B * Tq * Ts * D).
void BM_attention(benchmark::State& state, bool additive, AttentionShape shape) {
  const int B = shape.batch, Tq = shape.query_len, Ts = shape.source_len, D = shape.width;
  const std::size_t query = static_cast<std::size_t>(Tq) * B * D;
  const std::size_t source = static_cast<std::size_t>(Ts) * B * D;
  const std::size_t scores = static_cast<std::size_t>(B) * Tq * Ts;
  s2s::Rng rng(17);
  s2s::Memory& memory = gpu().memory();
  s2s::Buffer<float> q = device_random(rng, query, 1.0), m = device_random(rng, source, 1.0);
  s2s::Buffer<float> v = device_random(rng, D, 0.1), dcontext = device_random(rng, query, 1.0);
  s2s::Buffer<float> e(memory, scores), a(memory, scores), context(memory, query);
  s2s::Buffer<float> da(memory, scores), de(memory, scores), dq(memory, query);
  s2s::Buffer<float> dm(memory, source), dv(memory, D);
  std::vector<std::int32_t> host_lengths(B);
  for (auto& l : host_lengths) l = 1 + static_cast<std::int32_t>(rng.below(Ts));
  host_lengths[0] = Ts;
  s2s::Buffer<std::int32_t> lengths(memory, B);
  lengths.upload(host_lengths);
  const double gemm_flops = 2.0 * B * Tq * static_cast<double>(Ts) * D;
  const auto over = s2s::GradMode::overwrite;
  time_on_stream(state, gpu().context().stream(), (additive ? 3 : 6) * gemm_flops, [&] {
    if (additive)
      gpu().additive_scores(q.data(), m.data(), v.data(), Tq, Ts, B, D, e.data());
    else
      gpu().attention_scores(q.data(), m.data(), Tq, Ts, B, D, e.data());
    gpu().masked_softmax(e.data(), lengths.data(), Tq, Ts, B, a.data());
    gpu().attention_context(a.data(), m.data(), Tq, Ts, B, D, context.data());
    gpu().attention_context_backward(a.data(), m.data(), dcontext.data(), Tq, Ts, B, D,
                                     da.data(), dm.data(), over);
    gpu().masked_softmax_backward(a.data(), da.data(), lengths.data(), Tq, Ts, B, de.data());
    if (additive)
      gpu().additive_scores_backward(q.data(), m.data(), v.data(), de.data(), Tq, Ts, B, D,
                                     dq.data(), dm.data(), dv.data(), s2s::GradMode::accumulate);
    else
      gpu().attention_scores_backward(q.data(), m.data(), de.data(), Tq, Ts, B, D, dq.data(),
                                      dm.data(), s2s::GradMode::accumulate);
  });
}

// One beam-search step's device work over B sources x K beams: log-softmax of the logits
// [B*K, V], then the 2K best candidates per source.
void BM_beam_step(benchmark::State& state, int batch, int beams, int vocab) {
  const std::size_t rows = static_cast<std::size_t>(batch) * beams;
  s2s::Rng rng(19);
  s2s::Memory& memory = gpu().memory();
  s2s::Buffer<float> logits = device_random(rng, rows * vocab, 5.0);
  s2s::Buffer<float> beam_scores = device_random(rng, rows, 3.0);
  s2s::Buffer<float> log_probs(memory, rows * vocab), scores(memory, batch * 2 * beams);
  s2s::Buffer<std::int32_t> ids(memory, batch * 2 * beams);
  time_on_stream(state, gpu().context().stream(), 0, [&] {
    gpu().log_softmax(logits.data(), static_cast<int>(rows), vocab, log_probs.data());
    gpu().beam_candidates(log_probs.data(), beam_scores.data(), batch, beams, vocab, 2 * beams,
                          scores.data(), ids.data());
  });
}

std::string shape_name(const Shape& s) {
  return "/H:" + std::to_string(s.hidden) + "/B:" + std::to_string(s.batch) +
         "/T:" + std::to_string(s.steps);
}

// Registers fn(state, args...) under name, turning an s2s::Error (no memory for a shape, a
// failing kernel) into a skipped run that says why, so the other runs still report.
template <typename... Args>
void add(const std::string& name, void (*fn)(benchmark::State&, Args...), Args... args) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& state) {
                                 try {
                                   fn(state, args...);
                                 } catch (const std::exception& error) {
                                   state.SkipWithError(error.what());
                                 }
                               })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

void register_all() {
  const std::pair<const char*, s2s::CellType> cells[] = {
      {"lstm", s2s::CellType::lstm}, {"gru", s2s::CellType::gru}, {"rnn", s2s::CellType::rnn}};
  for (const Shape& shape : kShapes) {
    for (const auto& [name, cell] : cells) {
      const std::string suffix = std::string("/") + name + shape_name(shape);
      add("gpu_rnn_forward" + suffix, BM_rnn, cell, shape, false);
      add("gpu_rnn_forward_backward" + suffix, BM_rnn, cell, shape, true);
    }
    const std::string suffix = shape_name(shape);
    add("gpu_linear_forward_backward" + suffix, BM_linear, shape);
    add("gpu_softmax_cross_entropy" + suffix, BM_softmax_cross_entropy, shape);
    add("gpu_embedding_backward" + suffix, BM_embedding_backward, shape);
    add("gpu_norm_clip_adam" + suffix, BM_norm_and_adam, shape);
    add("gpu_train_step/lstm" + suffix, BM_train_step, shape);
  }
  for (const AttentionShape& shape : kAttentionShapes) {
    add("gpu_attention_forward_backward/dot" + attention_shape_name(shape), BM_attention, false,
        shape);
    add("gpu_attention_forward_backward/additive" + attention_shape_name(shape), BM_attention,
        true, shape);
  }
  // pq's vocabulary (a dozen tokens) and a translation-sized one.
  for (const int vocab : {13, 32000})
    add("gpu_beam_step/B:32/K:5/V:" + std::to_string(vocab), BM_beam_step, 32, 5, vocab);
}

}  // namespace

int main(int argc, char** argv) {
  if (s2s::cuda_device_count() == 0) {
    std::fprintf(stderr, "bench_gpu_layers: no CUDA device usable here; nothing to measure\n");
    return 1;
  }
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  gpu_holder().reset();
  return 0;
}
