// CUDA backend against the CPU reference (ctest label `gpu`): every op of include/s2s/backend.h
// on fresh random inputs at several shapes, odd ones included, forward values and every
// gradient, in both GradModes (the attention, layout and decoding ops in
// tests/test_cuda_parity_attention.cpp); the recurrent stack for each cell at hidden sizes 1 to
// 257, batches 1 to 64, lengths 1 to 100, one and three layers, dense and one-hot input; the whole
// Seq2Seq model (attention, bidirectional encoders and dropout included) trained on both
// backends; bit-identical repeated GPU runs; allocation failure.
// Skipped (never passed) without a CUDA build or a device.
//
// The reference is the CPU backend in float64 (host/cpu/*_cpu.cpp called directly), so a
// tolerance measures the GPU's own float32 error; exact ops (gathers, argmax, clipping) are
// compared with the CPU float32 reference for equality. Seeds come from std::random_device and
// are printed with every failure; S2S_TEST_SEED=<n> repeats a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cpu/ops_cpu.h"
#include "cuda_parity_support.h"
#include "s2s/backend.h"
#include "s2s/batch.h"
#include "s2s/buffer.h"
#include "s2s/config.h"
#include "s2s/error.h"
#include "s2s/optimizer.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace s2s {
namespace {

// The CPU's own float32 results use under 1% of each tolerance below against the same float64
// reference (measured by running this file with the CPU float backend in the GPU's place), so
// these leave a wide margin for the GPU's other summation orders and math library while still
// catching any wrong index, mask or formula (those give O(1) errors).
//
// Recurrent outputs and final states: O(1) values through up to 100 steps and 3 layers.
constexpr Tolerance kRnnForwardTol{5e-6, 5e-5};
// Recurrent gradients: sums over up to T*B = 6400 rows, back through up to 100 steps.
constexpr Tolerance kRnnBackwardTol{2e-5, 2e-4};
// One GEMM (linear op) over up to 640 rows and 257 columns.
constexpr Tolerance kGemmTol{1e-5, 1e-4};
// TF32 GEMMs (10-bit mantissa inputs) over K = 1024 products of U(-1, 1) values.
constexpr Tolerance kTf32GemmTol{5e-2, 1e-2};
// Sums taken in double on the GPU too (embedding and repeat backward, bias sums, norm): only the
// final rounding to float differs.
constexpr Tolerance kReductionTol{1e-6, 1e-6};
// Losses (exp in float, sums in double) and their gradients.
constexpr Tolerance kLossTol{1e-6, 1e-5};
// Optimizer updates: the same float operations as the CPU (no fused multiply-add), so the
// results are expected to be equal; this only allows for a host compiler that fuses.
constexpr Tolerance kOptimizerTol{0.0, 1e-6};
// The whole model after a few Adam steps: parameters, losses, gradient norms, feature outputs.
// (Adam's update m / (sqrt(v) + eps) amplifies gradient differences by up to about
// lr / (30 eps) ~ 300 near g = 0; float32-vs-float64 training uses ~2% of this.)
constexpr Tolerance kModelTol{1e-5, 1e-4};


// ---- recurrent stack ---------------------------------------------------------------------------

struct RnnCase {
  CellType cell;
  int layers, hidden, batch, steps;
  bool one_hot;
  bool variable_lengths;
  bool initial_state;      // h0 (and c0) given, else null
  bool state_gradients;    // dhn (and dcn) given, else null
  bool final_state;        // hn (and cn) wanted, else null
  bool want_input_grads;   // dx (dense only) and dh0/dc0 wanted
  GradMode mode;
};

std::string describe(const RnnCase& c) {
  std::ostringstream s;
  s << to_string(c.cell) << " L" << c.layers << " H" << c.hidden << " B" << c.batch << " T"
    << c.steps << (c.one_hot ? " one-hot" : " dense")
    << (c.variable_lengths ? " variable lengths" : " full lengths")
    << (c.initial_state ? " h0" : "") << (c.state_gradients ? " dhn" : "")
    << (c.final_state ? " hn" : "") << (c.want_input_grads ? " dx/dh0" : "")
    << (c.mode == GradMode::accumulate ? " accumulate" : " overwrite");
  return s.str();
}

constexpr int kDenseInputSize = 7;
constexpr int kOneHotVocabulary = 23;

// Every host array of one problem, in double (the GPU gets float copies); empty = null.
struct RnnProblem {
  RnnDims dims;
  std::vector<std::vector<double>> weight_ih, weight_hh, bias_ih, bias_hh;
  std::vector<double> x;  // [T, B, In], or [B, In] when x_repeated
  bool x_repeated = false;
  std::vector<std::int32_t> tokens, lengths;
  std::vector<double> h0, c0, dy, dhn, dcn;
  // Starting values of the parameter gradients (accumulate mode adds to them).
  std::vector<std::vector<double>> dweight_ih, dweight_hh, dbias_ih, dbias_hh;
  bool final_state = true, want_input_grads = true;
  GradMode mode = GradMode::overwrite;
};

struct RnnResult {
  std::vector<double> y, hn, cn, dx, dh0, dc0;
  std::vector<std::vector<double>> dweight_ih, dweight_hh, dbias_ih, dbias_hh;
};

RnnProblem make_rnn_problem(const RnnCase& c, Rng& rng) {
  RnnProblem p;
  p.dims = RnnDims{c.cell, c.layers, c.one_hot ? kOneHotVocabulary : kDenseInputSize, c.hidden,
                   c.steps, c.batch};
  const bool lstm = c.cell == CellType::lstm;
  const std::size_t G = static_cast<std::size_t>(gate_count(c.cell)) * c.hidden;
  const std::size_t state = static_cast<std::size_t>(c.layers) * c.batch * c.hidden;
  const std::size_t rows = static_cast<std::size_t>(c.steps) * c.batch;
  // PyTorch's initialisation range: the recurrence stays contractive at every size.
  const double bound = 1.0 / std::sqrt(static_cast<double>(c.hidden));
  for (int k = 0; k < c.layers; ++k) {
    const std::size_t in = k == 0 ? p.dims.input_size : c.hidden;
    p.weight_ih.push_back(uniform(G * in, rng, -bound, bound));
    p.weight_hh.push_back(uniform(G * c.hidden, rng, -bound, bound));
    p.bias_ih.push_back(uniform(G, rng, -bound, bound));
    p.bias_hh.push_back(uniform(G, rng, -bound, bound));
    const bool acc = c.mode == GradMode::accumulate;
    p.dweight_ih.push_back(acc ? uniform(G * in, rng) : std::vector<double>(G * in, 0.0));
    p.dweight_hh.push_back(acc ? uniform(G * c.hidden, rng)
                               : std::vector<double>(G * c.hidden, 0.0));
    p.dbias_ih.push_back(acc ? uniform(G, rng) : std::vector<double>(G, 0.0));
    p.dbias_hh.push_back(acc ? uniform(G, rng) : std::vector<double>(G, 0.0));
  }
  p.lengths = c.variable_lengths ? random_lengths(c.batch, c.steps, rng)
                                 : std::vector<std::int32_t>(c.batch, c.steps);
  if (c.one_hot) {
    p.tokens.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      const int t = static_cast<int>(i / c.batch), b = static_cast<int>(i % c.batch);
      // Padded positions hold an id outside the vocabulary: the ops must not read them.
      p.tokens[i] = t < p.lengths[b] ? static_cast<std::int32_t>(rng.below(kOneHotVocabulary))
                                     : -1;
    }
  } else {
    // Padded rows are finite but not zero: they must not leak into any result.
    p.x = uniform(rows * kDenseInputSize, rng);
  }
  if (c.initial_state) {
    p.h0 = uniform(state, rng, -0.5, 0.5);
    if (lstm) p.c0 = uniform(state, rng, -0.5, 0.5);
  }
  // dy is nonzero at padded steps too: they must receive no gradient.
  p.dy = uniform(rows * c.hidden, rng);
  if (c.state_gradients) {
    p.dhn = uniform(state, rng);
    if (lstm) p.dcn = uniform(state, rng);
  }
  p.final_state = c.final_state;
  p.want_input_grads = c.want_input_grads;
  p.mode = c.mode;
  return p;
}

