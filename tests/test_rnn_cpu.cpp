// Tests of the CPU recurrent stack (host/cpu/rnn_cpu.cpp): float64 gradient checks by central
// differences for every cell, depth and length pattern, and the contract of backend.h (padding,
// nullable pointers, GradMode, one-hot input, workspace size, float against double).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "cpu/ops_cpu.h"
#include "gradcheck.h"
#include "s2s/config.h"

namespace s2s::test {
namespace {

// Two computations of the same math that differ only in summation order (batch of 1 against a
// batch of 3, one GEMM against the sum of several).
constexpr double kSameMathAtol = 1e-12;
constexpr double kSameMathRtol = 1e-12;
// Float against double on O(1) values through a few steps and layers: float's epsilon is 6e-8,
// and each result sums a few dozen products.
constexpr double kFloatVsDoubleAtol = 2e-5;
constexpr double kFloatVsDoubleRtol = 1e-4;

constexpr int kInputSize = 3;
constexpr int kHiddenSize = 4;
constexpr int kVocabulary = 5;

// Every array of one problem in host memory, element type T. Empty h0 / c0 are passed as null.
template <typename T>
struct RnnProblem {
  RnnDims dims;
  std::vector<std::vector<T>> weight_ih, weight_hh, bias_ih, bias_hh;  // one entry per layer
  std::vector<T> x;                       // [T, B, In] ([B, In] if x_repeated); empty if one-hot
  bool x_repeated = false;                // x is every step's input (RnnInput::x_repeated)
  std::vector<std::int32_t> tokens;       // [T, B], empty in dense mode
  std::vector<std::int32_t> lengths;      // [B]
  std::vector<T> h0, c0;                  // [L, B, H]

