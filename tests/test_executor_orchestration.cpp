// The recurrent stack's shared orchestration (host/rnn_stack.h) through an executor that
// emulates the CUDA one on the CPU (suite ExecutorCudaOnCpu): its GEMMs take cuBLAS' column-major
// arguments, exactly as the CUDA executor passes them to cublasSgemm, and run them on CBLAS
// column-major; its pointwise steps, final states and one-hot gather run the kernels' own
// per-thread bodies with the launchers' shapes (tests/kernel_emulation.h); its reductions sum
// in double as the kernels do. Compared with the CPU reference (float and float64) on random
// inputs, every cell, dense / one-hot / repeated input, one and three layers, padding, both
// gradient modes, odd shapes. No device needed: CI runs it.
#include <gtest/gtest.h>

#include <cblas.h>

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cpu/ops_cpu.h"
#include "kernel_emulation.h"
#include "kernels/gru_pointwise.h"
#include "kernels/launch_shape.h"
#include "kernels/lstm_pointwise.h"
#include "kernels/one_hot_projection.h"
#include "kernels/rnn_final_state.h"
#include "kernels/rnn_tanh_pointwise.h"
#include "rnn_stack.h"
#include "s2s/random.h"

namespace s2s::test {
namespace {

// The emulated CUDA path against the float64 reference: float storage, accurate expf/tanhf,
// double reductions; the same order of error as the GPU parity tests allow.
constexpr double kForwardAtol = 2e-5;
constexpr double kForwardRtol = 1e-4;
constexpr double kBackwardAtol = 1e-4;
constexpr double kBackwardRtol = 1e-3;

// The CUDA executor (host/cuda/cuda_rnn.cpp) with every device call replaced by its CPU
// emulation; the argument lists are the CUDA executor's.
class EmulatedCudaExecutor {
 public:
  using Scalar = float;