template <typename T>
const T* or_null(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}
template <typename T>
T* or_null(std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

RnnResult run_rnn_cpu_double(const RnnProblem& p) {
  const RnnDims& d = p.dims;
  const bool lstm = d.cell == CellType::lstm;
  const std::size_t state = static_cast<std::size_t>(d.layers) * d.batch * d.hidden_size;
  const std::size_t rows = static_cast<std::size_t>(d.seq_len) * d.batch;
  RnnResult r;
  r.y.resize(rows * d.hidden_size);
  if (p.final_state) {
    r.hn.resize(state);
    if (lstm) r.cn.resize(state);
  }
  if (p.want_input_grads) {
    if (p.tokens.empty())
      r.dx.resize((p.x_repeated ? static_cast<std::size_t>(d.batch) : rows) * d.input_size);
    r.dh0.resize(state);
    if (lstm) r.dc0.resize(state);
  }
  r.dweight_ih = p.dweight_ih;
  r.dweight_hh = p.dweight_hh;
  r.dbias_ih = p.dbias_ih;
  r.dbias_hh = p.dbias_hh;
  std::vector<RnnLayerWeights<double>> w(d.layers);
  std::vector<RnnLayerGrads<double>> g(d.layers);
  for (int k = 0; k < d.layers; ++k) {
    w[k] = {p.weight_ih[k].data(), p.weight_hh[k].data(), p.bias_ih[k].data(),
            p.bias_hh[k].data()};
    g[k] = {r.dweight_ih[k].data(), r.dweight_hh[k].data(), r.dbias_ih[k].data(),
            r.dbias_hh[k].data()};
  }
  RnnInput<double> input;
  input.x = or_null(p.x);
  input.tokens = or_null(p.tokens);
  input.x_repeated = p.x_repeated;
  std::vector<double> workspace(cpu::rnn_workspace_size_cpu(d));
  cpu::rnn_forward_cpu<double>(d, w.data(), input, p.lengths.data(), or_null(p.h0), or_null(p.c0),
                               r.y.data(), or_null(r.hn), or_null(r.cn), workspace.data());
  cpu::rnn_backward_cpu<double>(d, w.data(), input, p.lengths.data(), or_null(p.h0),
                                or_null(p.c0), p.dy.data(), or_null(p.dhn), or_null(p.dcn),
                                or_null(r.dx), or_null(r.dh0), or_null(r.dc0), g.data(), p.mode,
                                workspace.data());
  return r;
}

RnnResult run_rnn(Ops<float>& ops, const RnnProblem& p) {
  Memory& m = ops.memory();
  const RnnDims& d = p.dims;
  const bool lstm = d.cell == CellType::lstm;
  const std::size_t state = static_cast<std::size_t>(d.layers) * d.batch * d.hidden_size;
  const std::size_t rows = static_cast<std::size_t>(d.seq_len) * d.batch;
  auto up = [&](const std::vector<double>& v) {
    Buffer<float> b(m, v.size());
    b.upload(to_float(v));
    return b;
  };
  auto sized = [&](std::size_t n) { return Buffer<float>(m, n); };
  std::vector<Buffer<float>> wih, whh, bih, bhh, dwih, dwhh, dbih, dbhh;
  for (int k = 0; k < d.layers; ++k) {
    wih.push_back(up(p.weight_ih[k]));
    whh.push_back(up(p.weight_hh[k]));
    bih.push_back(up(p.bias_ih[k]));
    bhh.push_back(up(p.bias_hh[k]));
    dwih.push_back(up(p.dweight_ih[k]));
    dwhh.push_back(up(p.dweight_hh[k]));
    dbih.push_back(up(p.dbias_ih[k]));
    dbhh.push_back(up(p.dbias_hh[k]));
  }
  Buffer<float> x = up(p.x), h0 = up(p.h0), c0 = up(p.c0), dy = up(p.dy), dhn = up(p.dhn),
                dcn = up(p.dcn);
  Buffer<std::int32_t> tokens(m, p.tokens.size()), lengths(m, p.lengths.size());
  tokens.upload(p.tokens);
  lengths.upload(p.lengths);
  Buffer<float> y = sized(rows * d.hidden_size);
  Buffer<float> hn = sized(p.final_state ? state : 0);
  Buffer<float> cn = sized(p.final_state && lstm ? state : 0);
  const std::size_t input_rows = p.x_repeated ? static_cast<std::size_t>(d.batch) : rows;
  Buffer<float> dx =
      sized(p.want_input_grads && p.tokens.empty() ? input_rows * d.input_size : 0);
  Buffer<float> dh0 = sized(p.want_input_grads ? state : 0);
  Buffer<float> dc0 = sized(p.want_input_grads && lstm ? state : 0);
  // Filled with NaN, so that reading anything rnn_forward did not write shows up in the results.
  Buffer<float> workspace = sized(ops.rnn_workspace_size(d));
  workspace.upload(std::vector<float>(workspace.size(), std::numeric_limits<float>::quiet_NaN()));

  std::vector<RnnLayerWeights<float>> w(d.layers);
  std::vector<RnnLayerGrads<float>> g(d.layers);
  for (int k = 0; k < d.layers; ++k) {
    w[k] = {wih[k].data(), whh[k].data(), bih[k].data(), bhh[k].data()};
    g[k] = {dwih[k].data(), dwhh[k].data(), dbih[k].data(), dbhh[k].data()};
  }
  RnnInput<float> input;
  if (p.tokens.empty()) input.x = x.data();
  else input.tokens = tokens.data();
  input.x_repeated = p.x_repeated;
  auto ptr = [](Buffer<float>& b) { return b.empty() ? nullptr : b.data(); };
  ops.rnn_forward(d, w.data(), input, lengths.data(), ptr(h0), ptr(c0), y.data(), ptr(hn),
                  ptr(cn), workspace.data());
  ops.rnn_backward(d, w.data(), input, lengths.data(), ptr(h0), ptr(c0), dy.data(), ptr(dhn),
                   ptr(dcn), ptr(dx), ptr(dh0), ptr(dc0), g.data(), p.mode, workspace.data());

  RnnResult r;
  r.y = to_double(y.download());
  r.hn = to_double(hn.download());
  r.cn = to_double(cn.download());
  r.dx = to_double(dx.download());
  r.dh0 = to_double(dh0.download());
  r.dc0 = to_double(dc0.download());
  for (int k = 0; k < d.layers; ++k) {
    r.dweight_ih.push_back(to_double(dwih[k].download()));
    r.dweight_hh.push_back(to_double(dwhh[k].download()));
    r.dbias_ih.push_back(to_double(dbih[k].download()));
    r.dbias_hh.push_back(to_double(dbhh[k].download()));
  }
  return r;
}

void expect_rnn_close(const RnnResult& got, const RnnResult& ref, int layers) {
  expect_close(got.y, ref.y, kRnnForwardTol, "y");
  expect_close(got.hn, ref.hn, kRnnForwardTol, "hn");
  expect_close(got.cn, ref.cn, kRnnForwardTol, "cn");
  expect_close(got.dx, ref.dx, kRnnBackwardTol, "dx");
  expect_close(got.dh0, ref.dh0, kRnnBackwardTol, "dh0");
  expect_close(got.dc0, ref.dc0, kRnnBackwardTol, "dc0");
  for (int k = 0; k < layers; ++k) {
    const std::string l = std::to_string(k);
    expect_close(got.dweight_ih[k], ref.dweight_ih[k], kRnnBackwardTol, "dweight_ih_l" + l);
    expect_close(got.dweight_hh[k], ref.dweight_hh[k], kRnnBackwardTol, "dweight_hh_l" + l);
    expect_close(got.dbias_ih[k], ref.dbias_ih[k], kRnnBackwardTol, "dbias_ih_l" + l);
    expect_close(got.dbias_hh[k], ref.dbias_hh[k], kRnnBackwardTol, "dbias_hh_l" + l);
  }
}

constexpr GradMode kOver = GradMode::overwrite;
constexpr GradMode kAcc = GradMode::accumulate;
constexpr CellType kLstm = CellType::lstm;
constexpr CellType kGru = CellType::gru;
constexpr CellType kRnn = CellType::rnn;

// A cross product thinned by hand: every cell meets every H, B, T, depth, input kind and mode,
// and every nullable argument both given and left out, without all combinations. The largest
// cases (H 257, B 64, T 100) keep the double reference to about a second each.
// {cell, layers, H, B, T, one_hot, variable, h0, dhn, hn, dx, mode}
const RnnCase kRnnCases[] = {
    {kLstm, 1, 1, 1, 1, false, false, false, false, true, true, kOver},
    {kLstm, 1, 3, 5, 17, false, true, true, true, true, true, kAcc},
    {kLstm, 3, 129, 64, 17, true, true, true, false, true, true, kOver},
    {kLstm, 1, 257, 64, 100, false, true, true, true, true, true, kOver},
    {kLstm, 3, 257, 5, 100, false, true, false, true, false, false, kAcc},
    {kLstm, 1, 3, 1, 100, true, false, false, true, true, true, kAcc},
    {kLstm, 3, 1, 64, 1, false, true, true, true, true, true, kOver},
    {kGru, 1, 1, 5, 17, false, true, true, true, true, true, kOver},
    {kGru, 3, 129, 64, 100, true, true, false, true, true, true, kAcc},
    {kGru, 1, 257, 64, 17, false, true, true, false, true, true, kOver},
    {kGru, 3, 3, 5, 1, false, false, true, true, false, true, kAcc},
    {kGru, 1, 129, 1, 100, true, false, true, true, true, false, kOver},
    {kGru, 3, 257, 5, 17, false, true, true, true, true, true, kOver},
    {kRnn, 1, 1, 64, 100, false, true, true, true, true, true, kOver},
    {kRnn, 3, 129, 5, 17, true, true, true, true, true, true, kAcc},
    {kRnn, 1, 257, 1, 100, false, false, false, false, true, true, kOver},
    {kRnn, 3, 3, 64, 17, false, true, true, true, false, true, kAcc},
    {kRnn, 3, 257, 64, 1, true, true, false, true, true, true, kOver},
};

TEST_F(CudaParity, RnnStackMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const RnnCase& c : kRnnCases) {
    SCOPED_TRACE(describe(c));
    const RnnProblem problem = make_rnn_problem(c, rng);
    const RnnResult reference = run_rnn_cpu_double(problem);
    const RnnResult got = run_rnn(*gpu_, problem);
    expect_rnn_close(got, reference, c.layers);
  }
}