  bool lstm() const { return dims.cell == CellType::lstm; }
  std::size_t state_size() const {
    return static_cast<std::size_t>(dims.layers) * dims.batch * dims.hidden_size;
  }
  std::size_t output_size() const {
    return static_cast<std::size_t>(dims.seq_len) * dims.batch * dims.hidden_size;
  }
  std::vector<RnnLayerWeights<T>> weights() const {
    std::vector<RnnLayerWeights<T>> w(dims.layers);
    for (int k = 0; k < dims.layers; ++k) {
      w[k] = {weight_ih[k].data(), weight_hh[k].data(), bias_ih[k].data(), bias_hh[k].data()};
    }
    return w;
  }
  RnnInput<T> input() const {
    RnnInput<T> in;
    if (tokens.empty()) in.x = x.data();
    else in.tokens = tokens.data();
    in.x_repeated = x_repeated;
    return in;
  }
};

template <typename T>
const T* data_or_null(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}
template <typename T>
T* data_or_null(std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

RnnProblem<double> make_problem(CellType cell, int layers, int seq_len,
                                std::vector<std::int32_t> lengths, std::uint64_t seed,
                                bool one_hot = false, int input_size = 0,
                                int hidden_size = kHiddenSize) {
  // input_size 0: the default of the mode (a vocabulary in one-hot mode).
  if (input_size == 0) input_size = one_hot ? kVocabulary : kInputSize;
  Rng rng(seed);
  RnnProblem<double> p;
  p.dims.cell = cell;
  p.dims.layers = layers;
  p.dims.input_size = input_size;
  p.dims.hidden_size = hidden_size;
  p.dims.seq_len = seq_len;
  p.dims.batch = static_cast<int>(lengths.size());
  p.lengths = std::move(lengths);
  const std::size_t gate_rows = static_cast<std::size_t>(gate_count(cell)) * hidden_size;
  for (int k = 0; k < layers; ++k) {
    const std::size_t in = k == 0 ? input_size : hidden_size;
    // Weights of PyTorch's default scale (1/sqrt(H)) and a little more, so no gate saturates.
    p.weight_ih.push_back(random_vector(gate_rows * in, rng, -0.7, 0.7));
    p.weight_hh.push_back(random_vector(gate_rows * hidden_size, rng, -0.7, 0.7));
    p.bias_ih.push_back(random_vector(gate_rows, rng, -0.5, 0.5));
    p.bias_hh.push_back(random_vector(gate_rows, rng, -0.5, 0.5));
  }
  const std::size_t rows = static_cast<std::size_t>(seq_len) * p.dims.batch;
  if (one_hot) {
    for (std::size_t i = 0; i < rows; ++i) {
      p.tokens.push_back(static_cast<std::int32_t>(rng.below(input_size)));
    }
  } else {
    p.x = random_vector(rows * input_size, rng);
  }
  p.h0 = random_vector(p.state_size(), rng, -0.8, 0.8);
  if (p.lstm()) p.c0 = random_vector(p.state_size(), rng, -0.8, 0.8);
  return p;
}

template <typename To, typename From>
std::vector<To> cast_vector(const std::vector<From>& v) {
  return std::vector<To>(v.begin(), v.end());
}

template <typename To, typename From>
RnnProblem<To> cast_problem(const RnnProblem<From>& p) {
  RnnProblem<To> q;
  q.dims = p.dims;
  for (int k = 0; k < p.dims.layers; ++k) {
    q.weight_ih.push_back(cast_vector<To>(p.weight_ih[k]));
    q.weight_hh.push_back(cast_vector<To>(p.weight_hh[k]));
    q.bias_ih.push_back(cast_vector<To>(p.bias_ih[k]));
    q.bias_hh.push_back(cast_vector<To>(p.bias_hh[k]));
  }
  q.x = cast_vector<To>(p.x);
  q.tokens = p.tokens;
  q.lengths = p.lengths;
  q.h0 = cast_vector<To>(p.h0);
  q.c0 = cast_vector<To>(p.c0);
  return q;
}

// The workspace, filled with NaN so that reading anything rnn_forward did not write shows up in
// the results, and followed by a guard band that must survive every call.
template <typename T>
class Workspace {
 public:
  explicit Workspace(const RnnDims& dims)
      : size_(cpu::rnn_workspace_size_cpu(dims)),
        data_(size_ + kGuard, std::numeric_limits<T>::quiet_NaN()) {
    for (std::size_t i = size_; i < data_.size(); ++i) data_[i] = kGuardValue;
  }
  T* data() { return data_.data(); }
  void expect_guard_intact() const {
    for (std::size_t i = size_; i < data_.size(); ++i) {
      ASSERT_EQ(data_[i], kGuardValue) << "write past the workspace end at element " << i
                                       << " (size " << size_ << ")";
    }
  }

 private:
  static constexpr std::size_t kGuard = 256;
  static constexpr T kGuardValue = T(1234.5);
  std::size_t size_;
  std::vector<T> data_;
};

template <typename T>
struct Outputs {
  std::vector<T> y, hn, cn;
};

template <typename T>
Outputs<T> run_forward(const RnnProblem<T>& p, Workspace<T>& workspace) {
  Outputs<T> out;
  out.y.assign(p.output_size(), std::numeric_limits<T>::quiet_NaN());
  out.hn.assign(p.state_size(), std::numeric_limits<T>::quiet_NaN());
  if (p.lstm()) out.cn.assign(p.state_size(), std::numeric_limits<T>::quiet_NaN());
  const auto weights = p.weights();
  cpu::rnn_forward_cpu<T>(p.dims, weights.data(), p.input(), p.lengths.data(),
                          data_or_null(p.h0), data_or_null(p.c0), out.y.data(), out.hn.data(),
                          data_or_null(out.cn), workspace.data());
  workspace.expect_guard_intact();
  return out;
}

// Gradients of the loss w.r.t. y, hn and cn; empty ones are passed as null.
template <typename T>
struct Upstream {
  std::vector<T> dy, dhn, dcn;
};

// Non-zero everywhere, padded steps of dy included (they must be ignored).
Upstream<double> random_upstream(const RnnProblem<double>& p, std::uint64_t seed) {
  Rng rng(seed);
  Upstream<double> up;
  up.dy = random_vector(p.output_size(), rng);
  up.dhn = random_vector(p.state_size(), rng);
  if (p.lstm()) up.dcn = random_vector(p.state_size(), rng);
  return up;
}

template <typename T>
struct Gradients {
  std::vector<std::vector<T>> dweight_ih, dweight_hh, dbias_ih, dbias_hh;
  std::vector<T> dx, dh0, dc0;  // empty: passed as null (not wanted)
};

template <typename T>
Gradients<T> filled_gradients(const RnnProblem<T>& p, T value) {
  Gradients<T> g;
  for (int k = 0; k < p.dims.layers; ++k) {
    g.dweight_ih.emplace_back(p.weight_ih[k].size(), value);
    g.dweight_hh.emplace_back(p.weight_hh[k].size(), value);
    g.dbias_ih.emplace_back(p.bias_ih[k].size(), value);
    g.dbias_hh.emplace_back(p.bias_hh[k].size(), value);
  }
  if (p.tokens.empty()) g.dx.assign(p.x.size(), value);
  g.dh0.assign(p.state_size(), value);
  if (p.lstm()) g.dc0.assign(p.state_size(), value);
  return g;
}

template <typename T>
void run_backward(const RnnProblem<T>& p, Workspace<T>& workspace, const Upstream<T>& up,
                  GradMode mode, Gradients<T>& g) {
  const auto weights = p.weights();
  std::vector<RnnLayerGrads<T>> grads(p.dims.layers);
  for (int k = 0; k < p.dims.layers; ++k) {
    grads[k] = {g.dweight_ih[k].data(), g.dweight_hh[k].data(), g.dbias_ih[k].data(),
                g.dbias_hh[k].data()};
  }
  cpu::rnn_backward_cpu<T>(p.dims, weights.data(), p.input(), p.lengths.data(),
                           data_or_null(p.h0), data_or_null(p.c0), data_or_null(up.dy),
                           data_or_null(up.dhn), data_or_null(up.dcn), data_or_null(g.dx),
                           data_or_null(g.dh0), data_or_null(g.dc0), grads.data(), mode,
                           workspace.data());
  workspace.expect_guard_intact();
}

// Forward then backward (overwrite) from fresh zero-filled gradient buffers.
template <typename T>
Gradients<T> forward_backward(const RnnProblem<T>& p, const Upstream<T>& up) {
  Workspace<T> workspace(p.dims);
  run_forward(p, workspace);
  Gradients<T> g = filled_gradients(p, T(0));
  run_backward(p, workspace, up, GradMode::overwrite, g);
  return g;
}

void expect_near(const std::vector<double>& actual, const std::vector<double>& expected,
                 const std::string& what, double atol, double rtol) {
  expect_gradients_near(actual, expected, what, atol, rtol);
}

template <typename T>
std::vector<double> as_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <typename A, typename B>
void expect_gradients_equal(const Gradients<A>& actual, const Gradients<B>& expected,
                            double atol, double rtol) {
  for (std::size_t k = 0; k < expected.dweight_ih.size(); ++k) {
    const std::string layer = "_l" + std::to_string(k);
    expect_near(as_double(actual.dweight_ih[k]), as_double(expected.dweight_ih[k]),
                "dweight_ih" + layer, atol, rtol);
    expect_near(as_double(actual.dweight_hh[k]), as_double(expected.dweight_hh[k]),
                "dweight_hh" + layer, atol, rtol);
    expect_near(as_double(actual.dbias_ih[k]), as_double(expected.dbias_ih[k]),
                "dbias_ih" + layer, atol, rtol);
    expect_near(as_double(actual.dbias_hh[k]), as_double(expected.dbias_hh[k]),
                "dbias_hh" + layer, atol, rtol);
  }
  expect_near(as_double(actual.dx), as_double(expected.dx), "dx", atol, rtol);
  expect_near(as_double(actual.dh0), as_double(expected.dh0), "dh0", atol, rtol);
  expect_near(as_double(actual.dc0), as_double(expected.dc0), "dc0", atol, rtol);
}

// The loss whose gradients are checked: a weighted sum of y, hn and cn with the upstream
// gradients as weights.
double weighted_loss(const RnnProblem<double>& p, const Upstream<double>& up,
                     Workspace<double>& workspace) {
  const Outputs<double> out = run_forward(p, workspace);
  double loss = weighted_sum(out.y.data(), up.dy) + weighted_sum(out.hn.data(), up.dhn);
  if (p.lstm()) loss += weighted_sum(out.cn.data(), up.dcn);
  return loss;
}

// Compares the analytic gradient of every parameter and every input with central differences.
void check_gradients(RnnProblem<double>& p, std::uint64_t seed) {
  const Upstream<double> up = random_upstream(p, seed);
  const Gradients<double> analytic = forward_backward(p, up);
  Workspace<double> workspace(p.dims);
  const auto loss = [&] { return weighted_loss(p, up, workspace); };
  for (int k = 0; k < p.dims.layers; ++k) {
    const std::string layer = "_l" + std::to_string(k);
    expect_gradients_near(analytic.dweight_ih[k],
                          numeric_gradient(loss, p.weight_ih[k].data(), p.weight_ih[k].size()),
                          "weight_ih" + layer);
    expect_gradients_near(analytic.dweight_hh[k],
                          numeric_gradient(loss, p.weight_hh[k].data(), p.weight_hh[k].size()),
                          "weight_hh" + layer);
    expect_gradients_near(analytic.dbias_ih[k],
                          numeric_gradient(loss, p.bias_ih[k].data(), p.bias_ih[k].size()),
                          "bias_ih" + layer);
    expect_gradients_near(analytic.dbias_hh[k],
                          numeric_gradient(loss, p.bias_hh[k].data(), p.bias_hh[k].size()),
                          "bias_hh" + layer);
  }
  if (!p.x.empty()) {
    expect_gradients_near(analytic.dx, numeric_gradient(loss, p.x.data(), p.x.size()), "x");
  }
  expect_gradients_near(analytic.dh0, numeric_gradient(loss, p.h0.data(), p.h0.size()), "h0");
  if (p.lstm()) {
    expect_gradients_near(analytic.dc0, numeric_gradient(loss, p.c0.data(), p.c0.size()),
                          "c0");
  }
}

const CellType kCells[] = {CellType::lstm, CellType::gru, CellType::rnn};

// ---- gradient checks over cell x layers x length pattern ------------------------------------

struct LengthPattern {
  std::string name;
  int seq_len;
  std::vector<std::int32_t> lengths;
};

const LengthPattern kLengthPatterns[] = {
    {"single_step", 1, {1, 1, 1}},
    {"full", 5, {5, 5, 5}},
    {"mixed", 5, {5, 1, 3}},
};

struct GradientCase {
  CellType cell;
  int layers;
  LengthPattern pattern;
};

void PrintTo(const GradientCase& c, std::ostream* os) {
  *os << to_string(c.cell) << ", " << c.layers << " layers, " << c.pattern.name;
}

std::string case_name(const testing::TestParamInfo<GradientCase>& info) {
  return to_string(info.param.cell) + "_layers" + std::to_string(info.param.layers) + "_" +
         info.param.pattern.name;
}

std::vector<GradientCase> all_gradient_cases() {
  std::vector<GradientCase> cases;
  for (CellType cell : kCells) {
    for (int layers : {1, 2}) {
      for (const LengthPattern& pattern : kLengthPatterns) cases.push_back({cell, layers, pattern});
    }
  }
  return cases;
}

class RnnGradientTest : public testing::TestWithParam<GradientCase> {};

TEST_P(RnnGradientTest, MatchesCentralDifferences) {
  const GradientCase& c = GetParam();
  RnnProblem<double> p = make_problem(c.cell, c.layers, c.pattern.seq_len, c.pattern.lengths, 11);
  check_gradients(p, 12);
}

TEST_P(RnnGradientTest, OneHotInputMatchesCentralDifferences) {
  const GradientCase& c = GetParam();
  RnnProblem<double> p =
      make_problem(c.cell, c.layers, c.pattern.seq_len, c.pattern.lengths, 21, true);
  check_gradients(p, 22);
}

// The repeat decoder's input: one [B, In] x read at every step; dx is w.r.t. that x.
TEST_P(RnnGradientTest, RepeatedInputMatchesCentralDifferences) {
  const GradientCase& c = GetParam();
  RnnProblem<double> p = make_problem(c.cell, c.layers, c.pattern.seq_len, c.pattern.lengths, 31);
  p.x.resize(static_cast<std::size_t>(p.dims.batch) * p.dims.input_size);
  p.x_repeated = true;
  check_gradients(p, 32);
}

// A repeated input is the same function as that x copied to every step: equal outputs and
// parameter gradients, and dx equal to the copied version's dx summed over steps.
TEST(RnnCpu, RepeatedInputEqualsTheInputCopiedToEveryStep) {
  for (CellType cell : kCells) {
    for (int layers : {1, 2}) {
      SCOPED_TRACE(to_string(cell) + " layers " + std::to_string(layers));
      RnnProblem<double> repeated = make_problem(cell, layers, 6, {6, 1, 4, 6}, 41, false, 5, 7);
      const std::size_t step = static_cast<std::size_t>(repeated.dims.batch) * 5;
      repeated.x.resize(step);
      repeated.x_repeated = true;
      RnnProblem<double> copied = repeated;
      copied.x_repeated = false;
      copied.x.clear();
      for (int t = 0; t < copied.dims.seq_len; ++t) {
        copied.x.insert(copied.x.end(), repeated.x.begin(), repeated.x.end());
      }
      Workspace<double> ws_repeated(repeated.dims), ws_copied(copied.dims);
      const Outputs<double> out_repeated = run_forward(repeated, ws_repeated);
      const Outputs<double> out_copied = run_forward(copied, ws_copied);
      expect_near(out_repeated.y, out_copied.y, "y", 1e-14, 1e-12);
      expect_near(out_repeated.hn, out_copied.hn, "hn", 1e-14, 1e-12);
      expect_near(out_repeated.cn, out_copied.cn, "cn", 1e-14, 1e-12);

      const Upstream<double> up = random_upstream(copied, 42);
      const Gradients<double> g_repeated = forward_backward(repeated, up);
      Gradients<double> g_copied = forward_backward(copied, up);
      std::vector<double> dx_summed(step, 0.0);
      for (int t = 0; t < copied.dims.seq_len; ++t) {
        for (std::size_t i = 0; i < step; ++i) dx_summed[i] += g_copied.dx[t * step + i];
      }
      g_copied.dx = dx_summed;
      expect_gradients_equal(g_repeated, g_copied, 1e-12, 1e-10);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllCells, RnnGradientTest, testing::ValuesIn(all_gradient_cases()),
                         case_name);

// ---- contract tests, each over every cell ---------------------------------------------------

// One-hot tokens are the same function as dense one-hot vectors, forward and backward.
TEST(RnnCpu, OneHotEqualsDenseOneHotVectors) {
  for (CellType cell : kCells) {
    SCOPED_TRACE(to_string(cell));
    const RnnProblem<double> tokens = make_problem(cell, 2, 5, {5, 1, 3}, 31, true);
    RnnProblem<double> dense = tokens;
    dense.tokens.clear();
    dense.x.assign(tokens.tokens.size() * kVocabulary, 0.0);
    for (std::size_t row = 0; row < tokens.tokens.size(); ++row) {
      dense.x[row * kVocabulary + tokens.tokens[row]] = 1.0;
    }
    Workspace<double> ws_tokens(tokens.dims), ws_dense(dense.dims);
    const Outputs<double> out_tokens = run_forward(tokens, ws_tokens);
    const Outputs<double> out_dense = run_forward(dense, ws_dense);
    expect_near(out_tokens.y, out_dense.y, "y", kSameMathAtol, kSameMathRtol);
    expect_near(out_tokens.hn, out_dense.hn, "hn", kSameMathAtol, kSameMathRtol);
    expect_near(out_tokens.cn, out_dense.cn, "cn", kSameMathAtol, kSameMathRtol);

    const Upstream<double> up = random_upstream(tokens, 32);
    Gradients<double> g_tokens = filled_gradients(tokens, 0.0);
    Gradients<double> g_dense = filled_gradients(dense, 0.0);
    run_backward(tokens, ws_tokens, up, GradMode::overwrite, g_tokens);
    run_backward(dense, ws_dense, up, GradMode::overwrite, g_dense);
    g_dense.dx.clear();  // dx is not wanted (and must be null) in one-hot mode
    expect_gradients_equal(g_tokens, g_dense, kSameMathAtol, kSameMathRtol);
  }
}

// Parameter gradients add onto what is there; dx, dh0, dc0 are overwritten in both modes; and
// overwrite never reads the old values (NaN there would propagate).
TEST(RnnCpu, GradModeAccumulateAddsAndOverwriteReplaces) {
  for (CellType cell : kCells) {
    for (bool one_hot : {false, true}) {
      SCOPED_TRACE(to_string(cell) + (one_hot ? " one-hot" : " dense"));
      const RnnProblem<double> p = make_problem(cell, 2, 5, {5, 1, 3}, 41, one_hot);
      const Upstream<double> up = random_upstream(p, 42);
      const Gradients<double> fresh = forward_backward(p, up);

      Workspace<double> workspace(p.dims);
      run_forward(p, workspace);
      Gradients<double> overwritten =
          filled_gradients(p, std::numeric_limits<double>::quiet_NaN());
      run_backward(p, workspace, up, GradMode::overwrite, overwritten);
      expect_gradients_equal(overwritten, fresh, 0.0, 0.0);

      // Existing values, random; dx/dh0/dc0 hold garbage that must be replaced.
      Rng rng(43);
      Gradients<double> existing = filled_gradients(p, 0.0);
      for (auto* list : {&existing.dweight_ih, &existing.dweight_hh, &existing.dbias_ih,
                         &existing.dbias_hh}) {
        for (auto& v : *list) fill_uniform(v, rng, -2.0, 2.0);
      }
      Gradients<double> accumulated = existing;
      for (auto* v : {&accumulated.dx, &accumulated.dh0, &accumulated.dc0}) {
        std::fill(v->begin(), v->end(), 99.0);
      }
      run_forward(p, workspace);
      run_backward(p, workspace, up, GradMode::accumulate, accumulated);

      Gradients<double> expected = fresh;
      for (int k = 0; k < p.dims.layers; ++k) {
        const auto add = [](std::vector<double>& sum, const std::vector<double>& more) {
          for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += more[i];
        };
        add(expected.dweight_ih[k], existing.dweight_ih[k]);
        add(expected.dweight_hh[k], existing.dweight_hh[k]);
        add(expected.dbias_ih[k], existing.dbias_ih[k]);
        add(expected.dbias_hh[k], existing.dbias_hh[k]);
      }
      expect_gradients_equal(accumulated, expected, kSameMathAtol, kSameMathRtol);
    }
  }
}

// Slices sequence b of a batched problem into a batch of one, truncated to its length.
RnnProblem<double> single_sequence(const RnnProblem<double>& p, int b) {
  RnnProblem<double> q = p;
  const int B = p.dims.batch, H = p.dims.hidden_size, In = p.dims.input_size;
  const int length = p.lengths[b];
  q.dims.batch = 1;
  q.dims.seq_len = length;
  q.lengths = {length};
  q.x.clear();
  q.tokens.clear();
  for (int t = 0; t < length; ++t) {
    if (!p.x.empty()) {
      const auto row = p.x.begin() + (static_cast<std::ptrdiff_t>(t) * B + b) * In;
      q.x.insert(q.x.end(), row, row + In);
    } else {
      q.tokens.push_back(p.tokens[t * B + b]);
    }
  }
  const auto state_slice = [&](const std::vector<double>& s) {
    std::vector<double> out;
    for (int k = 0; k < p.dims.layers && !s.empty(); ++k) {
      const auto row = s.begin() + (static_cast<std::ptrdiff_t>(k) * B + b) * H;
      out.insert(out.end(), row, row + H);
    }
    return out;
  };
  q.h0 = state_slice(p.h0);
  q.c0 = state_slice(p.c0);
  return q;
}

// Padded steps output zeros, leave the state alone and pass no gradient: every sequence of a
// padded batch gives exactly what it gives alone, truncated to its length, and the batch's
// parameter gradients are the sum of the single sequences' ones.
TEST(RnnCpu, PaddedStepsChangeNothing) {
  for (CellType cell : kCells) {
    for (bool one_hot : {false, true}) {
      SCOPED_TRACE(to_string(cell) + (one_hot ? " one-hot" : " dense"));
      const RnnProblem<double> p = make_problem(cell, 2, 5, {5, 1, 3, 4}, 51, one_hot);
      const int B = p.dims.batch, H = p.dims.hidden_size, In = p.dims.input_size;
      const Upstream<double> up = random_upstream(p, 52);
      Workspace<double> workspace(p.dims);
      const Outputs<double> out = run_forward(p, workspace);
      Gradients<double> g = filled_gradients(p, 0.0);
      run_backward(p, workspace, up, GradMode::overwrite, g);

      Gradients<double> summed = filled_gradients(p, 0.0);
      for (int b = 0; b < B; ++b) {
        SCOPED_TRACE("sequence " + std::to_string(b));
        const RnnProblem<double> single = single_sequence(p, b);
        Upstream<double> single_up;
        for (int t = 0; t < single.dims.seq_len; ++t) {
          const auto row = up.dy.begin() + (static_cast<std::ptrdiff_t>(t) * B + b) * H;
          single_up.dy.insert(single_up.dy.end(), row, row + H);
        }
        const RnnProblem<double> upstream_shape = [&] {
          RnnProblem<double> s = p;
          s.h0 = up.dhn;
          s.c0 = up.dcn;
          return single_sequence(s, b);
        }();
        single_up.dhn = upstream_shape.h0;
        single_up.dcn = upstream_shape.c0;

        Workspace<double> single_workspace(single.dims);
        const Outputs<double> single_out = run_forward(single, single_workspace);
        Gradients<double> single_g = filled_gradients(single, 0.0);
        run_backward(single, single_workspace, single_up, GradMode::overwrite, single_g);

        for (int t = 0; t < p.dims.seq_len; ++t) {
          for (int j = 0; j < H; ++j) {
            const double batched = out.y[(static_cast<std::size_t>(t) * B + b) * H + j];
            if (t >= p.lengths[b]) {
              EXPECT_EQ(batched, 0.0) << "y at padded step " << t;
            } else {
              EXPECT_NEAR(batched, single_out.y[static_cast<std::size_t>(t) * H + j],
                          kSameMathAtol) << "y at step " << t;
            }
            if (!p.x.empty()) {
              const std::size_t row = (static_cast<std::size_t>(t) * B + b) * In;
              for (int i = 0; i < In && j == 0; ++i) {
                const double expected =
                    t < p.lengths[b] ? single_g.dx[static_cast<std::size_t>(t) * In + i] : 0.0;
                EXPECT_NEAR(g.dx[row + i], expected, kSameMathAtol) << "dx at step " << t;
              }
            }
          }
        }
        for (int k = 0; k < p.dims.layers; ++k) {
          for (int j = 0; j < H; ++j) {
            const std::size_t batched = (static_cast<std::size_t>(k) * B + b) * H + j;
            const std::size_t alone = static_cast<std::size_t>(k) * H + j;
            EXPECT_NEAR(out.hn[batched], single_out.hn[alone], kSameMathAtol) << "hn layer " << k;
            EXPECT_NEAR(g.dh0[batched], single_g.dh0[alone], kSameMathAtol) << "dh0 layer " << k;
            if (p.lstm()) {
              EXPECT_NEAR(out.cn[batched], single_out.cn[alone], kSameMathAtol)
                  << "cn layer " << k;
              EXPECT_NEAR(g.dc0[batched], single_g.dc0[alone], kSameMathAtol)
                  << "dc0 layer " << k;
            }
          }
        }
        for (int k = 0; k < p.dims.layers; ++k) {
          const auto add = [](std::vector<double>& sum, const std::vector<double>& more) {
            for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += more[i];
          };
          add(summed.dweight_ih[k], single_g.dweight_ih[k]);
          add(summed.dweight_hh[k], single_g.dweight_hh[k]);
          add(summed.dbias_ih[k], single_g.dbias_ih[k]);
          add(summed.dbias_hh[k], single_g.dbias_hh[k]);
        }
      }
      summed.dx = g.dx;  // compared row by row above
      summed.dh0 = g.dh0;
      summed.dc0 = g.dc0;
      expect_gradients_equal(g, summed, kSameMathAtol, kSameMathRtol);
    }
  }
}

// Tokens at padded steps are never read: changing them changes nothing.
TEST(RnnCpu, PaddedTokensAreIgnored) {
  for (CellType cell : kCells) {
    SCOPED_TRACE(to_string(cell));
    RnnProblem<double> p = make_problem(cell, 1, 5, {5, 1, 3}, 61, true);
    const Upstream<double> up = random_upstream(p, 62);
    Workspace<double> workspace(p.dims);
    const Outputs<double> before = run_forward(p, workspace);
    const Gradients<double> g_before = forward_backward(p, up);
    for (int t = 0; t < p.dims.seq_len; ++t) {
      for (int b = 0; b < p.dims.batch; ++b) {
        if (t >= p.lengths[b]) p.tokens[t * p.dims.batch + b] = -1000;
      }
    }
    const Outputs<double> after = run_forward(p, workspace);
    expect_near(after.y, before.y, "y", 0.0, 0.0);
    expect_near(after.hn, before.hn, "hn", 0.0, 0.0);
    expect_gradients_equal(forward_backward(p, up), g_before, 0.0, 0.0);
  }
}

// Null h0 / c0 stand for zeros; null dy / dhn / dcn stand for zeros; null dx / dh0 / dc0 change
// no other result.
TEST(RnnCpu, NullPointersStandForZerosOrNotWanted) {
  for (CellType cell : kCells) {
    SCOPED_TRACE(to_string(cell));
    RnnProblem<double> with_zeros = make_problem(cell, 2, 5, {5, 1, 3}, 71);
    std::fill(with_zeros.h0.begin(), with_zeros.h0.end(), 0.0);
    std::fill(with_zeros.c0.begin(), with_zeros.c0.end(), 0.0);
    RnnProblem<double> with_nulls = with_zeros;
    with_nulls.h0.clear();
    with_nulls.c0.clear();

    Workspace<double> ws_zeros(with_zeros.dims), ws_nulls(with_nulls.dims);
    const Outputs<double> out_zeros = run_forward(with_zeros, ws_zeros);
    const Outputs<double> out_nulls = run_forward(with_nulls, ws_nulls);
    expect_near(out_nulls.y, out_zeros.y, "y", 0.0, 0.0);
    expect_near(out_nulls.hn, out_zeros.hn, "hn", 0.0, 0.0);
    expect_near(out_nulls.cn, out_zeros.cn, "cn", 0.0, 0.0);

    // Each upstream gradient on its own, against the others given as explicit zeros.
    const Upstream<double> up = random_upstream(with_zeros, 72);
    for (int which = 0; which < 3; ++which) {
      if (which == 2 && !with_zeros.lstm()) continue;
      SCOPED_TRACE("only upstream " + std::to_string(which));
      Upstream<double> zeros_given = up;
      Upstream<double> nulls_given = up;
      std::vector<double>* zero_targets[] = {&zeros_given.dy, &zeros_given.dhn, &zeros_given.dcn};
      std::vector<double>* null_targets[] = {&nulls_given.dy, &nulls_given.dhn, &nulls_given.dcn};
      for (int other = 0; other < 3; ++other) {
        if (other == which) continue;
        std::fill(zero_targets[other]->begin(), zero_targets[other]->end(), 0.0);
        null_targets[other]->clear();
      }
      const Gradients<double> g_zeros = forward_backward(with_zeros, zeros_given);
      const Gradients<double> g_nulls = forward_backward(with_nulls, nulls_given);
      expect_gradients_equal(g_nulls, g_zeros, 0.0, 0.0);
    }

    Gradients<double> unwanted = filled_gradients(with_zeros, 0.0);
    unwanted.dx.clear();
    unwanted.dh0.clear();
    unwanted.dc0.clear();
    run_forward(with_zeros, ws_zeros);
    run_backward(with_zeros, ws_zeros, up, GradMode::overwrite, unwanted);
    Gradients<double> all = forward_backward(with_zeros, up);
    all.dx.clear();
    all.dh0.clear();
    all.dc0.clear();
    expect_gradients_equal(unwanted, all, 0.0, 0.0);
  }
}

// The float instantiation computes the same function as the double one, through both copies of
// the float cell loops (portable, and AVX2+FMA where the CPU has it), at a hidden size below one
// vector (5) and one with full vectors and a remainder (37).
TEST(RnnCpu, FloatMatchesDouble) {
  for (bool avx2 : {false, true}) {
    const bool using_avx2 = s2s::cpu::allow_avx2_cells(avx2);
    if (avx2 && !using_avx2) {
      std::printf("FloatMatchesDouble: no AVX2+FMA on this CPU or build; portable copy only\n");
      continue;
    }
    for (int hidden : {kHiddenSize, 37}) {
      for (CellType cell : kCells) {
        for (bool one_hot : {false, true}) {
          SCOPED_TRACE(to_string(cell) + (one_hot ? " one-hot" : " dense") + " H " +
                       std::to_string(hidden) + (avx2 ? " avx2" : " portable"));
          const RnnProblem<double> p =
              make_problem(cell, 2, 5, {5, 1, 3}, 81, one_hot, 0, hidden);
          const RnnProblem<float> pf = cast_problem<float>(p);
          const Upstream<double> up = random_upstream(p, 82);
          const Upstream<float> upf = {cast_vector<float>(up.dy), cast_vector<float>(up.dhn),
                                       cast_vector<float>(up.dcn)};
          Workspace<double> ws(p.dims);
          Workspace<float> wsf(pf.dims);
          const Outputs<double> out = run_forward(p, ws);
          const Outputs<float> outf = run_forward(pf, wsf);
          expect_near(as_double(outf.y), out.y, "y", kFloatVsDoubleAtol, kFloatVsDoubleRtol);
          expect_near(as_double(outf.hn), out.hn, "hn", kFloatVsDoubleAtol, kFloatVsDoubleRtol);
          expect_near(as_double(outf.cn), out.cn, "cn", kFloatVsDoubleAtol, kFloatVsDoubleRtol);
          expect_gradients_equal(forward_backward(pf, upf), forward_backward(p, up),
                                 kFloatVsDoubleAtol, kFloatVsDoubleRtol);
        }
      }
    }
  }
  s2s::cpu::allow_avx2_cells(true);
}

// Shapes where T, B, H and In all differ from the ones above and from each other, so a swapped
// stride cannot hide; every call also checks the workspace guard band, and the workspace starts
// as NaN, so reading anything forward did not write would show.
TEST(RnnCpu, OddShapesMatchCentralDifferences) {
  for (CellType cell : kCells) {
    for (bool one_hot : {false, true}) {
      SCOPED_TRACE(to_string(cell) + (one_hot ? " one-hot" : " dense"));
      RnnProblem<double> p = make_problem(cell, 3, 7, {7, 2, 1, 6, 7}, 91, one_hot, 5, 6);
      check_gradients(p, 92);
    }
  }
}

}  // namespace
}  // namespace s2s::test