  // cublasSgemm(handle, op_a, op_b, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc), on CBLAS.
  void gemm(GemmOp op_a, GemmOp op_b, int m, int n, int k, float alpha, const float* a, int lda,
            const float* b, int ldb, float beta, float* c, int ldc) {
    ++gemm_calls;
    cblas_sgemm(CblasColMajor, op_a == GemmOp::t ? CblasTrans : CblasNoTrans,
                op_b == GemmOp::t ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
  }
  void copy(float* destination, const float* source, std::size_t elements) {
    for (std::size_t i = 0; i < elements; ++i) destination[i] = source[i];
  }
  void zero(float* destination, std::size_t elements) {
    for (std::size_t i = 0; i < elements; ++i) destination[i] = 0.0f;
  }

  void one_hot_gather(const float* weight_ih, const std::int32_t* tokens,
                      const std::int32_t* lengths, int steps, int B, int V, int GH,
                      float* gates) {
    const std::size_t rows = static_cast<std::size_t>(steps) * B;
    emulate_gather_tiles(cuda::one_hot_gather_shape(rows, GH), rows, GH,
                         [&](std::size_t row, int g) {
                           const int t = static_cast<int>(row / B);
                           if (t >= lengths[row % B]) return;
                           gates[row * GH + g] =
                               cuda::one_hot_gather_element(weight_ih, V, tokens[row], g);
                         });
  }
  // The kernels' semantics: per token, the rows of its real positions summed in position order
  // in double, then added once to its column.
  void one_hot_scatter(const std::int32_t* tokens, const std::int32_t* lengths, int steps, int B,
                       int V, int GH, const float* dgates, float* dweight_ih, bool accumulate) {
    std::vector<double> sums(static_cast<std::size_t>(GH) * V, 0.0);
    for (int t = 0; t < steps; ++t)
      for (int b = 0; b < B; ++b) {
        if (t >= lengths[b]) continue;
        const std::size_t row = static_cast<std::size_t>(t) * B + b;
        for (int g = 0; g < GH; ++g)
          sums[static_cast<std::size_t>(g) * V + tokens[row]] += dgates[row * GH + g];
      }
    for (std::size_t i = 0; i < sums.size(); ++i)
      dweight_ih[i] = (accumulate ? dweight_ih[i] : 0.0f) + static_cast<float>(sums[i]);
  }

  void lstm_forward(int B, int H, int t, const std::int32_t* lengths, const float* recurrent,
                    const float* b_ih, const float* b_hh, const float* c_prev, float* gates,
                    float* c_next, float* h_next) {
    const cuda::LstmForwardStep s{B, H, t, lengths, recurrent, b_ih, b_hh, c_prev, gates, c_next,
                                  h_next};
    launch(B, H, [&](int idx) { cuda::lstm_pointwise_forward_unit(s, idx); });
  }
  void gru_forward(int B, int H, int t, const std::int32_t* lengths, const float* recurrent,
                   const float* b_ih, const float* b_hh, const float* h_prev, float* gates,
                   float* hh_new, float* h_next) {
    const cuda::GruForwardStep s{B, H, t, lengths, recurrent, b_ih, b_hh, h_prev, gates, hh_new,
                                 h_next};
    launch(B, H, [&](int idx) { cuda::gru_pointwise_forward_unit(s, idx); });
  }
  void rnn_forward(int B, int H, int t, const std::int32_t* lengths, const float* recurrent,
                   const float* b_ih, const float* b_hh, float* gates, float* h_next) {
    const cuda::RnnTanhForwardStep s{B, H, t, lengths, recurrent, b_ih, b_hh, gates, h_next};
    launch(B, H, [&](int idx) { cuda::rnn_tanh_pointwise_forward_unit(s, idx); });
  }
  void lstm_backward(int B, int H, int t, const std::int32_t* lengths, const float* c_prev,
                     const float* c_now, const float* doutput, float* gates, float* dh_state,
                     float* dc_state) {
    const cuda::LstmBackwardStep s{B, H, t, lengths, c_prev, c_now, doutput, gates, dh_state,
                                   dc_state};
    launch(B, H, [&](int idx) { cuda::lstm_pointwise_backward_unit(s, idx); });
  }
  void gru_backward(int B, int H, int t, const std::int32_t* lengths, const float* h_prev,
                    const float* hh_new, const float* doutput, float* gates, float* dgates_hh,
                    float* dh_state) {
    const cuda::GruBackwardStep s{B, H, t, lengths, h_prev, hh_new, doutput, gates, dgates_hh,
                                  dh_state};
    launch(B, H, [&](int idx) { cuda::gru_pointwise_backward_unit(s, idx); });
  }
  void rnn_backward(int B, int H, int t, const std::int32_t* lengths, const float* doutput,
                    float* gates, float* dh_state) {
    const cuda::RnnTanhBackwardStep s{B, H, t, lengths, doutput, gates, dh_state};
    launch(B, H, [&](int idx) { cuda::rnn_tanh_pointwise_backward_unit(s, idx); });
  }
  void final_state(const float* state_seq, const std::int32_t* lengths, int B, int H,
                   float* out) {
    launch(B, H, [&](int idx) {
      cuda::rnn_final_state_unit(state_seq, lengths, B, H, out, idx);
    });
  }

  // column_sum_cuda's semantics: sums in double, one sum written to both outputs when the two
  // sides are the same array.
  void bias_gradients(const float* dgates, const float* dgates_hh, int rows, int width,
                      float* dbias_ih, float* dbias_hh, bool accumulate) {
    if (dgates_hh == dgates) {
      ++shared_bias_sums;
      column_sum(dgates, rows, width, dbias_ih, accumulate, dbias_hh);
      return;
    }
    column_sum(dgates, rows, width, dbias_ih, accumulate, nullptr);
    column_sum(dgates_hh, rows, width, dbias_hh, accumulate, nullptr);
  }
  void sum_steps(float* data, int steps, std::size_t step_size) {
    column_sum(data, steps, static_cast<int>(step_size), data, false, nullptr);
  }

  int gemm_calls = 0;
  int shared_bias_sums = 0;

 private:
  template <typename Body>
  void launch(int B, int H, Body&& body) {
    const std::size_t units = static_cast<std::size_t>(B) * H;
    emulate_grid_stride(cuda::grid_stride_shape(units), units, body);
  }
  static void column_sum(const float* data, int rows, int width, float* out, bool accumulate,
                         float* also_out) {
    std::vector<double> sums(width, 0.0);  // read everything first: out may be data's row 0
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < width; ++c) sums[c] += data[static_cast<std::size_t>(r) * width + c];
    for (int c = 0; c < width; ++c) {
      const float fresh = static_cast<float>(sums[c]);
      out[c] = accumulate ? out[c] + fresh : fresh;
      if (also_out != nullptr) also_out[c] = accumulate ? also_out[c] + fresh : fresh;
    }
  }
};

enum class InputKind { dense, one_hot, repeated };

struct Case {
  CellType cell;
  int layers, input_size, hidden, batch, steps;
  InputKind input;
  bool variable_lengths;
  GradMode mode;
};

std::string describe(const Case& c) {
  const char* input = c.input == InputKind::dense     ? "dense"
                      : c.input == InputKind::one_hot ? "one-hot"
                                                      : "repeated";
  return to_string(c.cell) + " L" + std::to_string(c.layers) + " In" +
         std::to_string(c.input_size) + " H" + std::to_string(c.hidden) + " B" +
         std::to_string(c.batch) + " T" + std::to_string(c.steps) + " " + input +
         (c.variable_lengths ? " padded" : "") +
         (c.mode == GradMode::accumulate ? " accumulate" : " overwrite");
}

void PrintTo(const Case& c, std::ostream* os) { *os << describe(c); }

// One problem in float64; run() converts it to the element type it computes in.
struct Problem {
  RnnDims dims;
  InputKind input = InputKind::dense;
  GradMode mode = GradMode::overwrite;
  std::vector<std::vector<double>> weights;  // per layer: w_ih, w_hh, b_ih, b_hh
  std::vector<std::vector<double>> grads;    // starting gradients (accumulate mode adds)
  std::vector<double> x, h0, c0, dy, dhn, dcn;
  std::vector<std::int32_t> tokens, lengths;
};

Problem make_problem(const Case& c, Rng& rng) {
  Problem p;
  p.dims = RnnDims{c.cell, c.layers, c.input_size, c.hidden, c.steps, c.batch};
  p.input = c.input;
  p.mode = c.mode;
  const std::size_t G = static_cast<std::size_t>(gate_count(c.cell)) * c.hidden;
  const double bound = 1.0 / std::sqrt(static_cast<double>(c.hidden));
  auto random = [&](std::size_t n, double b) {
    std::vector<double> v(n);
    for (double& e : v) e = rng.uniform(-b, b);
    return v;
  };
  for (int k = 0; k < c.layers; ++k) {
    const std::size_t in = k == 0 ? c.input_size : c.hidden;
    for (const std::size_t n : {G * in, G * c.hidden, G, G}) {
      p.weights.push_back(random(n, bound));
      p.grads.push_back(c.mode == GradMode::accumulate ? random(n, 1.0)
                                                       : std::vector<double>(n, 0.0));
    }
  }
  p.lengths.assign(c.batch, c.steps);
  if (c.variable_lengths)
    for (auto& l : p.lengths) l = 1 + static_cast<std::int32_t>(rng.below(c.steps));
  const std::size_t rows = static_cast<std::size_t>(c.steps) * c.batch;
  const std::size_t state = static_cast<std::size_t>(c.layers) * c.batch * c.hidden;
  if (c.input == InputKind::one_hot) {
    p.tokens.resize(rows);
    for (std::size_t r = 0; r < rows; ++r)
      p.tokens[r] = static_cast<std::int32_t>(rng.below(c.input_size));
  } else {
    p.x = random((c.input == InputKind::repeated ? c.batch : rows) * c.input_size, 1.0);
  }
  p.h0 = random(state, 0.5);
  p.c0 = random(state, 0.5);
  p.dy = random(rows * c.hidden, 1.0);
  p.dhn = random(state, 1.0);
  p.dcn = random(state, 1.0);
  return p;
}

// Every output of a forward and backward pass, as float64.
struct Result {
  std::vector<double> y, hn, cn, dx, dh0, dc0;
  std::vector<std::vector<double>> grads;
};

template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <typename T>
std::vector<double> widen(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// forward(w, input, h0, c0, y, hn, cn, ws) and backward(...) run one backend's stack.
template <typename T, typename Forward, typename Backward>
Result run(const Problem& p, Forward&& forward, Backward&& backward) {
  const RnnDims& d = p.dims;
  const bool lstm = d.cell == CellType::lstm;
  const std::size_t rows = static_cast<std::size_t>(d.seq_len) * d.batch;
  const std::size_t state = static_cast<std::size_t>(d.layers) * d.batch * d.hidden_size;
  std::vector<std::vector<T>> weights, grads;
  for (const auto& w : p.weights) weights.push_back(as<T>(w));
  for (const auto& g : p.grads) grads.push_back(as<T>(g));
  std::vector<RnnLayerWeights<T>> w(d.layers);
  std::vector<RnnLayerGrads<T>> g(d.layers);
  for (int k = 0; k < d.layers; ++k) {
    w[k] = {weights[4 * k].data(), weights[4 * k + 1].data(), weights[4 * k + 2].data(),
            weights[4 * k + 3].data()};
    g[k] = {grads[4 * k].data(), grads[4 * k + 1].data(), grads[4 * k + 2].data(),
            grads[4 * k + 3].data()};
  }
  const std::vector<T> x = as<T>(p.x), h0 = as<T>(p.h0), c0 = as<T>(p.c0), dy = as<T>(p.dy),
                       dhn = as<T>(p.dhn), dcn = as<T>(p.dcn);
  RnnInput<T> input;
  if (p.input == InputKind::one_hot) input.tokens = p.tokens.data();
  else input.x = x.data();
  input.x_repeated = p.input == InputKind::repeated;
  std::vector<T> y(rows * d.hidden_size), hn(state), cn(lstm ? state : 0), dh0(state),
      dc0(lstm ? state : 0);
  std::vector<T> dx(p.input == InputKind::one_hot ? 0 : p.x.size());
  // NaN: whatever the forward leaves unwritten and the backward then reads shows up.
  std::vector<T> workspace(cpu::rnn_workspace_size_cpu(d), std::nan(""));
  auto ptr = [](std::vector<T>& v) { return v.empty() ? nullptr : v.data(); };
  forward(d, w.data(), input, p.lengths.data(), h0.data(), lstm ? c0.data() : nullptr, y.data(),
          hn.data(), ptr(cn), workspace.data());
  backward(d, w.data(), input, p.lengths.data(), dy.data(), dhn.data(),
           lstm ? dcn.data() : nullptr, ptr(dx), dh0.data(), ptr(dc0), g.data(), p.mode,
           workspace.data());
  Result r{widen(y), widen(hn), widen(cn), widen(dx), widen(dh0), widen(dc0), {}};
  for (const auto& grad : grads) r.grads.push_back(widen(grad));
  return r;
}

template <typename T>
Result run_cpu(const Problem& p) {
  return run<T>(
      p,
      [](const RnnDims& d, const RnnLayerWeights<T>* w, RnnInput<T> in, const std::int32_t* len,
         const T* h0, const T* c0, T* y, T* hn, T* cn, T* ws) {
        cpu::rnn_forward_cpu<T>(d, w, in, len, h0, c0, y, hn, cn, ws);
      },
      [](const RnnDims& d, const RnnLayerWeights<T>* w, RnnInput<T> in, const std::int32_t* len,
         const T* dy, const T* dhn, const T* dcn, T* dx, T* dh0, T* dc0,
         const RnnLayerGrads<T>* g, GradMode mode, T* ws) {
        cpu::rnn_backward_cpu<T>(d, w, in, len, nullptr, nullptr, dy, dhn, dcn, dx, dh0, dc0, g,
                                 mode, ws);
      });
}

Result run_emulated(const Problem& p, EmulatedCudaExecutor& ex) {
  return run<float>(
      p,
      [&](const RnnDims& d, const RnnLayerWeights<float>* w, RnnInput<float> in,
          const std::int32_t* len, const float* h0, const float* c0, float* y, float* hn,
          float* cn, float* ws) { rnn_stack_forward(ex, d, w, in, len, h0, c0, y, hn, cn, ws); },
      [&](const RnnDims& d, const RnnLayerWeights<float>* w, RnnInput<float> in,
          const std::int32_t* len, const float* dy, const float* dhn, const float* dcn,
          float* dx, float* dh0, float* dc0, const RnnLayerGrads<float>* g, GradMode mode,
          float* ws) {
        rnn_stack_backward(ex, d, w, in, len, dy, dhn, dcn, dx, dh0, dc0, g, mode, ws);
      });
}

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double atol,
                  double rtol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < got.size() && failures < 5; ++i) {
    const double tol = atol + rtol * std::abs(want[i]);
    if (!(std::abs(got[i] - want[i]) <= tol)) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
      ++failures;
    }
  }
}