// The repeat decoder's input (RnnInput::x_repeated: x [B, In] at every step) is projected once
// on CUDA as on the CPU: every cell, depth, padding and mode against the double reference.
TEST_F(CudaParity, RnnRepeatedInputMatchesTheCpuReference) {
  EXPECT_TRUE(gpu_->supports_repeated_input());
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  // {cell, layers, H, B, T, one_hot, variable, h0, dhn, hn, dx, mode}
  const RnnCase cases[] = {
      {kLstm, 1, 33, 5, 9, false, true, false, false, true, true, kOver},
      {kLstm, 2, 129, 64, 17, false, true, true, true, true, true, kAcc},
      {kGru, 1, 1, 1, 1, false, false, false, false, true, true, kOver},
      {kGru, 3, 65, 7, 30, false, true, true, true, true, true, kAcc},
      {kRnn, 2, 257, 3, 100, false, true, false, true, true, true, kOver},
  };
  for (const RnnCase& c : cases) {
    SCOPED_TRACE(describe(c));
    RnnProblem problem = make_rnn_problem(c, rng);
    problem.x_repeated = true;
    problem.x.resize(static_cast<std::size_t>(c.batch) * problem.dims.input_size);
    expect_rnn_close(run_rnn(*gpu_, problem), run_rnn_cpu_double(problem), c.layers);
  }
}

// The backend's workspace mirrors the CPU layout, so a model sizes it the same on both.
TEST_F(CudaParity, RnnWorkspaceSizeMatchesTheCpuLayout) {
  for (CellType cell : {kLstm, kGru, kRnn})
    for (int layers : {1, 3}) {
      const RnnDims dims{cell, layers, 11, 129, 17, 5};
      EXPECT_EQ(gpu_->rnn_workspace_size(dims), cpu::rnn_workspace_size_cpu(dims))
          << to_string(cell) << " L" << layers;
    }
}

// The model's decoder pattern (hn, cn and dhn null: only the top output's gradient), twice in a
// row on one backend, so the second call meets scratch and device memory the first one left.
TEST_F(CudaParity, RnnBackToBackCallsWithOutputGradientOnly) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const RnnCase c{kLstm, 2, 33, 7, 9, false, true, true, false, false, true, kOver};
  const RnnProblem first = make_rnn_problem(c, rng);
  const RnnProblem second = make_rnn_problem(c, rng);
  expect_rnn_close(run_rnn(*gpu_, first), run_rnn_cpu_double(first), c.layers);
  expect_rnn_close(run_rnn(*gpu_, second), run_rnn_cpu_double(second), c.layers);
}

// ---- embedding --------------------------------------------------------------------------------

TEST_F(CudaParity, EmbeddingMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int n, vocab, width;
  };
  for (const Shape s : {Shape{1, 1, 1}, Shape{50, 7, 33}, Shape{5000, 3, 300},
                        Shape{6400, 1000, 64}, Shape{17, 100000, 5}}) {
    for (GradMode mode : {kOver, kAcc}) {
      SCOPED_TRACE("n " + std::to_string(s.n) + " vocab " + std::to_string(s.vocab) +
                   " width " + std::to_string(s.width) +
                   (mode == kAcc ? " accumulate" : " overwrite"));
      std::vector<std::int32_t> tokens(s.n);
      for (auto& t : tokens) t = static_cast<std::int32_t>(rng.below(s.vocab));
      const std::size_t table_size = static_cast<std::size_t>(s.vocab) * s.width;
      const std::vector<float> table = to_float(uniform(table_size, rng));
      const std::vector<double> dout = uniform(static_cast<std::size_t>(s.n) * s.width, rng);
      const std::vector<double> initial = mode == kAcc ? uniform(table_size, rng)
                                                       : std::vector<double>(table_size, 7.0);

      std::vector<float> out_cpu(static_cast<std::size_t>(s.n) * s.width);
      cpu::embedding_forward_cpu<float>(table.data(), tokens.data(), s.n, s.vocab, s.width,
                                        out_cpu.data());
      std::vector<double> dtable_ref = initial;
      cpu::embedding_backward_cpu<double>(tokens.data(), dout.data(), s.n, s.vocab, s.width,
                                          dtable_ref.data(), mode);

      Buffer<float> d_table = upload(table), d_dout = upload_float(dout),
                    d_dtable = upload_float(initial), d_out(device(), out_cpu.size());
      Buffer<std::int32_t> d_tokens = upload(tokens);
      gpu_->embedding_forward(d_table.data(), d_tokens.data(), s.n, s.vocab, s.width,
                              d_out.data());
      gpu_->embedding_backward(d_tokens.data(), d_dout.data(), s.n, s.vocab, s.width,
                               d_dtable.data(), mode);
      EXPECT_TRUE(bitwise_equal(d_out.download(), out_cpu)) << "embedding_forward is a gather";
      expect_close(to_double(d_dtable.download()), dtable_ref, kReductionTol, "dtable");
    }
  }
}

// ---- linear -----------------------------------------------------------------------------------

TEST_F(CudaParity, LinearMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int n, in, out;
    bool bias, dx;
    GradMode mode;
  };
  for (const Shape s : {Shape{1, 1, 1, true, true, kOver}, Shape{37, 5, 3, false, true, kAcc},
                        Shape{640, 129, 257, true, false, kOver},
                        Shape{100, 257, 31, true, true, kAcc},
                        Shape{3, 1024, 2, true, true, kOver}}) {
    SCOPED_TRACE("n " + std::to_string(s.n) + " in " + std::to_string(s.in) + " out " +
                 std::to_string(s.out) + (s.bias ? " bias" : "") + (s.dx ? " dx" : "") +
                 (s.mode == kAcc ? " accumulate" : " overwrite"));
    const std::size_t nx = static_cast<std::size_t>(s.n) * s.in;
    const std::size_t nw = static_cast<std::size_t>(s.out) * s.in;
    const std::size_t ny = static_cast<std::size_t>(s.n) * s.out;
    const std::vector<double> x = uniform(nx, rng), w = uniform(nw, rng),
                              b = s.bias ? uniform(s.out, rng) : std::vector<double>(),
                              dy = uniform(ny, rng);
    const std::vector<double> dw0 = s.mode == kAcc ? uniform(nw, rng) : std::vector<double>(nw),
                              db0 = s.mode == kAcc ? uniform(s.out, rng)
                                                   : std::vector<double>(s.out);
    std::vector<double> y_ref(ny), dx_ref(s.dx ? nx : 0), dw_ref = dw0, db_ref = db0;
    cpu::linear_forward_cpu<double>(x.data(), w.data(), or_null(b), s.n, s.in, s.out,
                                    y_ref.data());
    cpu::linear_backward_cpu<double>(x.data(), w.data(), dy.data(), s.n, s.in, s.out,
                                     or_null(dx_ref), dw_ref.data(),
                                     s.bias ? db_ref.data() : nullptr, s.mode);

    Buffer<float> d_x = upload_float(x), d_w = upload_float(w), d_b = upload_float(b),
                  d_dy = upload_float(dy), d_y(device(), ny), d_dx(device(), s.dx ? nx : 0),
                  d_dw = upload_float(dw0), d_db = upload_float(db0);
    gpu_->linear_forward(d_x.data(), d_w.data(), data_or_null(d_b), s.n, s.in, s.out,
                         d_y.data());
    gpu_->linear_backward(d_x.data(), d_w.data(), d_dy.data(), s.n, s.in, s.out,
                          data_or_null(d_dx), d_dw.data(), s.bias ? d_db.data() : nullptr,
                          s.mode);
    expect_close(to_double(d_y.download()), y_ref, kGemmTol, "y");
    expect_close(to_double(d_dx.download()), dx_ref, kGemmTol, "dx");
    expect_close(to_double(d_dw.download()), dw_ref, kGemmTol, "dweight");
    if (s.bias) expect_close(to_double(d_db.download()), db_ref, kReductionTol, "dbias");
    else EXPECT_TRUE(bitwise_equal(d_db.download(), to_float(db0))) << "dbias null: untouched";
  }
}