void expect_results_close(const Result& got, const Result& want) {
  expect_close(got.y, want.y, kForwardAtol, kForwardRtol, "y");
  expect_close(got.hn, want.hn, kForwardAtol, kForwardRtol, "hn");
  expect_close(got.cn, want.cn, kForwardAtol, kForwardRtol, "cn");
  expect_close(got.dx, want.dx, kBackwardAtol, kBackwardRtol, "dx");
  expect_close(got.dh0, want.dh0, kBackwardAtol, kBackwardRtol, "dh0");
  expect_close(got.dc0, want.dc0, kBackwardAtol, kBackwardRtol, "dc0");
  static const char* const kNames[] = {"dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"};
  for (std::size_t i = 0; i < got.grads.size(); ++i)
    expect_close(got.grads[i], want.grads[i], kBackwardAtol, kBackwardRtol,
                 std::string(kNames[i % 4]) + "_l" + std::to_string(i / 4));
}

class ExecutorCudaOnCpu : public ::testing::TestWithParam<Case> {};

TEST_P(ExecutorCudaOnCpu, MatchesTheCpuReference) {
  const Case& c = GetParam();
  SCOPED_TRACE(describe(c));
  Rng rng(15000 + static_cast<std::uint64_t>(c.hidden) * 31 + c.steps);
  const Problem problem = make_problem(c, rng);
  EmulatedCudaExecutor executor;
  const Result emulated = run_emulated(problem, executor);
  // Against float64 (the gradient-checked reference) and against the CPU's float path.
  expect_results_close(emulated, run_cpu<double>(problem));
  expect_results_close(emulated, run_cpu<float>(problem));
  // LSTM and RNN layers have one gate gradient for both sides: one bias sum per layer.
  EXPECT_EQ(executor.shared_bias_sums, c.cell == CellType::gru ? 0 : c.layers);
}