// Precision::tf32 reaches cuBLAS' math mode: a large product is close to the float64 reference
// at TF32's tolerance and differs from the exact float32 one (tensor cores took it).
TEST_F(CudaParity, Tf32PrecisionUsesTensorCoreGemms) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const int n = 512, in = 1024, out = 512;
  const std::vector<double> x = uniform(static_cast<std::size_t>(n) * in, rng),
                            w = uniform(static_cast<std::size_t>(out) * in, rng);
  std::vector<double> y_ref(static_cast<std::size_t>(n) * out);
  cpu::linear_forward_cpu<double>(x.data(), w.data(), nullptr, n, in, out, y_ref.data());
  auto run = [&](Ops<float>& ops) {
    Buffer<float> d_x(ops.memory(), x.size()), d_w(ops.memory(), w.size()),
        d_y(ops.memory(), y_ref.size());
    d_x.upload(to_float(x));
    d_w.upload(to_float(w));
    ops.linear_forward(d_x.data(), d_w.data(), nullptr, n, in, out, d_y.data());
    return d_y.download();
  };
  auto tf32 = make_cuda_ops(0, Precision::tf32);
  const std::vector<float> fast = run(*tf32), exact = run(*gpu_);
  expect_close(to_double(fast), y_ref, kTf32GemmTol, "tf32 y");
  EXPECT_FALSE(bitwise_equal(fast, exact)) << "tf32 gave exactly the float32 results";
}

// ---- losses -----------------------------------------------------------------------------------

TEST_F(CudaParity, SoftmaxCrossEntropyMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int steps, batch, vocab;
    bool gradient;
  };
  for (const Shape s : {Shape{1, 1, 1, true}, Shape{7, 5, 2, true}, Shape{3, 33, 31, false},
                        Shape{17, 64, 1000, true}, Shape{2, 3, 5003, true}}) {
    // Lengths in [0, T]: losses allow empty sequences, and one case has no real row at all.
    for (bool none_real : {false, true}) {
      SCOPED_TRACE("T " + std::to_string(s.steps) + " B " + std::to_string(s.batch) + " V " +
                   std::to_string(s.vocab) + (none_real ? " no real row" : ""));
      const std::size_t rows = static_cast<std::size_t>(s.steps) * s.batch;
      std::vector<std::int32_t> lengths = none_real
                                              ? std::vector<std::int32_t>(s.batch, 0)
                                              : random_lengths(s.batch, s.steps, rng, 0);
      std::vector<double> logits = uniform(rows * s.vocab, rng, -5.0, 5.0);
      std::vector<std::int32_t> targets(rows);
      for (std::size_t i = 0; i < rows; ++i) {
        const int t = static_cast<int>(i / s.batch), b = static_cast<int>(i % s.batch);
        const bool real = t < lengths[b];
        targets[i] = real ? static_cast<std::int32_t>(rng.below(s.vocab)) : -1;
        // Padded rows are garbage, which must never reach the loss or a gradient.
        if (!real)
          for (int v = 0; v < s.vocab; ++v)
            logits[i * s.vocab + v] = std::numeric_limits<double>::quiet_NaN();
      }
      double loss_ref = 0;
      std::vector<double> dlogits_ref(s.gradient ? rows * s.vocab : 0);
      cpu::softmax_cross_entropy_cpu<double>(logits.data(), targets.data(), lengths.data(),
                                             s.steps, s.batch, s.vocab, &loss_ref,
                                             or_null(dlogits_ref));
      Buffer<float> d_logits = upload_float(logits), d_loss(device(), 1),
                    d_dlogits(device(), dlogits_ref.size());
      Buffer<std::int32_t> d_targets = upload(targets), d_lengths = upload(lengths);
      gpu_->softmax_cross_entropy(d_logits.data(), d_targets.data(), d_lengths.data(), s.steps,
                                  s.batch, s.vocab, d_loss.data(), data_or_null(d_dlogits));
      expect_close(to_double(d_loss.download()), {loss_ref}, kLossTol, "loss");
      expect_close(to_double(d_dlogits.download()), dlogits_ref, kLossTol, "dlogits");
    }
  }
}

TEST_F(CudaParity, SoftmaxCrossEntropyPropagatesNaN) {
  const std::vector<float> logits = {0.5f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
  const std::vector<std::int32_t> targets = {0}, lengths = {1};
  Buffer<float> d_logits = upload(logits), d_loss(device(), 1), d_dlogits(device(), 3);
  Buffer<std::int32_t> d_targets = upload(targets), d_lengths = upload(lengths);
  gpu_->softmax_cross_entropy(d_logits.data(), d_targets.data(), d_lengths.data(), 1, 1, 3,
                              d_loss.data(), d_dlogits.data());
  EXPECT_TRUE(std::isnan(d_loss.download()[0]));
}

TEST_F(CudaParity, MseMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int steps, batch, features;
    bool gradient;
  };
  for (const Shape s : {Shape{1, 1, 1, true}, Shape{7, 5, 3, true}, Shape{17, 64, 100, true},
                        Shape{3, 33, 31, false}}) {
    for (bool none_real : {false, true}) {
      SCOPED_TRACE("T " + std::to_string(s.steps) + " B " + std::to_string(s.batch) + " F " +
                   std::to_string(s.features) + (none_real ? " no real row" : ""));
      const std::size_t rows = static_cast<std::size_t>(s.steps) * s.batch;
      const std::size_t n = rows * s.features;
      std::vector<std::int32_t> lengths = none_real
                                              ? std::vector<std::int32_t>(s.batch, 0)
                                              : random_lengths(s.batch, s.steps, rng, 0);
      std::vector<double> prediction = uniform(n, rng), target = uniform(n, rng);
      for (std::size_t i = 0; i < rows; ++i)
        if (static_cast<int>(i / s.batch) >= lengths[i % s.batch])
          for (int f = 0; f < s.features; ++f)
            prediction[i * s.features + f] = std::numeric_limits<double>::quiet_NaN();
      double loss_ref = 0;
      std::vector<double> d_ref(s.gradient ? n : 0);
      cpu::mse_cpu<double>(prediction.data(), target.data(), lengths.data(), s.steps, s.batch,
                           s.features, &loss_ref, or_null(d_ref));
      Buffer<float> d_prediction = upload_float(prediction), d_target = upload_float(target),
                    d_loss(device(), 1), d_dprediction(device(), d_ref.size());
      Buffer<std::int32_t> d_lengths = upload(lengths);
      gpu_->mse(d_prediction.data(), d_target.data(), d_lengths.data(), s.steps, s.batch,
                s.features, d_loss.data(), data_or_null(d_dprediction));
      expect_close(to_double(d_loss.download()), {loss_ref}, kLossTol, "loss");
      expect_close(to_double(d_dprediction.download()), d_ref, kLossTol, "dprediction");
    }
  }
}

TEST_F(CudaParity, ArgmaxEqualsTheCpuReferenceWithTiesAndNaN) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (int vocab : {1, 2, 31, 32, 33, 1000}) {
    SCOPED_TRACE("vocab " + std::to_string(vocab));
    const int n = 300;
    std::vector<float> logits(static_cast<std::size_t>(n) * vocab);
    for (int i = 0; i < n; ++i) {
      float* row = logits.data() + static_cast<std::size_t>(i) * vocab;
      const int kind = i % 6;
      for (int v = 0; v < vocab; ++v) {
        // Few distinct values, so ties are common; some rows hold NaN, -inf or +inf.
        row[v] = static_cast<float>(rng.below(3));
        if (kind == 1 && rng.below(7) == 0) row[v] = nan;
        if (kind == 2) row[v] = -inf;
        if (kind == 3 && rng.below(5) == 0) row[v] = inf;
        if (kind == 4) row[v] = static_cast<float>(rng.uniform(-1.0, 1.0));
        if (kind == 5 && v == vocab - 1) row[v] = nan;
      }
    }
    std::vector<std::int32_t> expected(n);
    cpu::argmax_cpu<float>(logits.data(), n, vocab, expected.data());
    Buffer<float> d_logits = upload(logits);
    Buffer<std::int32_t> d_out(device(), n);
    gpu_->argmax(d_logits.data(), n, vocab, d_out.data());
    EXPECT_EQ(d_out.download(), expected);
  }
}

// ---- repeat -----------------------------------------------------------------------------------

TEST_F(CudaParity, RepeatMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  struct Shape {
    int steps, batch, width;
  };
  for (const Shape s : {Shape{1, 1, 1}, Shape{17, 5, 3}, Shape{100, 64, 257}, Shape{2001, 2, 7}}) {
    for (GradMode mode : {kOver, kAcc}) {
      SCOPED_TRACE("T " + std::to_string(s.steps) + " B " + std::to_string(s.batch) + " W " +
                   std::to_string(s.width) + (mode == kAcc ? " accumulate" : " overwrite"));
      const std::size_t step = static_cast<std::size_t>(s.batch) * s.width;
      const std::vector<float> x = to_float(uniform(step, rng));
      const std::vector<double> dout = uniform(step * s.steps, rng);
      const std::vector<double> dx0 = mode == kAcc ? uniform(step, rng)
                                                   : std::vector<double>(step, 3.0);
      std::vector<float> out_cpu(step * s.steps);
      cpu::repeat_forward_cpu<float>(x.data(), s.steps, s.batch, s.width, out_cpu.data());
      std::vector<double> dx_ref = dx0;
      cpu::repeat_backward_cpu<double>(dout.data(), s.steps, s.batch, s.width, dx_ref.data(),
                                       mode);
      Buffer<float> d_x = upload(x), d_out(device(), out_cpu.size()), d_dout = upload_float(dout),
                    d_dx = upload_float(dx0);
      gpu_->repeat_forward(d_x.data(), s.steps, s.batch, s.width, d_out.data());
      gpu_->repeat_backward(d_dout.data(), s.steps, s.batch, s.width, d_dx.data(), mode);
      EXPECT_TRUE(bitwise_equal(d_out.download(), out_cpu)) << "repeat_forward is a copy";
      expect_close(to_double(d_dx.download()), dx_ref, kReductionTol, "dx");
    }
  }
}

// ---- whole flat buffers -----------------------------------------------------------------------

TEST_F(CudaParity, GlobalNormMatchesTheCpuReferenceAndPropagatesNonFinite) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (std::size_t n : {std::size_t{1}, std::size_t{255}, std::size_t{1000},
                        (std::size_t{1} << 20) + 3, std::size_t{1024} * 256 * 5 + 1}) {
    SCOPED_TRACE("n " + std::to_string(n));
    const std::vector<float> x = to_float(uniform(n, rng));
    double norm_ref = 0;
    const std::vector<double> xd = to_double(x);
    cpu::global_norm_cpu<double>(xd.data(), n, &norm_ref);
    Buffer<float> d_x = upload(x), d_norm(device(), 1);
    gpu_->global_norm(d_x.data(), n, d_norm.data());
    expect_close(to_double(d_norm.download()), {norm_ref}, kReductionTol, "norm");
  }
  for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    std::vector<float> x(10000, 0.5f);
    x[7777] = bad;
    Buffer<float> d_x = upload(x), d_norm(device(), 1);
    gpu_->global_norm(d_x.data(), x.size(), d_norm.data());
    const float got = d_norm.download()[0];
    if (std::isnan(bad)) EXPECT_TRUE(std::isnan(got)) << got;
    else EXPECT_EQ(got, std::numeric_limits<float>::infinity());
  }
}

TEST_F(CudaParity, ClipByNormEqualsTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const std::size_t n = 100003;
  const std::vector<float> x = to_float(uniform(n, rng, -3.0, 3.0));
  for (float norm : {0.5f, 1.0f, 2.0f, 1234.5f, std::numeric_limits<float>::quiet_NaN(),
                     std::numeric_limits<float>::infinity()}) {
    SCOPED_TRACE("norm " + std::to_string(norm) + ", max_norm 1");
    std::vector<float> expected = x;
    cpu::clip_by_norm_cpu<float>(expected.data(), n, &norm, 1.0f);
    Buffer<float> d_x = upload(x), d_norm = upload(std::vector<float>{norm});
    gpu_->clip_by_norm(d_x.data(), n, d_norm.data(), 1.0f);
    const std::vector<float> got = d_x.download();
    if (std::isfinite(norm)) {
      EXPECT_TRUE(bitwise_equal(got, expected)) << "the same float division and products";
    } else {
      EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](float v) { return std::isnan(v); }));
    }
  }
}

TEST_F(CudaParity, SgdMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const std::size_t n = 300007;
  for (float momentum : {0.0f, 0.9f}) {
    SCOPED_TRACE("momentum " + std::to_string(momentum));
    std::vector<float> p = to_float(uniform(n, rng)), g = to_float(uniform(n, rng)),
                       v = to_float(uniform(n, rng));
    Buffer<float> d_p = upload(p), d_g = upload(g), d_v = upload(v);
    for (int step = 0; step < 3; ++step) {
      cpu::sgd_step_cpu<float>(p.data(), g.data(), momentum > 0 ? v.data() : nullptr, n, 0.01f,
                               momentum);
      // Momentum 0: the velocity is neither read nor written, so null is allowed.
      gpu_->sgd_step(d_p.data(), d_g.data(), momentum > 0 ? d_v.data() : nullptr, n, 0.01f,
                     momentum);
    }
    expect_close(to_double(d_p.download()), to_double(p), kOptimizerTol, "params");
    expect_close(to_double(d_v.download()), to_double(v), kOptimizerTol, "velocity");
  }
}