constexpr CellType kLstm = CellType::lstm;
constexpr CellType kGru = CellType::gru;
constexpr CellType kRnn = CellType::rnn;
constexpr GradMode kOver = GradMode::overwrite;
constexpr GradMode kAcc = GradMode::accumulate;

// {cell, layers, In, H, B, T, input, variable lengths, mode}: every cell with every input kind,
// B = 1, H = 1 and H not a multiple of 32, one and three layers, both modes.
INSTANTIATE_TEST_SUITE_P(
    Shapes, ExecutorCudaOnCpu,
    ::testing::Values(Case{kLstm, 1, 1, 1, 1, 1, InputKind::dense, false, kOver},
                      Case{kLstm, 3, 7, 37, 5, 9, InputKind::dense, true, kAcc},
                      Case{kLstm, 2, 11, 33, 1, 23, InputKind::one_hot, true, kOver},
                      Case{kLstm, 1, 5, 64, 3, 6, InputKind::repeated, true, kAcc},
                      Case{kGru, 1, 3, 1, 2, 4, InputKind::dense, true, kOver},
                      Case{kGru, 3, 13, 37, 4, 8, InputKind::one_hot, true, kAcc},
                      Case{kGru, 2, 6, 33, 5, 7, InputKind::repeated, false, kOver},
                      Case{kRnn, 1, 9, 65, 1, 2001, InputKind::dense, false, kOver},
                      Case{kRnn, 3, 4, 31, 6, 5, InputKind::one_hot, true, kAcc},
                      Case{kRnn, 1, 8, 17, 3, 12, InputKind::repeated, true, kOver}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = describe(info.param);
      for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

// The CUDA executor's GEMM mapping, on its own: gemm_row_major's swap reproduces CBLAS'
// row-major products for every transpose combination at odd sizes.
TEST(ExecutorGemmMapping, RowMajorProductsThroughColumnMajorArguments) {
  Rng rng(1510);
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      const int m = 7, n = 33, k = 5;
      const int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
      std::vector<float> a(static_cast<std::size_t>(m) * k), b(static_cast<std::size_t>(k) * n),
          c(static_cast<std::size_t>(m) * n);
      for (float& v : a) v = static_cast<float>(rng.uniform(-1, 1));
      for (float& v : b) v = static_cast<float>(rng.uniform(-1, 1));
      for (float& v : c) v = static_cast<float>(rng.uniform(-1, 1));
      std::vector<float> want = c, got = c;
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                  m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 0.25f, want.data(), ldc);
      EmulatedCudaExecutor ex;
      gemm_row_major(ex, ta, tb, m, n, k, 0.5f, a.data(), lda, b.data(), ldb, 0.25f, got.data(),
                     ldc);
      EXPECT_EQ(ex.gemm_calls, 1);
      expect_close(widen(got), widen(want), 1e-6, 1e-6,
                   std::string("trans_a ") + (ta ? "1" : "0") + " trans_b " + (tb ? "1" : "0"));
    }
}

}  // namespace
}  // namespace s2s::test