TEST_F(CudaParity, AdamMatchesTheCpuReference) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  const std::size_t n = 300007;
  for (std::int64_t first_step : {std::int64_t{1}, std::int64_t{1000}}) {
    SCOPED_TRACE("from step " + std::to_string(first_step));
    std::vector<float> p = to_float(uniform(n, rng)), m = to_float(uniform(n, rng, -0.1, 0.1)),
                       v = to_float(uniform(n, rng, 0.0, 0.01));
    Buffer<float> d_p = upload(p), d_m = upload(m), d_v = upload(v);
    for (std::int64_t step = first_step; step < first_step + 3; ++step) {
      const std::vector<float> g = to_float(uniform(n, rng));
      Buffer<float> d_g = upload(g);
      cpu::adam_step_cpu<float>(p.data(), g.data(), m.data(), v.data(), n, 1e-3f, 0.9f, 0.999f,
                                1e-7f, step);
      gpu_->adam_step(d_p.data(), d_g.data(), d_m.data(), d_v.data(), n, 1e-3f, 0.9f, 0.999f,
                      1e-7f, step);
    }
    expect_close(to_double(d_p.download()), to_double(p), kOptimizerTol, "params");
    expect_close(to_double(d_m.download()), to_double(m), kOptimizerTol, "m");
    expect_close(to_double(d_v.download()), to_double(v), kOptimizerTol, "v");
  }
}

// ---- the whole model --------------------------------------------------------------------------

struct ModelCase {
  std::string name;
  CellType cell;
  DecoderMode mode;
  InputKind input;
  OutputKind output;
  int layers;
  double clip_norm;
  // Issue 13's features (the first cases have none of them).
  AttentionKind attention = AttentionKind::none;
  bool input_feed = false;
  bool bidirectional = false;
  BridgeKind bridge = BridgeKind::sum;
  double dropout = 0.0;
};

ModelConfig model_config(const ModelCase& c) {
  ModelConfig config;
  config.cell = c.cell;
  config.mode = c.mode;
  config.input = c.input;
  config.output = c.output;
  config.layers = c.layers;
  config.hidden_size = 32;
  config.source_vocab_size = 12;
  config.source_features = 3;
  config.embedding_size = 8;
  config.target_vocab_size = 10;
  config.target_features = 2;
  config.max_target_length = 6;
  config.attention = c.attention;
  config.input_feed = c.input_feed;
  config.bidirectional = c.bidirectional;
  config.bridge = c.bridge;
  config.dropout = c.dropout;
  return config;
}

// Eight sequences of random lengths (1 to 7 source steps, 1 to 5 target steps plus the end).
Batch random_model_batch(const ModelConfig& config, Rng& rng) {
  constexpr int kBatch = 8;
  Batch batch;
  if (config.input == InputKind::features) {
    std::vector<std::vector<double>> sources;
    for (int b = 0; b < kBatch; ++b)
      sources.push_back(uniform((1 + rng.below(7)) * config.source_features, rng));
    set_source_features(batch, sources, config.source_features);
  } else {
    std::vector<std::vector<std::int32_t>> sources(kBatch);
    for (auto& s : sources) {
      s.resize(1 + rng.below(7));
      for (auto& id : s)
        id = Vocabulary::special_count +
             static_cast<std::int32_t>(rng.below(config.source_vocab_size - 3));
    }
    set_source_tokens(batch, sources);
  }
  if (config.output == OutputKind::features) {
    std::vector<std::vector<double>> targets;
    for (int b = 0; b < kBatch; ++b)
      targets.push_back(uniform((1 + rng.below(5)) * config.target_features, rng));
    set_target_features(batch, targets, config.target_features);
  } else {
    std::vector<std::vector<std::int32_t>> targets(kBatch);
    for (auto& t : targets) {
      t.resize(rng.below(5));  // the end token makes it 1 to 5
      for (auto& id : t)
        id = Vocabulary::special_count +
             static_cast<std::int32_t>(rng.below(config.target_vocab_size - 3));
    }
    set_target_tokens(batch, targets);
  }
  return batch;
}

const ModelCase kModelCases[] = {
    {"lstm_one_hot_teacher_forcing", kLstm, DecoderMode::teacher_forcing, InputKind::one_hot,
     OutputKind::tokens, 2, 0.0},
    {"gru_embedding_repeat_clipped", kGru, DecoderMode::repeat, InputKind::embedding,
     OutputKind::tokens, 1, 0.05},
    {"rnn_features_teacher_forcing", kRnn, DecoderMode::teacher_forcing, InputKind::features,
     OutputKind::features, 2, 0.0},
    {"lstm_embedding_teacher_forcing_clipped", kLstm, DecoderMode::teacher_forcing,
     InputKind::embedding, OutputKind::tokens, 1, 0.05},
    {"gru_features_repeat", kGru, DecoderMode::repeat, InputKind::features, OutputKind::features,
     3, 0.0},
    // Attention (every kind, with and without input feeding), the bidirectional encoder (both
    // bridges) and dropout: the new backend ops inside whole training steps. Dropout's masks are
    // drawn on the host from (seed, step), so both backends use the same ones.
    {"lstm_embedding_dot_attention", kLstm, DecoderMode::teacher_forcing, InputKind::embedding,
     OutputKind::tokens, 2, 0.0, AttentionKind::dot},
    {"gru_one_hot_general_attention_input_feed_clipped", kGru, DecoderMode::teacher_forcing,
     InputKind::one_hot, OutputKind::tokens, 1, 0.05, AttentionKind::general, true},
    {"lstm_embedding_additive_input_feed_bidirectional_dropout", kLstm,
     DecoderMode::teacher_forcing, InputKind::embedding, OutputKind::tokens, 2, 0.0,
     AttentionKind::additive, true, true, BridgeKind::linear, 0.3},
    {"rnn_features_bidirectional_dropout", kRnn, DecoderMode::teacher_forcing,
     InputKind::features, OutputKind::features, 2, 0.0, AttentionKind::none, false, true,
     BridgeKind::sum, 0.2},
};

constexpr int kTrainSteps = 5;

TEST_F(CudaParity, Seq2SeqAdamStepsMatchTheCpuBackend) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const ModelCase& c : kModelCases) {
    SCOPED_TRACE(c.name);
    const ModelConfig config = model_config(c);
    Seq2Seq on_cpu(config, seed_, BackendKind::cpu);
    Seq2Seq on_gpu(config, seed_, BackendKind::cuda);
    ASSERT_EQ(on_gpu.backend(), BackendKind::cuda);
    ASSERT_TRUE(bitwise_equal(on_cpu.parameters(), on_gpu.parameters()));
    OptimizerConfig adam;  // Keras' defaults
    adam.clip_norm = c.clip_norm;
    on_cpu.set_optimizer(adam);
    on_gpu.set_optimizer(adam);
    std::vector<Batch> batches;
    for (int step = 0; step < kTrainSteps; ++step) {
      SCOPED_TRACE("step " + std::to_string(step + 1));
      batches.push_back(random_model_batch(config, rng));
      const StepResult a = on_cpu.train_step(batches.back());
      const StepResult b = on_gpu.train_step(batches.back());
      expect_close({b.loss}, {a.loss}, kModelTol, "loss");
      expect_close({b.gradient_norm}, {a.gradient_norm}, kModelTol, "gradient norm");
      EXPECT_EQ(b.total, a.total);
    }
    const std::vector<float> cpu_params = on_cpu.parameters();
    const std::vector<float> gpu_params = on_gpu.parameters();
    for (const ParameterInfo& p : on_cpu.parameter_info()) {
      const auto slice = [&](const std::vector<float>& v) {
        return to_double(std::vector<float>(v.begin() + p.offset, v.begin() + p.offset + p.size()));
      };
      expect_close(slice(gpu_params), slice(cpu_params), kModelTol, p.name);
    }
    // Predictions from the same (GPU-trained) parameters on both backends: only the forward
    // arithmetic differs, so the greedy choices agree.
    on_cpu.set_parameters(gpu_params);
    const Batch& batch = batches.front();
    if (config.output == OutputKind::tokens) {
      EXPECT_EQ(on_gpu.predict_tokens(batch), on_cpu.predict_tokens(batch));
    } else {
      const auto a = on_cpu.predict_features(batch, 4);
      const auto b = on_gpu.predict_features(batch, 4);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i)
        expect_close(b[i], a[i], kModelTol, "prediction " + std::to_string(i));
    }
  }
}

// ---- determinism ------------------------------------------------------------------------------

TEST_F(CudaParity, RepeatedGpuRunsAreBitIdentical) {
  SCOPED_TRACE(seed_text(seed_));
  Rng rng(seed_);
  for (const RnnCase& c :
       {RnnCase{kLstm, 3, 129, 64, 100, true, true, true, true, true, true, kAcc},
        RnnCase{kGru, 2, 257, 64, 17, false, true, true, true, true, true, kOver},
        RnnCase{kRnn, 1, 33, 5, 100, false, true, false, true, true, true, kAcc}}) {
    SCOPED_TRACE(describe(c));
    const RnnProblem problem = make_rnn_problem(c, rng);
    const RnnResult a = run_rnn(*gpu_, problem);
    const RnnResult b = run_rnn(*gpu_, problem);
    EXPECT_TRUE(bitwise_equal(a.y, b.y) && bitwise_equal(a.hn, b.hn) &&
                bitwise_equal(a.cn, b.cn) && bitwise_equal(a.dx, b.dx) &&
                bitwise_equal(a.dh0, b.dh0) && bitwise_equal(a.dc0, b.dc0));
    for (int k = 0; k < c.layers; ++k)
      EXPECT_TRUE(bitwise_equal(a.dweight_ih[k], b.dweight_ih[k]) &&
                  bitwise_equal(a.dweight_hh[k], b.dweight_hh[k]) &&
                  bitwise_equal(a.dbias_ih[k], b.dbias_ih[k]) &&
                  bitwise_equal(a.dbias_hh[k], b.dbias_hh[k]))
          << "layer " << k;
  }

  // Reductions with many repeated keys and long sums.
  const int n = 20000, vocab = 5, width = 64;
  std::vector<std::int32_t> tokens(n);
  for (auto& t : tokens) t = static_cast<std::int32_t>(rng.below(vocab));
  const std::vector<float> dout = to_float(uniform(static_cast<std::size_t>(n) * width, rng));
  Buffer<std::int32_t> d_tokens = upload(tokens);
  Buffer<float> d_dout = upload(dout);
  std::vector<float> tables[2], norms[2], losses[2];
  for (int run = 0; run < 2; ++run) {
    Buffer<float> d_table(device(), static_cast<std::size_t>(vocab) * width), d_norm(device(), 1);
    gpu_->embedding_backward(d_tokens.data(), d_dout.data(), n, vocab, width, d_table.data(),
                             kOver);
    gpu_->global_norm(d_dout.data(), dout.size(), d_norm.data());
    tables[run] = d_table.download();
    norms[run] = d_norm.download();
    // Cross-entropy over [T = 100, B = 200] rows of the same values.
    const std::vector<std::int32_t> lengths(200, 100);
    Buffer<std::int32_t> d_lengths = upload(lengths);
    Buffer<float> d_loss(device(), 1), d_dlogits(device(), dout.size());
    std::vector<std::int32_t> targets(n);
    for (int i = 0; i < n; ++i) targets[i] = i % width;
    Buffer<std::int32_t> d_targets = upload(targets);
    gpu_->softmax_cross_entropy(d_dout.data(), d_targets.data(), d_lengths.data(), 100, 200,
                                width, d_loss.data(), d_dlogits.data());
    losses[run] = d_loss.download();
  }
  EXPECT_TRUE(bitwise_equal(tables[0], tables[1])) << "embedding_backward";
  EXPECT_TRUE(bitwise_equal(norms[0], norms[1])) << "global_norm";
  EXPECT_TRUE(bitwise_equal(losses[0], losses[1])) << "softmax_cross_entropy";
}

TEST_F(CudaParity, RepeatedGpuTrainingIsBitIdentical) {
  SCOPED_TRACE(seed_text(seed_));
  for (const ModelCase& c : {kModelCases[0], kModelCases[1], kModelCases[2]}) {
    SCOPED_TRACE(c.name);
    const ModelConfig config = model_config(c);
    std::vector<float> params[2];
    for (int run = 0; run < 2; ++run) {
      Rng rng(seed_);
      Seq2Seq model(config, seed_, BackendKind::cuda);
      OptimizerConfig adam;
      adam.clip_norm = c.clip_norm;
      model.set_optimizer(adam);
      for (int step = 0; step < 3; ++step) model.train_step(random_model_batch(config, rng));
      params[run] = model.parameters();
    }
    EXPECT_TRUE(bitwise_equal(params[0], params[1]));
  }
}

// ---- errors -----------------------------------------------------------------------------------

TEST_F(CudaParity, AskingForMoreMemoryThanTheDeviceHasThrows) {
  std::size_t total = 0;
  for (const DeviceInfo& info : list_devices())
    if (info.kind == BackendKind::cuda && info.index == 0) total = info.memory_bytes;
  ASSERT_GT(total, 0u);
  const std::size_t too_many = total + (std::size_t{1} << 30);
  EXPECT_THROW(Buffer<unsigned char>(device(), too_many), Error);
  // A workspace for a recurrent stack larger than the device, through the op's own size.
  const RnnDims huge{kLstm, 8, 4096, 4096, 4096, 1024};
  EXPECT_THROW(Buffer<float>(device(), gpu_->rnn_workspace_size(huge)), Error);
  // The device still works after the failures.
  Buffer<float> x = upload(std::vector<float>{3.0f, 4.0f}), norm(device(), 1);
  gpu_->global_norm(x.data(), 2, norm.data());
  EXPECT_EQ(norm.download()[0], 5.0f);
}

TEST_F(CudaParity, NonexistentDeviceThrows) {
  EXPECT_THROW(make_cuda_ops(cuda_device_count()), Error);
  EXPECT_THROW(make_cuda_ops(-1), Error);
}

}  // namespace
}  // namespace s2s
